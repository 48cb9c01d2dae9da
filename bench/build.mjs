// Benchmark: the build phase against plain `docker build`, on the testbed's daemon.
//  1. one zoo model, Docker layer cache warm, forced through the daemon (our image tag removed so the
//     up-to-date check misses) vs `DOCKER_BUILDKIT=0 docker build` of the same Dockerfile and context
//  2. one zoo model that is up to date (the inputs-hash label matches: no build runs)
//  3. ten unchanged models in one invocation
// Targets: (1) <= 3x plain docker build; (3) <= 0.5 s. Needs: npm run build, bash test/env/testbed-up.sh
// Usage: node bench/build.mjs [runs]
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchWorkspace, printRows, timeProcess } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const testbed = JSON.parse(
  readFileSync(path.join(process.env.MADENGINE_TESTBED ?? "/tmp/madengine-testbed", "testbed.json"), "utf8"),
);
const env = { DOCKER_HOST: testbed.dockerHost, DOCKER_BUILDKIT: "0", NO_COLOR: "1" };
const runs = Number(process.argv[2] ?? 9);
const cli = path.join(repo, "bin", "madengine-cli");
const context = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';

const { zoo, out } = benchWorkspace(repo);
const models = JSON.parse(readFileSync(path.join(zoo, "models.json"), "utf8"));
for (let i = 0; i < 10; i++) {
  models.push({
    name: `bench_${i}`,
    dockerfile: "docker/dummy",
    scripts: "scripts/dummy/run.sh",
    n_gpus: "1",
    tags: ["bench10"],
    args: "",
  });
}
writeFileSync(path.join(zoo, "models.json"), JSON.stringify(models, null, 2));

function run(command, args) {
  const result = spawnSync(command, args, { cwd: out, env: { ...process.env, ...env }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.stderr}`);
}

// warm everything once: base image, layer cache, the ten images
run(process.execPath, [cli, "build", "--mad-root", zoo, "--tags", "dummy", "bench10", "-c", context]);
const dockerfile = path.join(zoo, "docker", "dummy.ubuntu.none.Dockerfile");
run("docker", ["build", "-q", "-t", "bench-plain-dummy", "-f", dockerfile, path.join(zoo, "docker")]);

const plain = timeProcess(
  "docker",
  ["build", "-q", "-t", "bench-plain-dummy", "-f", dockerfile, path.join(zoo, "docker")],
  {
    runs,
    cwd: out,
    env,
  },
);
const forced = { samples: [] };
const forcedTimes = [];
for (let i = 0; i < runs + 1; i++) {
  run("docker", ["rmi", "-f", "ci-dummy_dummy.ubuntu.none"]);
  const started = process.hrtime.bigint();
  run(process.execPath, [cli, "build", "--mad-root", zoo, "--tags", "dummy", "-c", context]);
  if (i > 0) forcedTimes.push(Number(process.hrtime.bigint() - started) / 1e9);
}
forced.median = [...forcedTimes].sort((a, b) => a - b)[Math.floor(forcedTimes.length / 2)];
forced.min = Math.min(...forcedTimes);
forced.max = Math.max(...forcedTimes);
forced.runs = forcedTimes.length;
// diagnostic: the same forced build with the interpreter python3 resolves to, named directly, which
// shows what version-manager shims (pyenv here) add to discovery of get_models_json.py zoos
const realPython = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
  encoding: "utf8",
}).stdout.trim();
const forcedDirect = [];
for (let i = 0; i < runs + 1; i++) {
  run("docker", ["rmi", "-f", "ci-dummy_dummy.ubuntu.none"]);
  const started = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    [cli, "build", "--mad-root", zoo, "--tags", "dummy", "-c", context],
    {
      cwd: out,
      env: { ...process.env, ...env, MADENGINE_PYTHON: realPython },
    },
  );
  if (result.status !== 0) throw new Error(String(result.stderr));
  if (i > 0) forcedDirect.push(Number(process.hrtime.bigint() - started) / 1e9);
}
const direct = {
  median: [...forcedDirect].sort((a, b) => a - b)[Math.floor(forcedDirect.length / 2)],
  min: Math.min(...forcedDirect),
  max: Math.max(...forcedDirect),
  runs: forcedDirect.length,
};
const upToDate = timeProcess(
  process.execPath,
  [cli, "build", "--mad-root", zoo, "--tags", "dummy", "-c", context],
  { runs, cwd: out, env },
);
const ten = timeProcess(
  process.execPath,
  [cli, "build", "--mad-root", zoo, "--tags", "bench10", "-c", context],
  { runs, cwd: out, env },
);

console.log(`build phase vs plain docker build (${runs} runs each, daemon ${testbed.dockerHost})`);
printRows([
  { name: "docker build (warm layer cache, baseline)", ...plain, ratio: 1 },
  {
    name: "madengine-cli build, 1 model, warm layer cache",
    ...forced,
    ratio: forced.median / plain.median,
    target: "<= 3x",
    ok: forced.median <= 3 * plain.median,
  },
  {
    name: `  same, MADENGINE_PYTHON=${realPython} (no shim)`,
    ...direct,
    ratio: direct.median / plain.median,
  },
  { name: "madengine-cli build, 1 model, up to date", ...upToDate, ratio: upToDate.median / plain.median },
  {
    name: "madengine-cli build, 10 unchanged models",
    ...ten,
    ratio: ten.median / plain.median,
    target: "<= 0.500 s",
    ok: ten.median <= 0.5,
  },
]);
run("docker", ["rmi", "-f", "bench-plain-dummy"]);
rmSync(zoo, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
