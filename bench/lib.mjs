// Small helpers shared by the benchmarks: timing whole processes and printing medians and ratios.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min, max and count of samples, as printRows shows them. */
export function stats(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/** Wall time of `command args` in seconds, `runs` times after `warmup` unmeasured runs. */
export function timeProcess(command, args, { runs = 15, warmup = 2, cwd, env } = {}) {
  const samples = [];
  for (let i = 0; i < warmup + runs; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0) {
      throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
    }
    if (i >= warmup) samples.push(seconds);
  }
  return stats(samples);
}

export function printRows(rows) {
  const width = Math.max(...rows.map((row) => row.name.length));
  for (const row of rows) {
    const ratio = row.ratio === undefined ? "" : `  ratio ${row.ratio.toFixed(2)}x`;
    const target = row.target === undefined ? "" : `  target ${row.target}  ${row.ok ? "OK" : "MISSED"}`;
    console.log(
      `${row.name.padEnd(width)}  median ${row.median.toFixed(3)} s  (min ${row.min.toFixed(3)}, max ${row.max.toFixed(3)}, n=${row.runs})${ratio}${target}`,
    );
  }
}

/** A private copy of the bundled zoo (runs write into the MAD root) and an empty output directory. */
export function benchWorkspace(repo, outPrefix = "madengine-bench-out-") {
  const zoo = mkdtempSync(path.join(tmpdir(), "madengine-bench-zoo-"));
  const out = mkdtempSync(path.join(tmpdir(), outPrefix));
  cpSync(path.join(repo, "assets", "zoo"), zoo, { recursive: true });
  return { zoo, out };
}

/**
 * Node reads and parses the certificates NODE_EXTRA_CA_CERTS names at every start, before any of our
 * code runs (~30 ms for a full CA bundle on the testbed machine), while the docker CLI (Go) reads
 * certificates only when it speaks TLS: when the variable is set, says what it costs here.
 */
export function printNodeStartNote(command) {
  if (!process.env.NODE_EXTRA_CA_CERTS) return;
  const withoutCerts = { ...process.env };
  delete withoutCerts.NODE_EXTRA_CA_CERTS;
  const nodeStart = (env) => {
    const times = [];
    for (let i = 0; i < 9; i++) {
      const started = process.hrtime.bigint();
      spawnSync(process.execPath, ["-e", "0"], { env });
      times.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    return median(times);
  };
  console.log(
    `note: NODE_EXTRA_CA_CERTS is set: \`node -e 0\` takes ${nodeStart(process.env).toFixed(3)} s with it, ` +
      `${nodeStart(withoutCerts).toFixed(3)} s without (every madengine-cli start pays the difference); ` +
      `\`env -u NODE_EXTRA_CA_CERTS ${command}\` measures without it`,
  );
}

/**
 * Starts `madengine-cli serve` on 127.0.0.1 with `extraArgs`; resolves once it prints its address,
 * with the time it was started and the time the address was printed (performance.now()).
 */
export function startServe(repo, extraArgs) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [path.join(repo, "bin", "madengine-cli"), "serve", "--host", "127.0.0.1", ...extraArgs],
    { cwd: repo, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /madengine Control Center: (http:\/\/\S+)/.exec(output);
      if (match) resolve({ child, url: match[1], started, printedAt: performance.now() });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${output}`)));
  });
}

/** Stops a serve started by startServe: SIGTERM, SIGKILL after 10 s. */
export async function stopServe(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
