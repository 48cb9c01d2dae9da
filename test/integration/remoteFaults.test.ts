import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { copyBundledZoo, readPerfRows, runCli } from "../helpers/cli.js";
import { testbedNodes, writeNodesFile } from "../helpers/nodes.js";
import { repoPath } from "../helpers/tempDir.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
const NETNS = repoPath("test", "env", "netns-node.sh");

let testbed: Testbed;
let zoo: string;
let cwd: string;
let netnsNode: Record<string, unknown>;
const cleanup: string[] = [];

function netns(...args: string[]): string {
  return execFileSync("bash", [NETNS, ...args], {
    encoding: "utf8",
    env: { ...process.env, TB_DIR: testbed.dir },
  });
}

beforeAll(async () => {
  testbed = loadTestbed();
  zoo = copyBundledZoo();
  cwd = `${zoo}-out`;
  mkdirSync(cwd);
  cleanup.push(zoo, cwd);
  const models = JSON.parse(readFileSync(path.join(zoo, "models.json"), "utf8"));
  models.push({
    name: "zz_slow",
    dockerfile: "docker/dummy",
    scripts: "scripts/dummy/run_slow.sh",
    n_gpus: "1",
    tags: ["faults"],
    args: "",
    timeout: 0,
  });
  for (const model of models) if (model.name === "dummy") model.tags.push("faults");
  writeFileSync(path.join(zoo, "models.json"), JSON.stringify(models));
  writeFileSync(
    path.join(zoo, "scripts", "dummy", "run_slow.sh"),
    "#!/bin/sh\nsleep 8\necho performance: 8 slow_seconds\n",
    { mode: 0o755 },
  );
  const built = await runCli(
    ["build", "--mad-root", zoo, "--tags", "faults", "-c", UBUNTU, "--registry", testbed.registry],
    {
      cwd,
      env: { DOCKER_HOST: testbed.dockerHost },
    },
  );
  expect(built.code).toBe(0);
  netnsNode = JSON.parse(netns("up", "1"));
}, 120_000);

afterAll(() => {
  netns("down", "1");
  // a node whose sshd a test killed comes back
  spawnSync("bash", [repoPath("test", "env", "testbed-up.sh")], { env: process.env });
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = path.join(cwd, `case-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  return dir;
}

/** Copies an image from the testbed daemon into the namespace node's daemon (that node cannot reach the registry). */
function sideLoad(image: string): void {
  const copy = spawnSync(
    "bash",
    [
      "-c",
      'DOCKER_HOST="$1" docker save "$3" | DOCKER_HOST="$2" docker load',
      "side-load",
      testbed.dockerHost,
      `unix://${netnsNode.dockerSocket}`,
      image,
    ],
    { encoding: "utf8" },
  );
  expect(copy.status, copy.stderr).toBe(0);
}

/** Starts `run` in the background and calls `onLine` for each line of its output. */
function startRun(
  args: string[],
  dir: string,
  onLine: (line: string, child: ReturnType<typeof spawn>) => void,
) {
  const child = spawn(
    process.execPath,
    [repoPath("bin", "madengine-cli"), "run", "--mad-root", zoo, ...args],
    {
      cwd: dir,
      env: { ...process.env, DOCKER_HOST: testbed.dockerHost, NO_COLOR: "1" },
    },
  );
  let stdout = "";
  let pending = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line, child);
  });
  const done = new Promise<{ code: number | null; stdout: string; seconds: number }>((resolve) => {
    const started = performance.now();
    child.on("close", (code) => resolve({ code, stdout, seconds: (performance.now() - started) / 1000 }));
  });
  return { child, done, output: () => stdout };
}

/** Removes the containers a run left on the testbed's daemon (for a resume that a test does not do). */
function removeRunContainers(runId: string | undefined): void {
  if (!runId) return;
  spawnSync(
    "bash",
    [
      "-c",
      `docker rm -f $(docker ps -aq --filter label=org.madengine.run-id=${runId}) >/dev/null 2>&1; true`,
    ],
    { env: { ...process.env, DOCKER_HOST: testbed.dockerHost } },
  );
}

const runIdOf = (stdout: string) => /^run (\S+) \(state:/m.exec(stdout)?.[1];

describe("faults on SSH nodes", () => {
  it("registry unreachable from one node: that node fails preflight, the others run", async () => {
    const dir = freshDir();
    const nodesFile = writeNodesFile(dir, [...testbedNodes(testbed, { count: 1 }), netnsNode]);
    const result = await runCli(
      [
        "run",
        "--mad-root",
        zoo,
        "--manifest-file",
        path.join(cwd, "build_manifest.json"),
        "--nodes",
        nodesFile,
        "-s",
        "s.json",
      ],
      {
        cwd: dir,
        env: { DOCKER_HOST: testbed.dockerHost },
      },
    );
    expect(result.code).toBe(3);
    const summary = JSON.parse(readFileSync(path.join(dir, "s.json"), "utf8"));
    expect(summary.nodes.mdx1.status).toBe("unreachable");
    expect(summary.nodes.mdx1.error).toMatch(/images: .*127\.0\.0\.1:\d+.*connection refused/);
    expect(summary.nodes.node1).toMatchObject({ status: "ok", successful: 2 });
  });

  it("a slow link (tbf) still syncs and runs, with correct results", async () => {
    const dir = freshDir();
    sideLoad("ci-dummy_dummy.ubuntu.none");
    netns("slow", "1", "512kbit");
    try {
      const manifest = JSON.parse(readFileSync(path.join(cwd, "build_manifest.json"), "utf8"));
      for (const key of Object.keys(manifest.built_images))
        if (key !== "ci-dummy_dummy.ubuntu.none") delete manifest.built_images[key];
      writeFileSync(path.join(dir, "dummy.json"), JSON.stringify(manifest));
      const nodesFile = writeNodesFile(dir, [netnsNode]);
      const result = await runCli(
        ["run", "--mad-root", zoo, "--manifest-file", "dummy.json", "--nodes", nodesFile],
        {
          cwd: dir,
          env: { DOCKER_HOST: testbed.dockerHost },
        },
      );
      expect(result.code).toBe(0);
      expect(readPerfRows(dir)).toMatchObject([{ model: "dummy", status: "SUCCESS", machine_name: "mdx1" }]);
    } finally {
      netns("slow", "1", "off");
    }
  });

  it("a network partition: the node is lost within the keepalive limit, others finish, --resume collects it later", async () => {
    const dir = freshDir();
    sideLoad("ci-zz_slow_dummy.ubuntu.none");
    const nodesFile = writeNodesFile(dir, [...testbedNodes(testbed, { count: 1 }), netnsNode]);
    let partitionedAt = 0;
    const run = startRun(
      [
        "--manifest-file",
        path.join(cwd, "build_manifest.json"),
        "--nodes",
        nodesFile,
        "--ssh-keepalive",
        "1",
        "-s",
        "s.json",
      ],
      dir,
      (line) => {
        if (!partitionedAt && /mdx1\/zz_slow: running/.test(line)) {
          partitionedAt = performance.now();
          netns("partition", "1");
        }
      },
    );
    const first = await run.done;
    try {
      expect(partitionedAt).toBeGreaterThan(0);
      expect(first.code).toBe(3);
      const lostLine = /mdx1: LOST/.exec(first.stdout);
      expect(lostLine).not.toBeNull();
      const rows = readPerfRows(dir);
      expect(
        rows
          .filter((row) => row.machine_name === "node1")
          .map((row) => row.model)
          .sort(),
      ).toEqual(["dummy", "zz_slow"]);
      expect(rows.some((row) => row.machine_name === "mdx1" && row.model === "zz_slow")).toBe(false);
    } finally {
      netns("heal", "1");
    }
    const runId = runIdOf(first.stdout)!;
    const resumed = await runCli(["run", "--resume", runId], {
      cwd: dir,
      env: { DOCKER_HOST: testbed.dockerHost },
    });
    expect(resumed.code).toBe(0);
    const rows = readPerfRows(dir);
    const keys = rows.map((row) => `${row.machine_name}/${row.model}`).sort();
    expect(keys).toEqual(["mdx1/dummy", "mdx1/zz_slow", "node1/dummy", "node1/zz_slow"].sort());
    expect(rows.find((row) => row.machine_name === "mdx1" && row.model === "zz_slow")!.performance).toBe("8");
  });

  it("sshd killed mid-run: the node is reported lost, the other node finishes, exit 3", async () => {
    const dir = freshDir();
    const nodesFile = writeNodesFile(dir, testbedNodes(testbed, { count: 2 }));
    let killedAt = 0;
    let lostAt = 0;
    const run = startRun(
      [
        "--manifest-file",
        path.join(cwd, "build_manifest.json"),
        "--nodes",
        nodesFile,
        "--ssh-keepalive",
        "1",
      ],
      dir,
      (line) => {
        if (!killedAt && /node2\/zz_slow: running/.test(line)) {
          killedAt = performance.now();
          const pid = readFileSync(path.join(testbed.dir, "nodes", "node2", "sshd.pid"), "utf8").trim();
          spawnSync("bash", ["-c", `pkill -KILL -P ${pid}; kill -KILL ${pid}`]);
        }
        if (!lostAt && /node2: LOST/.test(line)) lostAt = performance.now();
      },
    );
    // node2's sshd comes back, and node2's container (left for a resume this test does not do) goes,
    // even when this test fails or times out: the tests after it need both
    onTestFinished(() => {
      spawnSync("bash", [repoPath("test", "env", "testbed-up.sh")], { env: process.env });
      removeRunContainers(runIdOf(run.output()));
    });
    const result = await run.done;
    expect(killedAt).toBeGreaterThan(0);
    expect(result.code).toBe(3);
    // keepalive 1 s x 3 missed, plus 5 s
    expect((lostAt - killedAt) / 1000).toBeLessThan(3 + 5);
    expect(
      readPerfRows(dir)
        .filter((row) => row.machine_name === "node1")
        .map((row) => row.model)
        .sort(),
    ).toEqual(["dummy", "zz_slow"]);
  });

  it("the CLI killed with kill -9 mid-run and resumed: no result lost, none duplicated", async () => {
    const dir = freshDir();
    const nodesFile = writeNodesFile(dir, testbedNodes(testbed, { count: 3 }));
    let killed = false;
    const run = startRun(
      ["--manifest-file", path.join(cwd, "build_manifest.json"), "--nodes", nodesFile],
      dir,
      (line, child) => {
        if (!killed && /zz_slow: running/.test(line)) {
          killed = true;
          child.kill("SIGKILL");
        }
      },
    );
    // a failed resume must not leave this run's containers in the way of later tests
    onTestFinished(() => removeRunContainers(runIdOf(run.output())));
    const first = await run.done;
    expect(killed).toBe(true);
    expect(first.code).toBeNull();
    const runId = runIdOf(first.stdout)!;
    const resumed = await runCli(["run", "--resume", runId], {
      cwd: dir,
      env: { DOCKER_HOST: testbed.dockerHost },
    });
    expect(resumed.code, `${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    const keys = readPerfRows(dir)
      .map((row) => `${row.machine_name}/${row.model}`)
      .sort();
    expect(keys).toEqual([
      "node1/dummy",
      "node1/zz_slow",
      "node2/dummy",
      "node2/zz_slow",
      "node3/dummy",
      "node3/zz_slow",
    ]);
    const again = await runCli(["run", "--resume", runId], {
      cwd: dir,
      env: { DOCKER_HOST: testbed.dockerHost },
    });
    expect(again.stdout).toContain("already finished");
    expect(readPerfRows(dir)).toHaveLength(6);
    // and no container of the run is left behind on the nodes
    const left = spawnSync("docker", ["ps", "-aq", "--filter", `label=org.madengine.run-id=${runId}`], {
      env: { ...process.env, DOCKER_HOST: testbed.dockerHost },
      encoding: "utf8",
    });
    expect(left.stdout.trim()).toBe("");
  });
});
