// Benchmark: the run phase against plain `docker run --rm`, on the testbed's daemon.
//  1. one zoo model run from a manifest (whole process) vs `docker run --rm` of the same image running
//     the same script: medians and ratio, plus the peak RSS of the madengine-cli process
//  2. a model printing 1,000,000 lines: lines per second from the container into the run log
// Targets: (1) <= 2.5x raw docker run, peak memory <= 80 MB; (2) >= 200,000 lines/s.
// Needs: npm run build, bash test/env/testbed-up.sh. Usage: node bench/run.mjs [runs]
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchWorkspace, median, printNodeStartNote, printRows, stats } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const testbed = JSON.parse(
  readFileSync(path.join(process.env.MADENGINE_TESTBED ?? "/tmp/madengine-testbed", "testbed.json"), "utf8"),
);
const env = { ...process.env, DOCKER_HOST: testbed.dockerHost, NO_COLOR: "1" };
const runs = Number(process.argv[2] ?? 9);
const cli = path.join(repo, "bin", "madengine-cli");
const context = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';

const { zoo, out } = benchWorkspace(repo);
const models = JSON.parse(readFileSync(path.join(zoo, "models.json"), "utf8"));
models.push({
  name: "million_lines",
  dockerfile: "docker/dummy",
  scripts: "scripts/dummy/run_million.sh",
  n_gpus: "1",
  tags: ["million"],
  args: "",
});
writeFileSync(path.join(zoo, "models.json"), JSON.stringify(models, null, 2));
writeFileSync(
  path.join(zoo, "scripts", "dummy", "run_million.sh"),
  "#!/bin/sh\nseq 1 1000000 | sed 's/^/output line /'\necho 'performance: 1000000 lines'\n",
  { mode: 0o755 },
);

function run(command, args) {
  const result = spawnSync(command, args, { cwd: out, env, encoding: "utf8", maxBuffer: 1 << 30 });
  if (result.status !== 0 && result.status !== 3)
    throw new Error(`${command} ${args.join(" ")}: ${result.status} ${result.stderr}`);
  return result;
}

function timed(command, args) {
  const started = process.hrtime.bigint();
  const result = run(command, args);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

run(process.execPath, [
  cli,
  "build",
  "--mad-root",
  zoo,
  "--tags",
  "dummy",
  "million",
  "-c",
  context,
  "-m",
  "all.json",
]);
const manifest = JSON.parse(readFileSync(path.join(out, "all.json"), "utf8"));
const single = { ...manifest, built_images: {}, built_models: {} };
single.built_images["ci-dummy_dummy.ubuntu.none"] = manifest.built_images["ci-dummy_dummy.ubuntu.none"];
single.built_models["ci-dummy_dummy.ubuntu.none"] = manifest.built_models["ci-dummy_dummy.ubuntu.none"];
writeFileSync(path.join(out, "dummy.json"), JSON.stringify(single));
const million = { ...manifest, built_images: {}, built_models: {} };
million.built_images["ci-million_lines_dummy.ubuntu.none"] =
  manifest.built_images["ci-million_lines_dummy.ubuntu.none"];
million.built_models["ci-million_lines_dummy.ubuntu.none"] =
  manifest.built_models["ci-million_lines_dummy.ubuntu.none"];
writeFileSync(path.join(out, "million.json"), JSON.stringify(million));

const raw = [];
const ours = [];
const rss = [];
const rawArgs = [
  "run",
  "--rm",
  "--network",
  "none",
  "-v",
  `${zoo}:/myworkspace`,
  "-w",
  "/myworkspace/scripts/dummy",
  "ci-dummy_dummy.ubuntu.none",
  "sh",
  "run.sh",
];
for (let i = 0; i < runs + 1; i++) {
  const baseline = timed("docker", rawArgs);
  const measured = timed("/usr/bin/time", [
    "-f",
    "%M",
    process.execPath,
    cli,
    "run",
    "--mad-root",
    zoo,
    "--manifest-file",
    "dummy.json",
    "-o",
    "bench-perf.csv",
  ]);
  if (i === 0) continue; // warm-up
  raw.push(baseline.seconds);
  ours.push(measured.seconds);
  rss.push(Number(measured.result.stderr.trim().split("\n").pop()) / 1024);
}

const lineRates = [];
for (let i = 0; i < 3; i++) {
  const { seconds } = timed(process.execPath, [
    cli,
    "run",
    "--mad-root",
    zoo,
    "--manifest-file",
    "million.json",
    "-o",
    "bench-perf.csv",
  ]);
  const log = path.join(out, "million_lines_dummy.ubuntu.none.run.live.log");
  const lines = readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("output line ")).length;
  if (lines !== 1_000_000) throw new Error(`the run log holds ${lines} output lines, expected 1000000`);
  lineRates.push({ seconds, rate: lines / seconds, bytes: statSync(log).size });
}
const rawMillion = timed("docker", [
  "run",
  "--rm",
  "--network",
  "none",
  "-v",
  `${zoo}:/myworkspace`,
  "-w",
  "/myworkspace/scripts/dummy",
  "ci-million_lines_dummy.ubuntu.none",
  "sh",
  "run_million.sh",
]);

console.log(`run phase vs docker run --rm (${runs} runs, daemon ${testbed.dockerHost})`);
const rawStats = stats(raw);
const ourStats = stats(ours);
printRows([
  { name: "docker run --rm (baseline)", ...rawStats, ratio: 1 },
  {
    name: "madengine-cli run, 1 model from a manifest",
    ...ourStats,
    ratio: ourStats.median / rawStats.median,
    target: "<= 2.5x",
    ok: ourStats.median <= 2.5 * rawStats.median,
  },
]);
const peak = Math.max(...rss);
console.log(
  `peak RSS of madengine-cli run: median ${median(rss).toFixed(1)} MB, max ${peak.toFixed(1)} MB  target <= 80 MB  ${peak <= 80 ? "OK" : "MISSED"}`,
);
const rate = median(lineRates.map((entry) => entry.rate));
console.log(
  `1,000,000-line model: median ${Math.round(rate).toLocaleString("en-US")} lines/s into the run log (whole process ${median(lineRates.map((e) => e.seconds)).toFixed(2)} s; docker run --rm to /dev/null ${rawMillion.seconds.toFixed(2)} s)  target >= 200,000 lines/s  ${rate >= 200_000 ? "OK" : "MISSED"}`,
);
printNodeStartNote("node bench/run.mjs");
rmSync(zoo, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
