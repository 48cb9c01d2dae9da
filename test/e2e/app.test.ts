/**
 * End to end: the built renderer in Chromium against the real web bridge (src-main/serve) and the
 * real AppService on the testbed's Docker daemon. Models lists the bundled zoo, models picked by
 * tag are built (NONE / UBUNTU) with a live build log, then run with a live run log, and the
 * results table shows SUCCESS rows. Bad input: a folder that is not a MAD root, invalid context
 * JSON, a Docker daemon that is not there. Screenshots go to test-results/screenshots/.
 *
 * The server is the real `madengine-cli serve` (bin/madengine-cli, so `npm run build` first), a
 * child process with the testbed's DOCKER_HOST; it serves dist/renderer, which this test builds.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";
import { type Browser, launchBrowser, SCREENSHOT_DIR, watchCspViolations } from "./helpers/browser.js";
import { absent, hasAttribute, hasCount, hasText, visible } from "./helpers/expectations.js";
import { buildRenderer } from "./helpers/pages.js";
import { type Served, startServe, stopServe } from "./helpers/serve.js";

const RENDERER_DIR = path.resolve("dist/renderer");
const ZOO_MODELS = 10;
const DUMMIES = [
  "dummy",
  "dummy_multi",
  "dummy_args",
  "family/model_a",
  "family/model_b",
  "dynamic/gen_small",
  "dynamic/gen_large",
];

let testbed: Testbed;
let scratch: string;
let browser: Browser;
let page: Page;
let cspViolations: () => Promise<string[]>;
let live: Served;

async function shot(name: string): Promise<void> {
  await page.evaluate("window.scrollTo(0, 0)"); // sticky bars sit where they belong in a full-page shot
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `app-${name}.png`), fullPage: true });
}

const panel = (id: string) => page.locator(`#panel-${id}`);

/** Waits until the job's log shows lines while the job still runs (true), or the job ends first (false). */
async function watchLiveLog(job: Locator): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [state, count] = await Promise.all([
      job.getAttribute("data-job-state"),
      job.locator(".log-viewer .log-count").textContent(),
    ]);
    const lines = Number((count ?? "0").replace(/\D/g, ""));
    if (state === "running" && lines > 0) return true;
    if (state !== "running" && state !== null) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

beforeAll(async () => {
  testbed = loadTestbed(); // throws (the test fails) when the testbed is not up
  scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-e2e-app-"));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await buildRenderer(RENDERER_DIR); // what serve serves: the current renderer
  live = await startServe({ dockerHost: testbed.dockerHost, workspace: path.join(scratch, "live") });
  browser = await launchBrowser();
  page = await browser.newPage();
  cspViolations = await watchCspViolations(page);
});

afterAll(async () => {
  await browser?.close();
  await stopServe(live);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("the app against madengine-cli serve on the testbed", () => {
  it("opens on the Models screen with the bundled zoo and Docker up", async () => {
    await page.goto(live.url);
    expect(page.url()).not.toContain("token");
    await hasText(page.getByTestId("connection-state"), /^Connected/);
    await hasText(page.getByTestId("docker-state"), /^Docker /);
    expect(await page.getByTestId("docker-state").textContent()).not.toBe("Docker down");
    const models = panel("models");
    await hasCount(models.locator("tbody tr"), ZOO_MODELS);
    await hasText(models.locator(".zoo-root code"), /zoo$/);
    await models.getByRole("button", { name: "dynamic/gen_small", exact: true }).click();
    const details = await models.getByRole("complementary", { name: "Model details" }).textContent();
    expect(details).toContain("--size small");
    expect(details).toContain("get_models_json.py");
    await shot("models");
  });

  it("a folder that is not a MAD root shows the file at fault", async () => {
    const models = panel("models");
    const empty = path.join(scratch, "not-a-mad-root");
    await mkdir(empty, { recursive: true });
    await models.getByLabel("MAD root", { exact: true }).fill(empty);
    await models.getByRole("button", { name: "Open", exact: true }).click();
    const error = models.getByRole("alert");
    await visible(error);
    await hasText(error.locator(".error-file"), new RegExp(`${empty}/models\\.json`));
    await shot("models-not-a-mad-root");
    await error.getByRole("button", { name: "Open the bundled zoo" }).click();
    await hasCount(models.locator("tbody tr"), ZOO_MODELS);
  });

  it("selects the zoo's dummies by tag; invalid context JSON is shown inline", async () => {
    const models = panel("models");
    await models.getByRole("button", { name: /^dummies\b/ }).click();
    await hasCount(models.locator("tbody tr"), DUMMIES.length);
    await models.getByRole("checkbox", { name: "Select all models shown" }).check();
    await hasText(models.getByTestId("selection-count"), new RegExp(`^${DUMMIES.length} selected`));
    await models.getByRole("button", { name: "Build selected…" }).click();

    const build = panel("build");
    await visible(build);
    await build.getByLabel("GPU vendor").selectOption("NONE");
    await build.getByLabel("Guest OS").selectOption("UBUNTU");
    const json = build.getByLabel(/More context/);
    await json.fill('{"docker_env_vars": {"A": "1"}');
    await hasText(build.getByTestId("context-error"), /not valid JSON/);
    await hasAttribute(json, "aria-invalid", "true");
    expect(await build.getByRole("button", { name: /^Build \d+ models$/ }).isDisabled()).toBe(true);
    await shot("build-invalid-context");
    await json.fill('{"gpu_vendor": "AMDX"}');
    await hasText(build.getByTestId("context-error"), /gpu_vendor/);
    await json.fill("{}");
    await visible(build.getByTestId("context-ok"));
  });

  it("builds them with a live build log and shows the manifest", async () => {
    const build = panel("build");
    // without the cache every image really builds, so there is build output to watch
    await build.getByLabel("Rebuild without the Docker cache").check();
    // pushed to the testbed's registry, so the manifest can be exported to run on other machines
    await build.getByLabel(/^Registry/).fill(testbed.registry);
    await build.getByRole("button", { name: `Build ${DUMMIES.length} models` }).click();
    const job = build.locator(".job-view");
    await visible(job);
    expect(await watchLiveLog(job)).toBe(true);
    await shot("build-running");
    await expect.poll(() => job.getAttribute("data-job-state"), { timeout: 180_000 }).toBe("succeeded");
    await hasCount(job.locator(".items-table tbody tr"), DUMMIES.length);
    const manifest = build.getByRole("region", { name: "Build manifest" });
    await visible(manifest);
    await hasCount(manifest.locator(".manifest-table tbody tr"), DUMMIES.length);
    await shot("build-done");
  });

  it("runs the manifest with a live run log and shows SUCCESS results", async () => {
    await panel("build").getByRole("button", { name: "Run this manifest…" }).click();
    const run = panel("run");
    await visible(run);
    expect(await run.getByLabel("Manifest file").inputValue()).toMatch(/build_manifest\.json$/);
    await run.getByLabel("Timeout (s)").fill("120");
    await run.getByRole("button", { name: "Run", exact: true }).click();
    const job = run.locator(".job-view");
    await visible(job);
    const log = job.locator(".log-viewer");
    expect(await watchLiveLog(job)).toBe(true);
    await expect.poll(() => job.getAttribute("data-job-state"), { timeout: 180_000 }).toBe("succeeded");
    const results = run.getByRole("region", { name: "Results" });
    await visible(results);
    await expect.poll(() => results.locator("tbody tr").count()).toBeGreaterThanOrEqual(DUMMIES.length);
    const statuses = await results
      .locator("tbody tr")
      .evaluateAll((rows) => rows.map((row) => (row as { dataset: { status?: string } }).dataset.status));
    expect(new Set(statuses)).toEqual(new Set(["SUCCESS"]));
    // a model's run log holds its performance line
    await log.getByRole("searchbox").fill("performance:");
    await hasText(log.locator(".log-match-count"), /^1 of \d+/);
    await log.getByRole("searchbox").fill("");
    await shot("run-results");

    await page.keyboard.press("Alt+4");
    await hasCount(panel("jobs").locator("tbody tr"), 2);
    await shot("jobs");
  });

  it("exports the built manifest: Kubernetes preview, Ansible saved", async () => {
    await page.keyboard.press("Alt+5");
    const exp = panel("export");
    await visible(exp);
    await exp.getByLabel("Target").selectOption("k8s");
    // the manifest of the finished build is offered first
    const manifestFile = await exp.getByLabel("Manifest file").inputValue();
    expect(manifestFile).toMatch(/build_manifest\.json$/);
    await exp.getByLabel("Namespace").fill("bench");
    await exp
      .getByLabel(/Context overrides/)
      .fill('{"gpu_vendor": "NVIDIA", "docker_env_vars": {"MAD_SYSTEM_NGPUS": 4}}');
    await exp.getByRole("button", { name: "Preview" }).click();
    const job = exp.getByRole("article", { name: "k8s-madengine-job.yaml" });
    await visible(job.or(exp.getByRole("alert")));
    // an error would say why (e.g. a manifest whose images were not pushed)
    expect(await exp.getByRole("alert").allTextContents()).toEqual([]);
    const jobText = (await job.locator(".code-view").textContent()) ?? "";
    expect(jobText).toContain("kind: Job");
    expect(jobText).toContain("nvidia.com/gpu");
    expect(jobText).toContain("namespace: bench");
    await visible(exp.getByRole("article", { name: "k8s-madengine-configmap.yaml" }));
    await shot("export-k8s");

    // a broken option comes back as an error of the form
    await exp.getByLabel("Namespace").fill("Not_Valid");
    await exp.getByRole("button", { name: "Preview" }).click();
    await hasText(exp.getByRole("alert").locator(".error-message"), /Not_Valid/);
    await exp.getByLabel("Namespace").fill("bench");

    // Ansible: the browser saves by download; the engine saves into a folder
    await exp.getByLabel("Target").selectOption("ansible");
    await exp.getByRole("button", { name: "Preview" }).click();
    const playbook = exp.getByRole("article", { name: "madengine_distributed.yml" });
    await visible(playbook);
    const saveDir = path.join(scratch, "export-ansible");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      playbook.getByRole("button", { name: "Download madengine_distributed.yml" }).click(),
    ]);
    await download.saveAs(path.join(saveDir, "downloaded", download.suggestedFilename()));
    expect(existsSync(path.join(saveDir, "downloaded", "madengine_distributed.yml"))).toBe(true);
    const saved = (await page.evaluate(
      async ([file, dir]) => {
        const response = await fetch("/api/call/export.save", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ target: "ansible", manifestFile: file, options: {}, outputDir: dir }),
        });
        return response.json();
      },
      [manifestFile, saveDir] as const,
    )) as { ok: boolean; result: { written: string[] } };
    expect(saved.ok).toBe(true);
    expect(saved.result.written.map((file) => path.basename(file)).sort()).toEqual([
      "madengine_distributed.yml",
      "madengine_files.tar.gz",
    ]);
    for (const file of saved.result.written) expect(existsSync(file)).toBe(true);
    // both name the hosts group (the run id in a comment differs: each generation labels its own run)
    for (const file of [
      path.join(saveDir, "madengine_distributed.yml"),
      path.join(saveDir, "downloaded", "madengine_distributed.yml"),
    ]) {
      expect(readFileSync(file, "utf8")).toContain("hosts: gpu_nodes");
    }
  });

  it("needed no Content-Security-Policy exception", async () => {
    expect(await cspViolations()).toEqual([]);
  });
});

describe("the app when the Docker daemon is not there", () => {
  let down: Served | undefined;
  afterAll(async () => stopServe(down));

  it("shows a banner with the fix and stays usable", async () => {
    down = await startServe({
      dockerHost: `unix://${path.join(scratch, "no-such-dir", "docker.sock")}`,
      workspace: path.join(scratch, "down"),
    });
    await page.goto(down.url);
    const banner = page.getByTestId("docker-banner");
    await visible(banner);
    await hasText(banner.locator(".banner-hint").first(), /DOCKER_HOST/);
    await hasText(page.getByTestId("docker-state"), "Docker down");
    // discovery and context checks need no Docker
    await hasCount(panel("models").locator("tbody tr"), ZOO_MODELS);
    await shot("docker-down-models");
    await page.keyboard.press("Alt+2");
    const build = panel("build");
    await visible(build.getByText("Docker is not reachable: the build will fail until it is back."));
    await build.getByLabel(/More context/).fill('{"docker_env_vars": {"A": "1"}}');
    await visible(build.getByTestId("context-ok"));
    await shot("docker-down-build");
    await page.keyboard.press("Alt+4");
    await visible(panel("jobs").getByText("No jobs yet."));
    await absent(page.getByText("Lost the live connection to the engine."));
  });
});
