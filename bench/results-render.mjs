// Benchmark of the Results screen in Chromium (playwright-core + /usr/bin/chromium) against the real
// `madengine-cli serve`: a results database with 100,000 stored results (40 models, 8 nodes on 4 GPU
// architectures, 500 runs over 100 days) is made in a data dir, then the time is measured from
// choosing a model (the Model filter) to the over-time chart redrawn for it (its lines' SVG paths)
// and the table showing only that model's rows; and the first draw of the screen. The baseline is
// the same screen on an empty database (first draw) measured in the same process; the ratio is
// 100k / empty. Target: model chosen -> chart and table drawn <= 0.5 s. Prints figures only.
// Usage: npm run build && node bench/results-render.mjs [choices]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { chromium } from "playwright-core";
import { median, startServe, stopServe } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const choices = Number(process.argv[2] ?? 10);
const chromiumPath = process.env.MADENGINE_CHROMIUM ?? "/usr/bin/chromium";
const cli = path.join(repo, "bin", "madengine-cli");
const RESULTS = 100_000;
const MODELS = 40;
const NODES = 8;
const RUNS = 500;

/** A results database at the latest schema (made by the CLI), filled with RESULTS rows. */
function makeDatabase(file, results) {
  const made = spawnSync(process.execPath, [cli, "results", "list", "--db", file], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`results list failed: ${made.stderr}`);
  if (results === 0) return;
  const db = new Database(file);
  const insertRun = db.prepare(
    `INSERT INTO runs (id, kind, context_json, started_at, ended_at, status, source) VALUES (?, 'run', ?, ?, ?, 'success', 'run')`,
  );
  const insert = db.prepare(
    `INSERT INTO results (run_id, model, n_gpus, tags, docker_image, machine_name, gpu_architecture, performance, metric, status, node, image_digest, created_at)
     VALUES (?, ?, '1', ?, ?, ?, ?, ?, ?, 'SUCCESS', ?, ?, ?)`,
  );
  const perRun = results / RUNS;
  const start = Date.UTC(2026, 0, 1);
  db.transaction(() => {
    for (let run = 0; run < RUNS; run++) {
      const at = new Date(start + run * 4.8 * 3_600_000).toISOString();
      const id = `run-${String(run).padStart(4, "0")}`;
      insertRun.run(id, JSON.stringify({ gpu_vendor: "AMD", guest_os: "UBUNTU" }), at, at);
      for (let i = 0; i < perRun; i++) {
        const model = i % MODELS;
        const node = (Math.floor(i / MODELS) + run) % NODES;
        const base = 100 + model * 10;
        const value = base * (1 + node * 0.02) + Math.sin(run / 7 + i) * 2;
        insert.run(
          id,
          `model_${String(model).padStart(2, "0")}`,
          `bench,group_${model % 5}`,
          `ci-model_${model}:v${Math.floor(run / 100)}`,
          `node-${node}`,
          `gfx9${node % 4}`,
          value.toFixed(2),
          model % 4 === 3 ? "latency_ms" : "samples_per_second",
          `node-${node}`,
          `sha256:${String(run).padStart(64, "0")}`,
          at,
        );
      }
    }
  })();
  db.close();
}

/** True in the page once the chart shows `model` with at least one drawn line and the table only its rows. */
function drawn(model) {
  const panel = document.querySelector("#panel-results");
  const chart = panel?.querySelector(".chart-panel");
  const select = chart?.querySelector("select");
  if (!chart || !select || select.value !== model || chart.getAttribute("aria-busy") === "true") return false;
  const paths = [...chart.querySelectorAll(".recharts-line-curve")].filter(
    (p) => (p.getAttribute("d") || "").length > 20,
  );
  if (paths.length === 0) return false;
  const table = panel.querySelector(".results-table-panel");
  if (!table || table.getAttribute("aria-busy") === "true") return false;
  const rows = [...table.querySelectorAll("tbody tr")];
  return rows.length > 0 && rows.every((row) => row.getAttribute("data-model") === model);
}

function emptyDrawn() {
  return document.querySelector("#panel-results")?.textContent?.includes("No results stored yet.") === true;
}

function firstDrawn() {
  const chart = document.querySelector("#panel-results .chart-panel");
  return (
    !!chart &&
    chart.querySelectorAll(".recharts-line-curve").length > 0 &&
    document.querySelectorAll("#panel-results .results-table tbody tr").length > 0
  );
}

async function openResults(page, url, ready) {
  await page.goto(url);
  await page.locator("#tab-models").waitFor();
  const started = performance.now();
  await page.locator("#tab-results").click();
  await page.waitForFunction(ready, undefined, { polling: "raf", timeout: 60_000 });
  return (performance.now() - started) / 1000;
}

if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath}`);
if (
  !existsSync(path.join(repo, "dist", "bundle", "main.cjs")) ||
  !existsSync(path.join(repo, "dist", "renderer"))
)
  throw new Error("run npm run build first");
const scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-bench-results-"));
const emptyDir = path.join(scratch, "empty");
const bigDir = path.join(scratch, "big");
await mkdir(emptyDir, { recursive: true });
await mkdir(bigDir, { recursive: true });
let started = performance.now();
makeDatabase(path.join(emptyDir, "results.db"), 0);
makeDatabase(path.join(bigDir, "results.db"), RESULTS);
console.log(
  `made a database of ${RESULTS} results in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

const context = await chromium.launchPersistentContext(path.join(scratch, "profile"), {
  executablePath: chromiumPath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
  ],
  viewport: { width: 1440, height: 900 },
});
await context.route(/.*/, (route) => {
  const { hostname, protocol } = new URL(route.request().url());
  if (protocol === "blob:" || protocol === "data:" || hostname.startsWith("127.")) return route.continue();
  return route.abort("blockedbyclient");
});

const servers = [];
try {
  // baseline: the screen's first draw on an empty database
  const empty = await startServe(repo, [
    "--workspace",
    path.join(scratch, "ws-empty"),
    "--data-dir",
    emptyDir,
  ]);
  servers.push(empty);
  const emptyDraws = [];
  for (let i = 0; i < 4; i++) {
    const page = await context.newPage();
    const seconds = await openResults(page, empty.url, emptyDrawn);
    if (i > 0) emptyDraws.push(seconds);
    await page.close();
  }

  const big = await startServe(repo, ["--workspace", path.join(scratch, "ws-big"), "--data-dir", bigDir]);
  servers.push(big);
  const firstDraws = [];
  const choose = [];
  for (let i = 0; i < 3; i++) {
    const page = await context.newPage();
    const seconds = await openResults(page, big.url, firstDrawn);
    if (i > 0) firstDraws.push(seconds);
    if (i === 2) {
      const filter = page.locator("#panel-results .results-filters").getByLabel("Model");
      for (let n = 0; n < choices + 1; n++) {
        const model = `model_${String((n * 7 + 3) % MODELS).padStart(2, "0")}`;
        const t0 = performance.now();
        await filter.selectOption(model);
        await page.waitForFunction(drawn, model, { polling: "raf", timeout: 60_000 });
        if (n > 0) choose.push((performance.now() - t0) / 1000);
      }
      const lines = await page.locator("#panel-results .chart-panel .recharts-line-curve").count();
      const count = await page.locator("#panel-results .results-count").textContent();
      console.log(`last choice: ${lines} line(s) drawn; table ${count}`);
    }
    await page.close();
  }
  const baseline = median(emptyDraws);
  const fmt = (values) =>
    `median ${median(values).toFixed(3)} s  (min ${Math.min(...values).toFixed(3)}, max ${Math.max(...values).toFixed(3)}, n=${values.length})`;
  console.log(
    `results screen render (${RESULTS} results, ${MODELS} models, ${NODES} nodes, ${RUNS} runs; node ${process.version})`,
  );
  console.log(`baseline: empty database, Results tab -> drawn     ${fmt(emptyDraws)}`);
  console.log(
    `100k: Results tab -> chart and table drawn       ${fmt(firstDraws)}  ratio ${(median(firstDraws) / baseline).toFixed(2)}x`,
  );
  const ok = median(choose) <= 0.5;
  console.log(
    `100k: model chosen -> chart and table redrawn    ${fmt(choose)}  ratio ${(median(choose) / baseline).toFixed(2)}x  target <= 0.5 s  ${ok ? "OK" : "MISSED"}`,
  );
} finally {
  await context.close();
  for (const served of servers) await stopServe(served.child);
  started = performance.now();
  await rm(scratch, { recursive: true, force: true });
}
