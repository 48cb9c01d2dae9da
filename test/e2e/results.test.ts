/**
 * End to end: the Results screen in Chromium against the real `madengine-cli serve` (no Docker
 * needed) with its own --data-dir. The history is seeded through the engine (a resnet50 history on
 * two nodes whose last run is far slower: a regression), then the madengine perf.csv fixtures are
 * imported through the UI. The over-time chart draws one line per node (or per GPU architecture),
 * the table filters, two runs compare with their provenance differences, the regression is badged,
 * exports download, the audit log lists and exports; a corrupt database shows the banner and
 * "Move aside and start fresh" keeps the old file. Screenshots go to test-results/screenshots/.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERF_CSV_COLUMNS, type PerfRow } from "../../shared/schemas/perf.js";
import { appendAudit, auditEntryFor } from "../../src-main/engine/store/audit.js";
import { ResultsStore } from "../../src-main/engine/store/resultsStore.js";
import { type Browser, launchBrowser, SCREENSHOT_DIR, watchCspViolations } from "./helpers/browser.js";
import { hasCount, hasText, visible } from "./helpers/expectations.js";
import { buildRenderer } from "./helpers/pages.js";
import { type Served, startServe, stopServe } from "./helpers/serve.js";

const RENDERER_DIR = path.resolve("dist/renderer");
const FIXTURES = path.resolve("test/fixtures/perf");
/** Steady history (both nodes share one GPU architecture, so they share one history for the flags). */
const HISTORY = [1000, 1001, 1000, 1002, 1001, 1000, 1001, 1002];

let scratch: string;
let browser: Browser;
let page: Page;
let served: Served;
let broken: Served | undefined;
let cspViolations: () => Promise<string[]>;

function perfRow(overrides: Partial<PerfRow>): PerfRow {
  const row = Object.fromEntries(PERF_CSV_COLUMNS.map((c) => [c, ""])) as PerfRow;
  return {
    ...row,
    status: "SUCCESS",
    metric: "samples_per_second",
    gpu_architecture: "gfx942",
    ...overrides,
  };
}

function day(n: number): string {
  return new Date(Date.UTC(2026, 0, 1, 12) + n * 86_400_000).toISOString();
}

/** resnet50 on node-a and node-b, one run a day; the last run (run-slow, new image) is half as fast. */
async function seed(dbFile: string): Promise<void> {
  const store = ResultsStore.open(dbFile);
  const runs = [
    ...HISTORY.map((value, i) => ({ id: `run-${i}`, value, image: "resnet:v1" })),
    { id: "run-slow", value: 500, image: "resnet:v2" },
  ];
  runs.forEach((run, i) => {
    store.recordRun({
      id: run.id,
      kind: "run",
      startedAt: day(i),
      context: { gpu_vendor: "AMD", guest_os: "UBUNTU" },
    });
    for (const [node, factor] of [
      ["node-a", 1],
      ["node-b", 1.001],
    ] as const) {
      store.addResults(
        run.id,
        [
          perfRow({
            model: "resnet50",
            performance: String(run.value * factor),
            docker_image: run.image,
            tags: "vision",
          }),
        ],
        { node, createdAt: day(i) },
      );
    }
    store.finishRun(run.id, "success", day(i));
  });
  store.close();
  appendAudit(
    dbFile,
    await auditEntryFor({ kind: "run", outcome: "success", nodes: ["node-a", "node-b"], detail: null }),
    (message) => {
      throw new Error(message);
    },
  );
}

async function shot(name: string): Promise<void> {
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `results-${name}.png`), fullPage: true });
}

const results = () => page.locator("#panel-results");

async function openResults(url: string): Promise<void> {
  await page.goto(url);
  await page.locator("#tab-results").click();
  await visible(results().getByRole("heading", { name: "Results", exact: true }));
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-e2e-results-"));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await buildRenderer(RENDERER_DIR);
  const dataDir = path.join(scratch, "data");
  await mkdir(dataDir, { recursive: true });
  await seed(path.join(dataDir, "results.db"));
  const noDocker = `unix://${path.join(scratch, "no-docker.sock")}`;
  served = await startServe({ dockerHost: noDocker, workspace: path.join(scratch, "ws"), dataDir });
  browser = await launchBrowser();
  page = await browser.newPage();
  cspViolations = await watchCspViolations(page);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopServe(served);
  await stopServe(broken);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("Results screen", () => {
  it("imports the madengine perf.csv fixtures through the UI and reports broken rows by line", async () => {
    await openResults(served.url);
    const form = results().locator(".import-form");
    for (const file of ["madengine-2025-07-perf.csv", "madengine-2026-06-perf.csv"]) {
      await form.getByLabel("Path of a perf.csv").fill(path.join(FIXTURES, file));
      await form.getByLabel("Broken rows").selectOption("good-rows");
      await form.getByRole("button", { name: "Import" }).click();
      await hasText(form.getByRole("status"), /Imported \d+ of \d+ row\(s\) as run import-/);
    }
    const bad = path.join(scratch, "bad.csv");
    writeFileSync(
      bad,
      `${readFileSync(path.join(FIXTURES, "madengine-2026-06-perf.csv"), "utf8")}only,three,cells\n`,
    );
    await form.getByLabel("Path of a perf.csv").fill(bad);
    await form.getByLabel("Broken rows").selectOption("all-or-nothing");
    await form.getByRole("button", { name: "Import" }).click();
    await hasText(form.getByRole("status"), /Nothing imported: 1 broken row/);
    await hasText(form.locator(".broken-rows tbody tr"), /^3.*cells/);
    await shot("import");
  });

  it("draws performance over time, one line per node or per GPU architecture", async () => {
    const chart = results().locator(".chart-panel").first();
    await chart.locator("select").selectOption("resnet50");
    await hasCount(chart.locator(".recharts-line-curve"), 2);
    expect(await chart.locator(".chart-box").getAttribute("data-series")).toBe("node-a|node-b");
    await hasText(chart.locator(".recharts-legend-wrapper"), /node-a.*node-b/);
    // the regression of the last run is a red dot on each line
    await hasCount(chart.locator(".chart-flag-regression"), 2);
    await hasCount(chart.locator(".recharts-reference-dot circle"), 2);
    const paths = await chart
      .locator(".recharts-line-curve")
      .evaluateAll((els) => els.map((el) => (el.getAttribute("d") ?? "").length));
    expect(paths.every((length) => length > 20)).toBe(true);
    await chart.getByLabel("Per GPU architecture").check();
    await hasCount(chart.locator(".recharts-line-curve"), 1);
    expect(await chart.locator(".chart-box").getAttribute("data-series")).toBe("gfx942");
    await chart.getByLabel("Per node").check();
    await hasCount(chart.locator(".recharts-line-curve"), 2);
    await shot("chart");
  });

  it("filters and pages the table, and badges the regression", async () => {
    const table = results().locator(".results-table-panel");
    await hasText(table.locator(".results-count"), /of 2[0-9]/);
    const filters = results().locator(".results-filters");
    await filters.getByLabel("Model").selectOption("dummy");
    const models = () =>
      table
        .locator("tbody tr")
        .evaluateAll((rows) => [...new Set(rows.map((r) => r.getAttribute("data-model")))]);
    await expect.poll(models, { timeout: 15_000 }).toEqual(["dummy"]);
    await hasText(table.locator(".results-count"), /^1–\d of \d$/);
    await filters.getByLabel("Model").selectOption("resnet50");
    await filters.getByLabel("Node").selectOption("node-a");
    await hasText(table.locator(".results-count"), "1–9 of 9");
    const first = table.locator("tbody tr").first();
    await visible(first.locator('[data-flag="regression"]'));
    await hasCount(table.locator('[data-flag="regression"]'), 1);
    await hasText(results().locator(".flags-panel"), /regression\s*resnet50/);
    await shot("filtered");
    await filters.getByRole("button", { name: "Clear filters" }).click();
    await hasText(table.locator(".results-count"), /of 2[0-9]/);
  });

  it("compares two runs with their provenance differences, and node against node", async () => {
    const compare = results().locator(".run-compare");
    await compare.getByLabel("Run A").selectOption("run-0");
    await compare.getByLabel("Run B").selectOption("run-slow");
    const row = compare.locator('tbody tr[data-model="resnet50"]');
    // the last result of each run (node-b): 1001 against 500.5
    await hasText(row, /-500\.5 \(-50\.0%\)/);
    await hasText(row.locator('.provenance-row[data-field="dockerImage"]'), /resnet:v1.*resnet:v2/);
    await hasCount(row.locator(".provenance-row"), 1);
    const bars = results().locator(".chart-panel").nth(1);
    await bars.getByLabel("Run", { exact: true }).selectOption("run-slow");
    await hasCount(bars.locator(".recharts-bar-rectangle"), 2);
    expect(await bars.locator(".chart-box").getAttribute("data-nodes")).toBe("node-a|node-b");
    await shot("compare");
  });

  it("downloads exports and lists the audit log", async () => {
    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      results().getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe("madengine-results.csv");
    const text = readFileSync((await csv.path())!, "utf8");
    expect(text.split("\n")[0]).toBe(PERF_CSV_COLUMNS.join(","));
    const [prom] = await Promise.all([
      page.waitForEvent("download"),
      results().getByRole("button", { name: "Export Prometheus" }).click(),
    ]);
    expect(readFileSync((await prom.path())!, "utf8")).toContain('madengine_performance{model="resnet50"');
    const audit = results().locator(".audit-section");
    await hasText(audit.locator("tbody tr").first(), /run.*success.*node-a, node-b/);
    const [auditCsv] = await Promise.all([
      page.waitForEvent("download"),
      audit.getByRole("button", { name: "Export audit CSV" }).click(),
    ]);
    expect(readFileSync((await auditCsv.path())!, "utf8")).toMatch(/^id,at,user,kind/);
    expect(await cspViolations()).toEqual([]);
  });

  it("shows a broken database and moves it aside without deleting it", async () => {
    const dataDir = path.join(scratch, "broken-data");
    await mkdir(dataDir, { recursive: true });
    const dbFile = path.join(dataDir, "results.db");
    writeFileSync(dbFile, "definitely not sqlite\n".repeat(200));
    broken = await startServe({
      dockerHost: `unix://${path.join(scratch, "no-docker.sock")}`,
      workspace: path.join(scratch, "ws-broken"),
      dataDir,
    });
    await openResults(broken.url);
    const banner = results().locator(".results-broken");
    await hasText(banner, /cannot be opened/);
    await hasText(banner.locator(".error-file"), dbFile);
    await shot("broken-db");
    await banner.getByRole("button", { name: "Move aside and start fresh" }).click();
    const notice = results().getByRole("status").filter({ hasText: "kept as" });
    await visible(notice);
    const movedTo = (await notice.locator("code").textContent()) ?? "";
    expect(movedTo.startsWith(`${dbFile}.broken-`)).toBe(true);
    expect(existsSync(movedTo)).toBe(true);
    expect(readFileSync(movedTo, "utf8")).toBe("definitely not sqlite\n".repeat(200));
    expect(existsSync(dbFile)).toBe(true);
    await visible(results().getByText("No results stored yet."));
    await shot("moved-aside");
  });
});
