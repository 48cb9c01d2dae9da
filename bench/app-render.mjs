// Benchmark of the control center's renderer in Chromium (playwright-core + /usr/bin/chromium):
//  1. time from starting `madengine-cli serve` to the Models screen rendered (rows of the bundled
//     zoo in the DOM), split into "serve printed its address" and "page load to rows"; target <= 1.5 s;
//  2. the LogViewer (harness page) fed 1,000,000 lines at full speed: requestAnimationFrame deltas
//     (p50 / p95 / max; target p95 <= 32 ms), then scrolling through the million lines, and the
//     renderer's JS heap (CDP Performance.getMetrics JSHeapUsedSize; target <= 300 MB).
// Prints figures only. Usage: npm run build && node bench/app-render.mjs [runs]
// (builds dist/renderer and the harness with Vite; DOCKER_HOST is passed through to serve).
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build } from "vite";
import { median, startServe, stopServe } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv[2] ?? 5);
const chromiumPath = process.env.MADENGINE_CHROMIUM ?? "/usr/bin/chromium";
const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function viteBuild(configFile, outDir) {
  await build({ configFile, logLevel: "warn", build: { outDir, emptyOutDir: true, sourcemap: false } });
}

function serveStatic(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = http.createServer(async (req, res) => {
    const pathname = new URL(req.url, "http://127.0.0.1").pathname;
    const file = path.join(dir, pathname === "/" ? "index.html" : pathname.slice(1));
    if (!file.startsWith(dir)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }),
    ),
  );
}

if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath}`);
if (!existsSync(path.join(repo, "dist", "bundle", "main.cjs"))) throw new Error("run npm run build first");
const scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-bench-app-"));
await viteBuild(path.join(repo, "src-renderer", "vite.config.ts"), path.join(repo, "dist", "renderer"));
const harnessDir = path.join(scratch, "harness");
await viteBuild(path.join(repo, "src-renderer", "harness", "vite.config.ts"), harnessDir);

const context = await chromium.launchPersistentContext(path.join(scratch, "profile"), {
  executablePath: chromiumPath,
  headless: true,
  args: chromiumArgs,
  viewport: { width: 1440, height: 900 },
});
await context.route(/.*/, (route) => {
  const { hostname, protocol } = new URL(route.request().url());
  if (protocol === "blob:" || protocol === "data:" || hostname.startsWith("127.")) return route.continue();
  return route.abort("blockedbyclient");
});

try {
  // 1. serve start -> Models rendered
  const totals = [];
  const serveParts = [];
  const pageParts = [];
  for (let i = 0; i < runs + 1; i++) {
    const page = await context.newPage();
    const served = await startServe(repo, ["--workspace", path.join(scratch, `workspace-${i}`)]);
    const loadStarted = performance.now();
    await page.goto(served.url);
    await page.locator("#panel-models tbody tr").first().waitFor({ state: "visible", timeout: 30_000 });
    const done = performance.now();
    if (i > 0) {
      // the first run warms the OS file cache and Chromium; it is not counted
      totals.push((done - served.started) / 1000);
      serveParts.push((served.printedAt - served.started) / 1000);
      pageParts.push((done - loadStarted) / 1000);
    }
    await page.close();
    await stopServe(served.child);
  }
  console.log(`control center render (${runs} runs after 1 warm-up, node ${process.version})`);
  console.log(
    `serve start -> Models rendered  median ${median(totals).toFixed(3)} s  (min ${Math.min(...totals).toFixed(3)}, max ${Math.max(...totals).toFixed(3)})  target <= 1.5 s`,
  );
  console.log(`  serve start -> address printed  median ${median(serveParts).toFixed(3)} s`);
  console.log(`  page load -> zoo rows shown     median ${median(pageParts).toFixed(3)} s`);

  // 2. LogViewer with 1,000,000 lines
  const { server, url } = await serveStatic(harnessDir);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  await page.goto(url);
  await page.waitForFunction("window.harness !== undefined");
  const heapBefore = (await cdp.send("Performance.getMetrics")).metrics.find(
    (m) => m.name === "JSHeapUsedSize",
  ).value;
  await page.evaluate("window.harness.startFrames()");
  const feed = await page.evaluate("window.harness.feed(1000000, 2000)");
  await page.evaluate(
    "new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))",
  );
  const feedFrames = await page.evaluate("window.harness.stopFrames()");
  const rows = await page.locator(".log-row").count();

  // scroll through the million lines: a new position every frame for 2 s
  await page.evaluate("window.harness.startFrames()");
  await page.evaluate(`new Promise((resolve) => {
    const scroller = document.querySelector(".log-scroller");
    const end = performance.now() + 2000;
    let step = 0;
    const tick = () => {
      step++;
      scroller.scrollTop = ((step * 7919) % 1000) / 1000 * (scroller.scrollHeight - scroller.clientHeight);
      if (performance.now() < end) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  })`);
  const scrollFrames = await page.evaluate("window.harness.stopFrames()");

  // search over the million lines (time to the full count)
  const searchStarted = performance.now();
  await page.getByRole("searchbox").fill("lazy dog (4242)");
  await page.waitForFunction(
    "(() => { const t = document.querySelector('.log-match-count').textContent; return /of/.test(t) && !t.endsWith('…'); })()",
    undefined,
    { timeout: 60_000, polling: 20 },
  );
  const searchSeconds = (performance.now() - searchStarted) / 1000;
  const searchCount = await page.locator(".log-match-count").textContent();

  await cdp.send("HeapProfiler.collectGarbage").catch(() => {});
  const metrics = (await cdp.send("Performance.getMetrics")).metrics;
  const heap = metrics.find((m) => m.name === "JSHeapUsedSize").value;
  const heapTotal = metrics.find((m) => m.name === "JSHeapTotalSize").value;
  const perfMemory = await page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : null");
  const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

  console.log(
    `log viewer, 1,000,000 lines fed in batches of 2,000 per task (${(feed.ms / 1000).toFixed(2)} s to append)`,
  );
  console.log(
    `  frames while feeding   n=${feedFrames.length}  p50 ${percentile(feedFrames, 50).toFixed(1)} ms  p95 ${percentile(feedFrames, 95).toFixed(1)} ms  max ${Math.max(...feedFrames).toFixed(1)} ms  target p95 <= 32 ms`,
  );
  console.log(
    `  frames while scrolling n=${scrollFrames.length}  p50 ${percentile(scrollFrames, 50).toFixed(1)} ms  p95 ${percentile(scrollFrames, 95).toFixed(1)} ms  max ${Math.max(...scrollFrames).toFixed(1)} ms`,
  );
  console.log(`  rows in the DOM ${rows}`);
  console.log(`  search "lazy dog (4242)": ${searchCount} in ${searchSeconds.toFixed(2)} s`);
  console.log(
    `  JS heap used ${mb(heap)} MB (total ${mb(heapTotal)} MB, empty page ${mb(heapBefore)} MB; performance.memory ${perfMemory === null ? "n/a" : `${mb(perfMemory)} MB`})  target <= 300 MB`,
  );
  await page.close();
  server.close();
} finally {
  await context.close();
  await rm(scratch, { recursive: true, force: true });
}
