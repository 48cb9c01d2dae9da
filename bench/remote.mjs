// Benchmark: dispatch of one short model (sleep 2, as the fan-out measurement in the testbed notes)
// to 1, 4 and 16 SSH nodes (a private testbed: its own dockerd shared by all nodes, 16 sshd nodes on
// 127.0.101.x), wall time and ratio to the 1-node time, next to an instant model and to 1 vs 16
// concurrent plain `docker run` on the same daemon (the floor this 2-core machine sets); and
// the latency of a Docker API call over our persistent SSH connection vs dockerode's own `ssh`
// protocol (a new SSH connection + `docker system dial-stdio` per call).
// Targets: 16 nodes <= 2x the 1-node time; <= 20 ms per remote API call.
// Needs: npm run build. Starts and stops its own testbed. Usage: node bench/remote.mjs [runs]
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchWorkspace, median } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const runs = Number(process.argv[2] ?? 3);
const tbEnv = {
  ...process.env,
  TB_DIR: "/tmp/madengine-bench-tb",
  TB_NET: "127.0.101",
  TB_NODES: "16",
  TB_REGISTRY_PORT: "5065",
  TB_AUTH_REGISTRY_PORT: "5066",
};
const sh = (script, env = tbEnv) => {
  const result = spawnSync("bash", [path.join(repo, "test", "env", script)], { env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${script}: ${result.stderr}`);
};
sh("testbed-up.sh");
try {
  const tb = JSON.parse(readFileSync("/tmp/madengine-bench-tb/testbed.json", "utf8"));
  const env = { ...process.env, DOCKER_HOST: tb.dockerHost, NO_COLOR: "1" };
  const cli = path.join(repo, "bin", "madengine-cli");
  const { zoo, out } = benchWorkspace(repo);
  const models = JSON.parse(readFileSync(path.join(zoo, "models.json"), "utf8"));
  models.push({
    name: "bench_short",
    dockerfile: "docker/dummy",
    scripts: "scripts/dummy/run_short.sh",
    n_gpus: "1",
    tags: [],
    args: "",
  });
  writeFileSync(path.join(zoo, "models.json"), JSON.stringify(models));
  writeFileSync(
    path.join(zoo, "scripts", "dummy", "run_short.sh"),
    "#!/bin/sh\nsleep 2\necho performance: 1 runs\n",
    { mode: 0o755 },
  );
  const call = (args) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [cli, ...args], { cwd: out, env, encoding: "utf8" });
    if (result.status !== 0)
      throw new Error(`madengine-cli ${args.join(" ")}: ${result.stdout}\n${result.stderr}`);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  const context = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
  call(["build", "--mad-root", zoo, "--tags", "bench_short", "-c", context, "-m", "short.json"]);
  call(["build", "--mad-root", zoo, "--tags", "dummy", "-c", context, "-m", "instant.json"]);
  const nodesFile = (count) => {
    const file = path.join(out, `nodes-${count}.json`);
    const nodes = tb.nodes.slice(0, count).map((n) => ({
      name: n.name,
      host: n.host,
      port: n.port,
      user: n.user,
      identityFile: n.privateKeyPath,
      dockerSocket: tb.dockerSocket,
      knownHostsFile: tb.knownHostsPath,
    }));
    writeFileSync(file, JSON.stringify({ version: 1, nodes }));
    return file;
  };
  const measure = (manifest) => {
    const times = {};
    for (const count of [1, 4, 16]) {
      const file = nodesFile(count);
      const dispatch = (csv) =>
        call(["run", "--mad-root", zoo, "--manifest-file", manifest, "--nodes", file, "-o", csv]);
      dispatch(`warm-${count}.csv`);
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(dispatch(`perf-${count}.csv`));
      times[count] = median(samples);
    }
    return times;
  };
  const report = (label, times, withTarget) => {
    console.log(label);
    for (const count of [1, 4, 16]) {
      const ratio = times[count] / times[1];
      const target = withTarget && count === 16 ? `  target <= 2x  ${ratio <= 2 ? "OK" : "MISSED"}` : "";
      console.log(
        `  ${String(count).padStart(2)} node(s): median ${times[count].toFixed(2)} s  ratio ${ratio.toFixed(2)}x${target}`,
      );
    }
  };
  const dockerRuns = (count) => {
    const started = process.hrtime.bigint();
    const result = spawnSync(
      "bash",
      [
        "-c",
        `for i in $(seq ${count}); do docker run --rm --network none ci-dummy_dummy.ubuntu.none true & done; wait`,
      ],
      { env, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(result.stderr);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  const cores = require("node:os").cpus().length;
  report(
    `dispatch of a 2-second model (${runs} runs each, whole process, one shared dockerd, ${cores} cores)`,
    measure("short.json"),
    true,
  );
  report("dispatch of an instant model (the same, container lifecycle only)", measure("instant.json"), false);
  dockerRuns(1);
  const one = median([dockerRuns(1), dockerRuns(1), dockerRuns(1)]);
  const sixteen = median([dockerRuns(16), dockerRuns(16), dockerRuns(16)]);
  console.log(
    `plain docker run --rm on this daemon: 1 at a time ${one.toFixed(2)} s, 16 at once ${sixteen.toFixed(2)} s (ratio ${(sixteen / one).toFixed(2)}x)`,
  );

  // API latency: our connection (streamlocal channel per request on one SSH connection) vs dockerode ssh
  const { NodeConnection } = await import(
    path.join(repo, "dist", "src-main", "engine", "remote", "connection.js")
  );
  const { remoteDockerEndpoint } = await import(
    path.join(repo, "dist", "src-main", "engine", "remote", "remoteDocker.js")
  );
  const node = tb.nodes[0];
  const connection = await NodeConnection.connect({
    name: node.name,
    host: node.host,
    port: node.port,
    user: node.user,
    identityFile: node.privateKeyPath,
    checkHostKey: () => ({ accept: true }),
  });
  const ours = remoteDockerEndpoint(connection, tb.dockerSocket).docker;
  const timeCalls = async (docker, count) => {
    await docker.ping();
    const samples = [];
    for (let i = 0; i < count; i++) {
      const started = process.hrtime.bigint();
      await docker.ping();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(samples);
  };
  const ourMs = await timeCalls(ours, 50);
  connection.close();
  // dockerode's ssh transport is measured in a child process: this one loaded dockerode without it
  const child = spawnSync(
    process.execPath,
    [
      "-e",
      `const Docker = require("dockerode"); const fs = require("fs");
       const d = new Docker({ protocol: "ssh", host: ${JSON.stringify(node.host)}, port: ${node.port}, username: ${JSON.stringify(node.user)}, sshOptions: { privateKey: fs.readFileSync(${JSON.stringify(node.privateKeyPath)}) } });
       (async () => { await d.ping(); const s = []; for (let i = 0; i < 10; i++) { const t = process.hrtime.bigint(); await d.ping(); s.push(Number(process.hrtime.bigint() - t) / 1e6); }
         s.sort((a, b) => a - b); console.log(s[5]); })().catch((e) => { console.error(e.message); process.exit(1); });`,
    ],
    { cwd: repo, encoding: "utf8" },
  );
  const sshMs = Number(child.stdout.trim());
  console.log("Docker API call (ping) on a remote node");
  console.log(
    `  persistent SSH connection (ours): median ${ourMs.toFixed(1)} ms  target <= 20 ms  ${ourMs <= 20 ? "OK" : "MISSED"}`,
  );
  console.log(
    `  dockerode protocol ssh:           median ${sshMs.toFixed(1)} ms  ratio ${(sshMs / ourMs).toFixed(1)}x slower`,
  );
  rmSync(zoo, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
} finally {
  spawnSync("bash", [path.join(repo, "test", "env", "testbed-down.sh"), "--purge"], { env: tbEnv });
}
