// Benchmark: PerformanceScanner (finds `performance:` lines in raw output bytes) against the naive
// `buffer.toString().split("\n")` on the same data: 1,000,000 short lines `line N\n` plus one
// performance line in the middle, fed in 64 KiB chunks. Prints lines per second (median of 5 runs)
// and the ratio. Target: >= 1,000,000 lines/s. Needs: npm run build
// Usage: node bench/performance-scanner.mjs [runs]
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const modulePath = path.join(repo, "dist", "src-main", "engine", "run", "results", "performanceLine.js");
const { PerformanceScanner } = await import(pathToFileURL(modulePath).href);

const runs = Number(process.argv[2] ?? 5);
const LINES = 1_000_000;
const CHUNK = 64 * 1024;

const parts = [];
for (let i = 0; i < LINES; i++) {
  parts.push(`line ${i}\n`);
  if (i === LINES / 2) parts.push("step 500000 performance: 1234.5 samples/sec\n");
}
const data = Buffer.from(parts.join(""), "latin1");
const totalLines = LINES + 1;
const chunks = [];
for (let i = 0; i < data.length; i += CHUNK) chunks.push(data.subarray(i, i + CHUNK));

function scanner() {
  const s = new PerformanceScanner();
  for (const chunk of chunks) s.push(chunk);
  s.end();
  if (s.last?.value !== "1234.5") throw new Error("scanner missed the performance line");
}

function baseline() {
  const lines = data.toString().split("\n");
  if (lines.length !== totalLines + 1) throw new Error(`baseline split into ${lines.length} lines`);
}

function measure(fn) {
  fn(); // warm-up
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  const seconds = median(samples);
  return { seconds, linesPerSecond: totalLines / seconds };
}

const ours = measure(scanner);
const naive = measure(baseline);
const format = (n) => Math.round(n).toLocaleString("en-US");
console.log(
  `input: ${format(totalLines)} lines, ${(data.length / 1e6).toFixed(1)} MB, ${chunks.length} chunks of 64 KiB; median of ${runs} runs`,
);
console.log(
  `PerformanceScanner            ${format(ours.linesPerSecond).padStart(13)} lines/s  (${(ours.seconds * 1000).toFixed(1)} ms)  target >= 1,000,000  ${ours.linesPerSecond >= 1e6 ? "OK" : "MISSED"}`,
);
console.log(
  `toString().split("\\n")        ${format(naive.linesPerSecond).padStart(13)} lines/s  (${(naive.seconds * 1000).toFixed(1)} ms)`,
);
console.log(`ratio scanner / baseline: ${(ours.linesPerSecond / naive.linesPerSecond).toFixed(1)}x`);
