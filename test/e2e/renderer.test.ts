/**
 * The real renderer (vite build of src-renderer, strict CSP) in Chromium, against a fake web bridge
 * that speaks the `madengine-cli serve` protocol with canned data (helpers/fakeBridge.ts). Covers
 * the contract client (token, cookie, reconnect, gap filling, malformed events), the forms
 * (context validation) and every screen's states. The same flows against the real engine are in
 * app.test.ts.
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchBrowser, SCREENSHOT_DIR, watchCspViolations } from "./helpers/browser.js";
import { absent, hasAttribute, hasCount, hasText, visible } from "./helpers/expectations.js";
import { type FakeBridge, startFakeBridge } from "./helpers/fakeBridge.js";
import { buildRenderer } from "./helpers/pages.js";

const FIXTURE_ROOT = path.resolve("test/fixtures/mad");
let browser: Browser;
let fake: FakeBridge;
let page: Page;
let cspViolations: () => Promise<string[]>;
let badRoot: string;
let brokenJsonRoot: string;

async function shot(name: string): Promise<void> {
  await page.evaluate("window.scrollTo(0, 0)"); // sticky bars sit where they belong in a full-page shot
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `fake-${name}.png`), fullPage: true });
}

const callsNamed = (name: string) => fake.calls.filter((call) => call.name === name);
const panel = (id: string) => page.locator(`#panel-${id}`);

beforeAll(async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-e2e-roots-"));
  badRoot = path.join(scratch, "bad");
  brokenJsonRoot = path.join(scratch, "broken");
  await mkdir(badRoot);
  await mkdir(brokenJsonRoot);
  await writeFile(
    path.join(badRoot, "models.json"),
    JSON.stringify([
      { name: "ok", dockerfile: "docker/x", scripts: "scripts/x/run.sh", n_gpus: "1", tags: ["a"] },
      { name: "bad", dockerfile: "docker/x", scripts: "scripts/x/run.sh", n_gpus: 2, tags: ["a"] },
    ]),
  );
  await writeFile(
    path.join(brokenJsonRoot, "models.json"),
    '[\n  {"name": "x",\n   "dockerfile": "d"\n  ,,\n]\n',
  );
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const staticDir = await buildRenderer();
  fake = await startFakeBridge({ staticDir, readableRoots: [FIXTURE_ROOT, badRoot, brokenJsonRoot] });
  browser = await launchBrowser();
  page = await browser.newPage();
  cspViolations = await watchCspViolations(page);
});

afterAll(async () => {
  await browser?.close();
  await fake?.close();
});

describe("renderer against a fake web bridge", () => {
  it("refuses a page without the token and says how to open the app", async () => {
    await page.goto(fake.url);
    const error = page.getByRole("alert").filter({ hasText: "cannot be read as a MAD root" });
    await visible(error);
    await hasText(error.locator(".error-code"), "UNAUTHORIZED");
    await hasText(error.locator(".error-hint"), /open the address printed by `madengine-cli serve`/);
  });

  it("opens with ?token=, strips it from the address and then authenticates by cookie", async () => {
    await page.goto(`${fake.url}?token=${fake.token}`);
    await hasText(page.getByTestId("connection-state"), /^Connected/);
    expect(page.url()).not.toContain("token");
    await hasCount(panel("models").locator("tbody tr"), 10);
    // a reload carries no token in the address: the HttpOnly cookie is enough
    await page.reload();
    await hasText(page.getByTestId("connection-state"), /^Connected/);
    await hasCount(panel("models").locator("tbody tr"), 10);
    expect(await page.evaluate("document.cookie")).toBe(""); // HttpOnly: not readable by scripts
  });

  it("Models: tag chips, multi-select, details pane", async () => {
    const models = panel("models");
    await models.getByRole("button", { name: /^dummies/ }).click();
    await hasCount(models.locator("tbody tr"), 7);
    await models.getByRole("checkbox", { name: "Select all models shown" }).check();
    await hasText(models.getByTestId("selection-count"), /^7 selected: dummy, dummy_multi, dummy_args/);
    await models.getByRole("button", { name: /^dummies/ }).click(); // filter off
    await hasCount(models.locator("tbody tr"), 10);
    await models.getByRole("button", { name: "dummy_sleep", exact: true }).click();
    const details = models.getByRole("complementary", { name: "Model details" });
    await hasText(details.locator("h3"), "dummy_sleep");
    const text = await details.textContent();
    expect(text).toContain("Timeout3 s");
    expect(text).toContain("Arguments300");
    expect(text).toContain("scripts/dummy/run_sleep.sh");
    expect(text).toContain("/fake/zoo/models.json");
    await shot("models");
  });

  it("Models: the 37-model fixture renders; bad roots show file, line and field", async () => {
    const models = panel("models");
    const root = models.getByLabel("MAD root", { exact: true });
    await root.fill(FIXTURE_ROOT);
    // a browser has no folder picker: the path field is the way
    expect(await models.getByRole("button", { name: "Browse…" }).count()).toBe(0);
    await models.getByRole("button", { name: "Open", exact: true }).click();
    await hasCount(models.locator("tbody tr"), 37);
    await models.getByRole("button", { name: /^vllm/ }).click();
    await visible(models.locator("tbody tr").first());
    await shot("models-fixture");

    await root.fill(path.join(os.tmpdir(), "surely-not-a-mad-root"));
    await models.getByRole("button", { name: "Open", exact: true }).click();
    const error = models.getByRole("alert");
    await hasText(error.locator(".error-code"), "FILE_NOT_FOUND");
    await hasText(error.locator(".error-file"), /surely-not-a-mad-root\/models\.json$/);
    await visible(error.getByText(/pick the folder that holds models\.json/));

    await root.fill(badRoot);
    await models.getByRole("button", { name: "Open", exact: true }).click();
    await hasText(error.locator(".error-path"), "[1].n_gpus");
    await hasText(error.locator(".error-file"), path.join(badRoot, "models.json"));
    await hasText(
      error.locator(".error-message"),
      /\[1\]\.n_gpus: expected a value of type string, found number 2/,
    );
    await shot("models-error");

    await root.fill(brokenJsonRoot);
    await models.getByRole("button", { name: "Open", exact: true }).click();
    await hasText(error.locator(".error-path"), /^line 4, column \d+/);

    await error.getByRole("button", { name: "Open the bundled zoo" }).click();
    await hasCount(models.locator("tbody tr"), 10);
    await absent(models.getByRole("alert"));
  });

  it("Build: the context JSON is validated live, with the error inline", async () => {
    const models = panel("models");
    await models.getByRole("button", { name: /^dummies/ }).click();
    await models.getByRole("checkbox", { name: "Select all models shown" }).check();
    await page.keyboard.press("Alt+2");
    const build = panel("build");
    await visible(build);
    await hasText(build.getByTestId("build-models"), /dummy/);
    const json = build.getByLabel(/More context/);
    const submit = build.getByRole("button", { name: /^Build 7 models$/ });

    await json.fill('{"docker_env_vars": {"A": "1"},}');
    const error = build.getByTestId("context-error");
    await hasText(error, /not valid JSON at line 1, column \d+/);
    await hasAttribute(json, "aria-invalid", "true");
    expect(await submit.isDisabled()).toBe(true);
    await shot("build-context-error");

    await json.fill('{"docker_gpus": "all of them"}');
    await hasText(error, /docker_gpus/);
    expect(await submit.isDisabled()).toBe(true);

    await json.fill('{\n  "docker_env_vars": {"A": "1"}\n}');
    await visible(build.getByTestId("context-ok"));
    await hasAttribute(json, "aria-invalid", null);
    expect(await submit.isDisabled()).toBe(false);
  });

  it("Build: progress rows, the live log (gaps and reconnects filled), the manifest", async () => {
    const build = panel("build");
    await build.getByRole("button", { name: /^Build 7 models$/ }).click();
    await expect.poll(() => callsNamed("build.start").length).toBe(1);
    const request = callsNamed("build.start")[0]!.args as { tags: string[]; context: string };
    expect(request.tags).toEqual([
      "dummy",
      "dummy_multi",
      "dummy_args",
      "family/model_a",
      "family/model_b",
      "dynamic/gen_small",
      "dynamic/gen_large",
    ]);
    expect(JSON.parse(request.context)).toEqual({
      docker_env_vars: { A: "1" },
      gpu_vendor: "NONE",
      guest_os: "UBUNTU",
    });
    const job = [...fake.jobs.values()].find((each) => each.summary.kind === "build")!;
    const id = job.summary.id;
    await hasCount(build.locator(".items-table tbody tr"), 7);

    fake.updateJob(id, {}, [
      { key: "ci-dummy", label: "ci-dummy_dummy.ubuntu.none", state: "building", detail: "step 2/4" },
      ...job.items.slice(1),
    ]);
    await hasText(build.locator('[data-item="ci-dummy"] .state'), "building");
    fake.pushLines(id, "dummy", [
      "Step 1/4 : ARG BASE_DOCKER",
      "\x1b[32mStep 2/4\x1b[0m : FROM $BASE_DOCKER",
    ]);
    const log = build.locator(".log-viewer");
    await hasText(log.locator(".log-count"), "2 lines");
    await hasText(log.locator(".ansi-fg-2"), "Step 2/4");

    // lines dropped under back-pressure: the next event starts past our last line
    fake.pushLines(
      id,
      "dummy",
      Array.from({ length: 50 }, (_, i) => `dropped line ${i}`),
      { emit: false },
    );
    fake.pushLines(id, "dummy", ["after the gap"]);
    await hasText(log.locator(".log-count"), "53 lines");
    const readsAfterGap = callsNamed("logs.read").length;
    expect(readsAfterGap).toBeGreaterThan(1);
    const lastRows = await log.locator(".log-row .log-text").allTextContents();
    expect(lastRows.slice(-2)).toEqual(["dropped line 49", "after the gap"]);

    // the event socket drops; lines written meanwhile come back through logs.read
    fake.dropSockets(1200);
    await hasText(page.getByTestId("connection-state"), /^Reconnecting/);
    await visible(page.getByText("Lost the live connection to the engine."));
    await shot("build-reconnecting");
    fake.pushLines(id, "dummy", ["written while the socket was down"]);
    await hasText(page.getByTestId("connection-state"), /^Connected/, 20_000);
    await hasText(log.locator(".log-count"), "54 lines");
    await hasText(log.locator(".log-row .log-text").last(), "written while the socket was down");

    // malformed events are dropped, not fatal
    fake.emitRaw({ event: "log.lines", payload: { jobId: 42 } });
    fake.emitRaw({ nonsense: true });
    fake.emitRaw({ event: "job.updated", payload: { job: { id } } });
    fake.pushLines(id, "dummy", ["still alive"]);
    await hasText(log.locator(".log-count"), "55 lines");

    fake.updateJob(id, { state: "succeeded", endedAt: new Date().toISOString(), exitCode: 0 }, [
      { key: "ci-dummy", label: "ci-dummy_dummy.ubuntu.none", state: "built", durationSec: 1.5 },
    ]);
    const manifest = build.getByRole("region", { name: "Build manifest" });
    await visible(manifest);
    await hasText(manifest.locator("tbody tr td").first(), "ci-dummy_dummy.ubuntu.none");
    await shot("build-done");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      manifest.getByRole("button", { name: "Download manifest" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("build_manifest.json");
    const saved = JSON.parse(await readFile((await download.path())!, "utf8")) as { built_images: object };
    expect(Object.keys(saved.built_images)).toEqual(["ci-dummy_dummy.ubuntu.none"]);
  });

  it("Run: manifest handed over, per-model rows, cancel, results table", async () => {
    await panel("build").getByRole("button", { name: "Run this manifest…" }).click();
    const run = panel("run");
    await visible(run);
    expect(await run.getByLabel("Manifest file").inputValue()).toBe("/fake/jobs/build_manifest.json");
    await run.getByLabel("Timeout (s)").fill("-3");
    expect(await run.getByRole("button", { name: "Run", exact: true }).isDisabled()).toBe(true);
    await run.getByLabel("Timeout (s)").fill("120");
    await run.getByRole("button", { name: "Run", exact: true }).click();
    await expect.poll(() => callsNamed("run.start").length).toBe(1);
    expect(callsNamed("run.start")[0]!.args).toEqual({
      manifestFile: "/fake/jobs/build_manifest.json",
      timeoutSec: 120,
    });
    const first = [...fake.jobs.values()].find((each) => each.summary.kind === "run")!;
    fake.updateJob(first.summary.id, {}, [{ key: "dummy", label: "dummy", state: "running" }]);
    fake.pushLines(first.summary.id, "dummy", ["performance: 1234 samples_per_second"]);
    await hasText(run.locator(".log-count"), "1 line");
    await run.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => callsNamed("jobs.cancel").length).toBe(1);
    await hasText(run.locator(".job-header .state"), "cancelled");

    fake.handle("results.forJob", () => ({
      rows: [
        perfRow("dummy", "SUCCESS", "1234", "samples_per_second"),
        perfRow("dummy_fail", "FAILURE", "", ""),
      ],
    }));
    await run.getByRole("button", { name: "Run", exact: true }).click();
    await expect.poll(() => callsNamed("run.start").length).toBe(2);
    const second = [...fake.jobs.values()].filter((each) => each.summary.kind === "run")[1]!;
    await hasText(run.locator(".job-title"), second.summary.title);
    fake.pushLines(second.summary.id, "dummy", ["performance: 1234 samples_per_second"]);
    fake.updateJob(second.summary.id, { state: "failed", endedAt: new Date().toISOString(), exitCode: 3 }, [
      {
        key: "dummy",
        label: "dummy",
        state: "succeeded",
        detail: "1234 samples_per_second",
        durationSec: 0.4,
      },
      { key: "dummy_fail", label: "dummy_fail", state: "failed", detail: "exit 3" },
    ]);
    const results = run.getByRole("region", { name: "Results" });
    await hasCount(results.locator("tbody tr"), 2);
    await hasCount(results.locator('tr[data-status="SUCCESS"]'), 1);
    await shot("run-results");

    // the job list switches between jobs
    await page.keyboard.press("Alt+4");
    const jobs = panel("jobs");
    await hasCount(jobs.locator("tbody tr"), 3);
    await shot("jobs");
    await jobs.locator(`tr[data-job="${first.summary.id}"]`).getByRole("button").click();
    await visible(run);
    await hasText(run.locator(".job-header .state"), "cancelled");

    // "Run selected…" on the Models screen switches the Run screen to the selection
    await page.keyboard.press("Alt+1");
    await panel("models").getByRole("button", { name: "Run selected…" }).click();
    await visible(run);
    expect(await run.getByLabel(/The current selection/).isChecked()).toBe(true);
    await hasText(
      run.getByText("Choose the GPU vendor and guest OS: the selection is built first."),
      /Choose/,
    );
    await run.getByLabel("A build manifest").check();
  });

  it("keyboard: Alt+1..7 and arrow keys move between screens", async () => {
    await page.keyboard.press("Alt+1");
    await visible(panel("models"));
    const modelsTab = page.getByRole("tab", { name: /Models/ });
    await expect
      .poll(() =>
        modelsTab.evaluate(
          (el) => (el as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement === el,
        ),
      )
      .toBe(true);
    await page.keyboard.press("ArrowDown");
    await visible(panel("build"));
    await hasAttribute(page.getByRole("tab", { name: /Build/ }), "aria-selected", "true");
    // only the current screen is shown
    for (const other of ["models", "run", "jobs", "export", "nodes", "results"])
      expect(await panel(other).isVisible()).toBe(false);
    await page.keyboard.press("End");
    await visible(panel("results"));
    await page.keyboard.press("ArrowDown");
    await visible(panel("models"));
    await page.keyboard.press("Alt+3");
    await visible(panel("run"));
  });

  it("Export: the form, a highlighted preview (markup stays text), inline errors, downloads", async () => {
    await page.keyboard.press("Alt+5");
    const exp = panel("export");
    await visible(exp);
    await visible(exp.getByText("Nothing to preview yet."));
    await exp.getByLabel("Target").selectOption("k8s");
    await exp.getByLabel("Manifest file").fill("/tmp/jobs/b1/build_manifest.json");
    await exp.getByLabel("Namespace").fill("Bad_Namespace");
    await exp.getByLabel("GPUs per node").fill("8");
    await exp.getByLabel(/Node selectors/).fill("gpu=mi300x\nzone=a");
    // the context is validated live, as on the Build screen
    const context = exp.getByLabel(/Context overrides/);
    await context.fill('{"gpu_vendor": ');
    await visible(exp.getByTestId("export-context-error"));
    expect(await exp.getByRole("button", { name: "Preview" }).isDisabled()).toBe(true);
    await context.fill('{"gpu_vendor": "AMD"}');
    await absent(exp.getByTestId("export-context-error"));

    await exp.getByRole("button", { name: "Preview" }).click();
    const error = exp.getByRole("alert");
    await hasText(error.locator(".error-message"), /Bad_Namespace.*not a valid namespace name/);
    await hasText(error.locator(".error-code"), "INVALID_ARGS");
    const sent = callsNamed("export.preview").at(-1)!.args as Record<string, unknown>;
    expect(sent).toMatchObject({
      target: "k8s",
      manifestFile: "/tmp/jobs/b1/build_manifest.json",
      context: '{"gpu_vendor": "AMD"}',
      options: { namespace: "Bad_Namespace", gpusPerNode: 8, nodeSelectors: ["gpu=mi300x", "zone=a"] },
    });

    await exp.getByLabel("Namespace").fill("bench");
    await exp.getByRole("button", { name: "Preview" }).click();
    await absent(exp.getByRole("alert"));
    const job = exp.getByRole("article", { name: "k8s-madengine-job.yaml" });
    await visible(job);
    await hasText(job.locator(".tok-key").first(), "apiVersion");
    expect(await job.locator(".tok-key").allTextContents()).toContain("amd.com/gpu");
    expect(await job.locator(".tok-comment").first().textContent()).toContain(
      "<script>window.__pwned = true</script>",
    );
    // the file's markup is text: no element was made from it, nothing ran
    expect(await exp.locator(".code-view script").count()).toBe(0);
    expect(await page.evaluate("window.__pwned === undefined")).toBe(true);
    await visible(exp.getByText("the context does not say how many GPUs a node has"));
    await shot("export-k8s");

    // a browser saves by download, one per file
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      job.getByRole("button", { name: "Download k8s-madengine-job.yaml" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("k8s-madengine-job.yaml");
    const saved = await readFile((await download.path())!, "utf8");
    expect(saved).toContain("kind: Job");
    expect(saved).toContain("<script>");
    expect(await exp.getByLabel("Output directory").count()).toBe(0);
    expect(await exp.getByRole("button", { name: "Browse…" }).count()).toBe(0);

    // each target has its own options; a shell script and a JSON config are highlighted too
    await exp.getByLabel("Target").selectOption("slurm");
    await exp.getByLabel("Script name").fill("bench.sh");
    await exp.getByRole("button", { name: "Preview" }).click();
    const script = exp.getByRole("article", { name: "bench.sh" });
    await hasText(script.locator(".tok-variable").first(), /MADENGINE_WORKSPACE/);
    await hasText(script.locator(".tok-comment").first(), "#!/bin/bash");
    await exp.getByLabel("Target").selectOption("execution-config");
    expect(await exp.getByLabel("Manifest file").count()).toBe(0);
    await exp.getByLabel("Tags").fill("dummies smoke");
    await exp.getByRole("button", { name: "Preview" }).click();
    const config = exp.getByRole("article", { name: "execution_config.json" });
    await hasText(config.locator(".tok-key").first(), '"models"');
    expect((callsNamed("export.preview").at(-1)!.args as { options: unknown }).options).toEqual({
      tags: ["dummies", "smoke"],
    });
    await shot("export-config");
  });

  it("Docker down: a banner with the fix; screens stay usable", async () => {
    fake.docker.ok = false;
    fake.docker.error = "connect ENOENT /nowhere/docker.sock";
    fake.docker.hint = "start the Docker daemon or set DOCKER_HOST to a running one";
    await page.reload();
    const banner = page.getByTestId("docker-banner");
    await visible(banner);
    await hasText(banner.locator(".banner-hint").first(), /set DOCKER_HOST to a running one/);
    await hasText(page.getByTestId("docker-state"), "Docker down");
    await hasCount(panel("models").locator("tbody tr"), 10);
    await page.keyboard.press("Alt+2");
    await visible(panel("build").getByText("Docker is not reachable: the build will fail until it is back."));
    await shot("docker-down");
    fake.docker.ok = true;
    await banner.getByRole("button", { name: "Check again" }).click();
    await absent(page.getByTestId("docker-banner"));
  });

  it("light theme follows prefers-color-scheme", async () => {
    await page.emulateMedia({ colorScheme: "light" });
    await page.keyboard.press("Alt+1");
    const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(background).toBe("rgb(246, 247, 249)");
    await shot("models-light");
    await page.keyboard.press("Alt+3");
    await shot("run-light");
    await page.emulateMedia({ colorScheme: "dark" });
  });

  it("needed no Content-Security-Policy exception", async () => {
    expect(await cspViolations()).toEqual([]);
  });
});

describe("renderer inside Electron (a stand-in for the preload)", () => {
  it("talks through window.madengine for calls and events, never its own socket", async () => {
    const desktop = await browser.newPage();
    const socketsBefore = fake.socketCount();
    // what src-main/electron/preload.ts exposes, here backed by the fake bridge
    await desktop.addInitScript({
      content: `(() => {
        const token = ${JSON.stringify(fake.token)};
        const listeners = new Map();
        const socket = new WebSocket("ws://" + location.host + "/api/events?token=" + token);
        socket.onmessage = (message) => {
          const { event, payload } = JSON.parse(message.data);
          for (const listener of listeners.get(event) || []) listener(payload);
        };
        window.__preloadCalls = [];
        window.madengine = Object.freeze({
          call(name, args) {
            window.__preloadCalls.push(name);
            // the Electron layer answers this one itself with the system's folder picker
            if (name === "dialog.pickDirectory") {
              return Promise.resolve({ ok: true, result: { supported: true, path: ${JSON.stringify(FIXTURE_ROOT)} } });
            }
            return fetch("/api/call/" + name, {
              method: "POST",
              headers: { authorization: "Bearer " + token, "content-type": "application/json" },
              body: JSON.stringify(args),
            }).then((response) => response.json());
          },
          on(event, listener) {
            if (!listeners.has(event)) listeners.set(event, new Set());
            listeners.get(event).add(listener);
            return () => listeners.get(event).delete(listener);
          },
        });
      })();`,
    });
    await desktop.goto(fake.url);
    await hasText(desktop.getByTestId("connection-state"), "Connected (desktop)");
    await hasCount(desktop.locator("#panel-models tbody tr"), 10);
    const used = (await desktop.evaluate("window.__preloadCalls")) as string[];
    expect(used).toEqual(expect.arrayContaining(["engine.status", "zoo.discover", "jobs.list"]));
    await expect.poll(() => fake.socketCount()).toBe(socketsBefore + 1); // the preload's, not the page's

    // the desktop app offers a folder picker for the MAD root
    await desktop.locator("#panel-models").getByRole("button", { name: "Browse…" }).click();
    await hasCount(desktop.locator("#panel-models tbody tr"), 37);
    // Export saves to a folder (typed or picked), not by download
    await desktop.keyboard.press("Alt+5");
    const exp = desktop.locator("#panel-export");
    await exp.getByLabel("Manifest file").fill("/tmp/jobs/b1/build_manifest.json");
    await exp.getByRole("button", { name: "Preview" }).click();
    await visible(exp.getByRole("article", { name: "madengine_distributed.yml" }));
    expect(await exp.getByRole("button", { name: /^Download/ }).count()).toBe(0);
    await exp.getByRole("button", { name: "Browse…" }).click();
    expect(await exp.getByLabel("Output directory").inputValue()).toBe(FIXTURE_ROOT);
    await exp.getByRole("button", { name: "Save", exact: true }).click();
    await hasText(exp.getByTestId("export-written"), `Wrote ${FIXTURE_ROOT}/madengine_distributed.yml`);
    expect(fake.calls.filter((call) => call.name === "export.save").at(-1)!.args).toMatchObject({
      target: "ansible",
      outputDir: FIXTURE_ROOT,
    });

    // events arrive through the preload's on()
    const started = (await await fetch(new URL("/api/call/build.start", fake.url), {
      method: "POST",
      headers: { authorization: `Bearer ${fake.token}`, "content-type": "application/json" },
      body: JSON.stringify({ tags: ["dummy"], context: "{}" }),
    }).then((response) => response.json())) as { result: { job: { id: string } } };
    fake.updateJob(started.result.job.id, { title: "built from the desktop test" });
    await desktop.keyboard.press("Alt+4");
    await visible(
      desktop.locator("#panel-jobs").getByRole("button", { name: "built from the desktop test" }),
    );
    await desktop.close();
  });
});

function perfRow(model: string, status: "SUCCESS" | "FAILURE", performance: string, metric: string) {
  return {
    model,
    n_gpus: "1",
    training_precision: "",
    pipeline: "",
    args: "",
    tags: "dummies",
    docker_file: "docker/dummy.ubuntu.none.Dockerfile",
    base_docker: "madengine-zoo-base:latest",
    docker_sha: "",
    docker_image: `ci-${model}_dummy.ubuntu.none`,
    git_commit: "",
    machine_name: "test",
    gpu_architecture: "",
    performance,
    metric,
    relative_change: "",
    status,
    build_duration: "1.5",
    test_duration: "0.4",
    dataname: "",
    data_provider_type: "",
    data_size: "",
    data_download_duration: "",
    build_number: "",
    additional_docker_run_options: "",
  };
}
