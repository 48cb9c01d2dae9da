// Benchmark: memory of live node health over time. A private testbed of 16 sshd nodes
// (TB_DIR=/tmp/tb-nodes16, 127.0.102.x:2224), the real AppService in this process with those 16
// nodes (trusted through the testbed's known_hosts), watched with a renewed lease (30 s, renewed
// every 10 s) for --seconds (default 300) at the default probe interval (5 s; --interval-ms N).
// After a warm-up, heap used (after a full GC) and RSS are sampled every 5 s; prints first, last,
// min, max, the slope of a least-squares line, the growth that line predicts over the run and the
// spread of the samples around it, and a verdict: growth within the noise or not.
// Needs: npm run build. Starts and stops its own testbed. Usage:
//   node bench/nodes-poll-memory.mjs [--seconds N] [--interval-ms N]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

if (typeof globalThis.gc !== "function") {
  // re-run with --expose-gc: heap is measured after a full collection, or garbage looks like growth
  const result = spawnSync(
    process.execPath,
    ["--expose-gc", fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  process.exit(result.status ?? 1);
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const seconds = arg("--seconds", 300);
const intervalMs = arg("--interval-ms", 5000);
const SAMPLE_MS = 5000;
const warmupMs = Math.min(30_000, (seconds * 1000) / 5);
const tbEnv = {
  ...process.env,
  TB_DIR: "/tmp/tb-nodes16",
  TB_NET: "127.0.102",
  TB_NODES: "16",
  TB_SSH_PORT: "2224",
  TB_REGISTRY_PORT: "5075",
  TB_AUTH_REGISTRY_PORT: "5076",
};
const sh = (script) => {
  const result = spawnSync("bash", [path.join(repo, "test", "env", script)], {
    env: tbEnv,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`${script}: ${result.stderr}`);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes) => `${(bytes / 1024 ** 2).toFixed(2)} MiB`;

/** Least-squares line through (t, y): slope per second, and the standard deviation of the residuals. */
function linearFit(points) {
  const n = points.length;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.t - mt) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((s, p) => s + (p.t - mt) * (p.y - my), 0) / sxx;
  const residuals = points.map((p) => p.y - (my + slope * (p.t - mt)));
  const spread = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / Math.max(1, n - 2));
  return { slope, spread };
}

function report(name, samples, durationS) {
  const ys = samples.map((s) => s.y);
  const { slope, spread } = linearFit(samples);
  const growth = slope * durationS;
  // beyond noise: the line climbs more over the run than 3 spreads of the samples around it
  const beyond = growth > 3 * spread && growth > 1024 * 1024;
  console.log(
    `${name.padEnd(10)} first ${mib(ys[0])}  last ${mib(ys.at(-1))}  min ${mib(Math.min(...ys))}  max ${mib(Math.max(...ys))}  slope ${mib(slope * 60)}/min  growth over ${durationS.toFixed(0)} s ${mib(growth)}  spread ±${mib(spread)}  -> ${beyond ? "GROWTH BEYOND NOISE" : "no growth beyond noise"}`,
  );
  return !beyond;
}

sh("testbed-up.sh");
const scratch = mkdtempSync(path.join(tmpdir(), "madengine-bench-nodes-"));
let service;
try {
  const tb = JSON.parse(readFileSync("/tmp/tb-nodes16/testbed.json", "utf8"));
  const { AppService } = await import(path.join(repo, "dist/src-main/app/appService.js"));
  service = new AppService({
    workspaceDir: path.join(scratch, "workspace"),
    dataDir: path.join(scratch, "data"),
    knownHostsFile: tb.knownHostsPath,
    env: { ...process.env, DOCKER_HOST: tb.dockerHost, MADENGINE_NODES_POLL_MS: String(intervalMs) },
  });
  for (const node of tb.nodes) {
    await service.invoke("nodes.add", {
      node: {
        name: node.name,
        host: node.host,
        port: node.port,
        user: node.user,
        identityFile: node.privateKeyPath,
        dockerSocket: tb.dockerSocket,
      },
    });
  }
  let events = 0;
  const healthyNodes = new Set();
  service.subscribe({
    send: (message) => {
      if (message.event !== "nodes.health") return;
      events += message.payload.nodes.length;
      for (const health of message.payload.nodes)
        if (health.state === "healthy") healthyNodes.add(health.node);
    },
  });
  const watch = () => service.invoke("nodes.watch", { watcher: "bench", leaseMs: 30_000 });
  await watch();
  const renew = setInterval(() => void watch(), 10_000);
  console.log(
    `nodes-poll-memory: ${tb.nodes.length} nodes, probe every ${intervalMs / 1000} s, ${seconds} s watched (warm-up ${warmupMs / 1000} s, a sample every ${SAMPLE_MS / 1000} s)`,
  );
  const started = Date.now();
  await sleep(warmupMs);
  const heap = [];
  const rss = [];
  const external = [];
  const heapTotal = [];
  const sampleStart = Date.now();
  while (Date.now() - started < seconds * 1000) {
    globalThis.gc();
    const usage = process.memoryUsage();
    const t = (Date.now() - sampleStart) / 1000;
    heap.push({ t, y: usage.heapUsed });
    rss.push({ t, y: usage.rss });
    external.push({ t, y: usage.external });
    heapTotal.push({ t, y: usage.heapTotal });
    await sleep(SAMPLE_MS);
  }
  clearInterval(renew);
  const snapshot = await service.invoke("nodes.health", {});
  const durationS = (Date.now() - sampleStart) / 1000;
  console.log(
    `health events: ${events} (${(events / ((Date.now() - started) / 1000)).toFixed(1)}/s); healthy at some point: ${healthyNodes.size}/${tb.nodes.length}; now: ${snapshot.nodes.filter((h) => h.state === "healthy").length} healthy, polling ${snapshot.polling}; ${heap.length} samples`,
  );
  const heapOk = report("heap used", heap, durationS);
  const rssOk = report("rss", rss, durationS);
  // Buffers and other memory outside the JS heap (ssh2 channels, sockets): where a native leak shows
  report("external", external, durationS);
  // the pages V8 holds for the heap (RSS follows them even when what is used stays flat)
  report("heap total", heapTotal, durationS);
  console.log(heapOk && rssOk ? "verdict: no growth beyond noise" : "verdict: memory grows beyond noise");
  await service.invoke("nodes.unwatch", { watcher: "bench" });
} finally {
  await service?.close();
  rmSync(scratch, { recursive: true, force: true });
  sh("testbed-down.sh");
}
