/**
 * End to end: a manifest dispatched from the Run screen to three of the testbed's sshd nodes, in
 * Chromium against the real `madengine-cli serve`. The interleaved log shows every node's output
 * (node-coloured) while the run goes on; the server is stopped mid-run and started again on the
 * same workspace, and the page (reloaded on the new address) shows the run resumed and finishing,
 * with a system notification when it ends. Screenshots go to test-results/screenshots/.
 */

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addSleepingModels, copyBundledZoo, runCli } from "../helpers/cli.js";
import { testbedNodes, writeNodesFile } from "../helpers/nodes.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";
import { type Browser, launchBrowser, SCREENSHOT_DIR } from "./helpers/browser.js";
import { computedStyle, hasText, visible } from "./helpers/expectations.js";
import { buildRenderer } from "./helpers/pages.js";
import { type Served, startServe, stopServe } from "./helpers/serve.js";

const NODES = ["node1", "node2", "node3"];

let testbed: Testbed;
let scratch: string;
let zoo: string;
let manifest: string;
let nodesFile: string;
let browser: Browser;
let page: Page;
let live: Served | undefined;

/** Records the notifications the page raises (headless Chromium shows none), as the page's own script. */
const RECORD_NOTIFICATIONS = `
  const Real = window.Notification;
  window.seenNotifications = [];
  class Recording extends Real {
    constructor(title, options) {
      window.seenNotifications.push({ title, body: (options && options.body) || "" });
      super(title, options);
    }
  }
  Object.defineProperty(Recording, "permission", { get: () => Real.permission });
  window.Notification = Recording;
`;

const panel = (id: string) => page.locator(`#panel-${id}`);

function serve(): Promise<Served> {
  return startServe({
    dockerHost: testbed.dockerHost,
    workspace: path.join(scratch, "workspace"),
    dataDir: path.join(scratch, "data"),
    madRoot: zoo,
    extraArgs: ["--nodes", nodesFile],
  });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `remote-run-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  testbed = loadTestbed();
  scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-e2e-remote-"));
  zoo = copyBundledZoo();
  addSleepingModels(zoo, [{ name: "napper", seconds: 10 }]);
  manifest = path.join(scratch, "build_manifest.json");
  const built = await runCli(
    [
      "build",
      "--mad-root",
      zoo,
      "--tags",
      "dummy",
      "napper",
      "-c",
      '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}',
      "--manifest-output",
      manifest,
    ],
    { cwd: scratch, env: { DOCKER_HOST: testbed.dockerHost } },
  );
  expect(built.code, built.stderr).toBe(0);
  // the testbed's nodes, already trusted (their keys are in the testbed's known_hosts)
  nodesFile = writeNodesFile(scratch, testbedNodes(testbed, { count: 3 }));
  await buildRenderer(path.resolve("dist/renderer"));
  live = await serve();
  browser = await launchBrowser();
  await browser.context.grantPermissions(["notifications"]);
  page = await browser.newPage();
  await page.addInitScript(RECORD_NOTIFICATIONS);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stopServe(live);
  if (scratch) await rm(scratch, { recursive: true, force: true });
  if (zoo) await rm(zoo, { recursive: true, force: true });
});

describe("a run on three GPU nodes from the Run screen, across a server restart", () => {
  it("dispatches the manifest to three nodes and shows every node's output in one log", async () => {
    await page.goto(live!.url);
    await page.getByRole("tab", { name: /^Run/ }).click();
    const run = panel("run");
    await visible(run);
    await run.getByLabel("Manifest file").fill(manifest);
    await run.getByLabel("GPU nodes over SSH").check();
    const nodeBox = (node: string) => run.getByRole("checkbox", { name: new RegExp(`^${node}\\b`) });
    // picking by label selects the nodes that carry it (the testbed labels node1 and node3 rack=a)
    await run.getByRole("button", { name: "rack=a" }).click();
    expect(await Promise.all(NODES.map((node) => nodeBox(node).isChecked()))).toEqual([true, false, true]);
    await nodeBox("node2").check();
    await run.getByRole("button", { name: "Run", exact: true }).click();

    const job = run.locator(".job-view");
    await visible(job);
    await hasText(job.locator(".job-title"), /on node1, node2, node3$/);
    // the interleaved log is the one shown, and it fills with all three nodes' output while running
    await hasText(job.getByRole("tab", { selected: true }), "all nodes");
    const log = job.locator(".log-viewer");
    for (const node of NODES) await hasText(log, new RegExp(`${node} napper │ sleeping 10s`), 60_000);
    expect(await job.getAttribute("data-job-state")).toBe("running");
    for (const node of NODES) await hasText(job.locator(`[data-cell="${node}/napper"]`), "running", 30_000);
    // each node's name has its own colour, the same in the grid and the log
    const colours = await Promise.all(
      NODES.map((node) => computedStyle(job.locator(`[data-node="${node}"] code`).first(), "color")),
    );
    expect(new Set(colours).size).toBe(3);
    await page.locator(".job-view").scrollIntoViewIfNeeded();
    await shot("live");
  }, 120_000);

  it("survives a restart of the server: the run is picked up and finishes", async () => {
    await stopServe(live);
    live = await serve();
    await page.goto(live.url);
    await page.getByRole("tab", { name: /^Run/ }).click();
    const job = panel("run").locator(".job-view");
    await visible(job);
    await hasText(job.locator(".state-resumed"), "resumed after restart");
    await expect.poll(() => job.getAttribute("data-job-state"), { timeout: 120_000 }).toBe("succeeded");
    for (const node of NODES) {
      await hasText(job.locator(`[data-cell="${node}/napper"]`), "succeeded");
      await hasText(job.locator(`[data-cell="${node}/dummy"]`), "succeeded");
      await hasText(job.locator(`[data-node="${node}"] .state`), "done");
    }
    const results = panel("run").getByRole("region", { name: "Results" });
    await expect.poll(() => results.locator("tbody tr").count()).toBe(6);
    const log = job.locator(".log-viewer");
    await log.getByRole("searchbox").fill("performance: 10 seconds_slept");
    await hasText(log.locator(".log-match-count"), /^\d of 3$/);
    await log.getByRole("searchbox").fill("");
    await shot("resumed");
    const seen = (await page.evaluate("window.seenNotifications")) as { title: string; body: string }[];
    expect(seen).toEqual([
      expect.objectContaining({
        title: "Run finished",
        body: expect.stringMatching(/on node1, node2, node3/),
      }),
    ]);
  }, 180_000);
});
