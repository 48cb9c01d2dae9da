// Benchmark: the build phase against plain `docker build` (classic builder), on the testbed's daemon.
//
// Scenarios, measured in interleaved rounds (one sample of each per round, so a load spike on this
// shared machine hits every scenario alike):
//  A. baseline: `docker build` of the zoo model's Dockerfile and context, every layer cached
//  1. madengine-cli build of the same model, every layer cached, through the daemon: our tag is
//     removed before each run (the image itself is kept under a second tag, so the layer cache stays
//     warm), so the up-to-date check misses and the daemon builds, all steps from cache.
//     Target: <= 3x A (issue #3: "build of one zoo model with a warm cache vs plain docker build").
//  2. madengine-cli build of the same model when it is up to date (what a repeated build does)
//  3. diagnostic: our image deleted (`docker rmi`), which also deletes its inputs-hash LABEL layer;
//     the daemon then re-creates that layer (a container create + commit). Compared with
//  B. `docker build --label` of the same context after the same deletion: the same daemon work.
//  4. ten unchanged models in one invocation. Target: <= 0.5 s.
// Needs: npm run build, bash test/env/testbed-up.sh.   Usage: node bench/build.mjs [rounds]
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchWorkspace, printNodeStartNote, printRows, stats } from "./lib.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const testbed = JSON.parse(
  readFileSync(path.join(process.env.MADENGINE_TESTBED ?? "/tmp/madengine-testbed", "testbed.json"), "utf8"),
);
const env = { ...process.env, DOCKER_HOST: testbed.dockerHost, DOCKER_BUILDKIT: "0", NO_COLOR: "1" };
const rounds = Number(process.argv[2] ?? 9);
const cli = path.join(repo, "bin", "madengine-cli");
const context = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
// the zoo's `dummy` model
const ourImage = "ci-dummy_dummy.ubuntu.none";
const keepTag = "madengine-bench-keep:dummy";
const plainImage = "madengine-bench-plain:dummy";
const plainLabelled = "madengine-bench-plain:labelled";

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
const dockerfile = path.join(zoo, "docker", "dummy.ubuntu.none.Dockerfile");
const plainBuild = ["build", "-q", "-t", plainImage, "-f", dockerfile, path.join(zoo, "docker")];
const labelledBuild = [
  "build",
  "-q",
  "--label",
  "org.madengine.inputs-hash=bench",
  "-t",
  plainLabelled,
  "-f",
  dockerfile,
  path.join(zoo, "docker"),
];
const ourBuild = [cli, "build", "--mad-root", zoo, "--tags", "dummy", "-c", context];

function run(command, args) {
  const result = spawnSync(command, args, { cwd: out, env, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** Wall seconds of one process; `expect` checks its output says it did what the scenario means. */
function timed(command, args, expect) {
  const started = process.hrtime.bigint();
  const stdout = run(command, args);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (expect && !stdout.includes(expect))
    throw new Error(`expected "${expect}" from ${args.join(" ")}:\n${stdout}`);
  return seconds;
}

// warm everything once: base image, layer cache, the ten images
run(process.execPath, [cli, "build", "--mad-root", zoo, "--tags", "dummy", "bench10", "-c", context]);
run("docker", plainBuild);
run("docker", labelledBuild);

const samples = { plain: [], warm: [], upToDate: [], labelled: [], evicted: [], ten: [] };
for (let round = 0; round < rounds + 1; round++) {
  const sample = {};
  sample.plain = timed("docker", plainBuild);
  // untag only: the image stays (under keepTag), so every layer of ours is still cached
  run("docker", ["tag", ourImage, keepTag]);
  run("docker", ["rmi", ourImage]);
  sample.warm = timed(process.execPath, ourBuild, "1 built, 0 up to date");
  sample.upToDate = timed(process.execPath, ourBuild, "0 built, 1 up to date");
  run("docker", ["rmi", "-f", plainLabelled]);
  sample.labelled = timed("docker", labelledBuild);
  run("docker", ["rmi", "-f", keepTag]);
  // by id, with every tag it has (a test's registry push of it would otherwise keep it alive)
  run("docker", ["rmi", "-f", run("docker", ["image", "inspect", "-f", "{{.Id}}", ourImage]).trim()]);
  sample.evicted = timed(process.execPath, ourBuild, "1 built, 0 up to date");
  sample.ten = timed(
    process.execPath,
    [cli, "build", "--mad-root", zoo, "--tags", "bench10", "-c", context],
    "0 built, 10 up to date",
  );
  // the first round only warms up
  if (round > 0) for (const [key, value] of Object.entries(sample)) samples[key].push(value);
}

const plain = stats(samples.plain);
const warm = stats(samples.warm);
const upToDate = stats(samples.upToDate);
const labelled = stats(samples.labelled);
const evicted = stats(samples.evicted);
const ten = stats(samples.ten);

console.log(`build phase vs plain docker build (${rounds} interleaved rounds, daemon ${testbed.dockerHost})`);
printRows([
  { name: "A. docker build, every layer cached (baseline)", ...plain, ratio: 1 },
  {
    name: "1. madengine-cli build, 1 model, every layer cached (via daemon)",
    ...warm,
    ratio: warm.median / plain.median,
    target: "<= 3x",
    ok: warm.median <= 3 * plain.median,
  },
  {
    name: "2. madengine-cli build, 1 model, up to date",
    ...upToDate,
    ratio: upToDate.median / plain.median,
    target: "<= 3x",
    ok: upToDate.median <= 3 * plain.median,
  },
  {
    name: "4. madengine-cli build, 10 unchanged models",
    ...ten,
    ratio: ten.median / plain.median,
    target: "<= 0.500 s",
    ok: ten.median <= 0.5,
  },
]);
console.log(
  "diagnostic: the image deleted first, so its label layer is rebuilt (a container create + commit)",
);
printRows([
  { name: "B. docker build --label, that layer deleted", ...labelled, ratio: 1 },
  {
    name: "3. madengine-cli build, 1 model, image deleted",
    ...evicted,
    ratio: evicted.median / labelled.median,
  },
  { name: "   (3 against A)", ...evicted, ratio: evicted.median / plain.median },
]);
printNodeStartNote("node bench/build.mjs");
for (const image of [plainImage, plainLabelled, keepTag]) spawnSync("docker", ["rmi", "-f", image], { env });
rmSync(zoo, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
