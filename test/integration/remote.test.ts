import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyBundledZoo, readPerfRows, runCli } from "../helpers/cli.js";
import { testbedNodes, writeNodesFile } from "../helpers/nodes.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';

let testbed: Testbed;
let zoo: string;
let cwd: string;
const cleanup: string[] = [];

beforeAll(async () => {
  testbed = loadTestbed();
  zoo = copyBundledZoo();
  cwd = `${zoo}-out`;
  mkdirSync(cwd);
  cleanup.push(zoo, cwd);
  const built = await cli([
    "build",
    "--mad-root",
    zoo,
    "--tags",
    "dummy",
    "dummy_multi",
    "family/model_a",
    "dummy_fail",
    "-c",
    UBUNTU,
    "--registry",
    testbed.registry,
  ]);
  expect(built.code).toBe(0);
});
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], dir?: string) {
  return runCli(args, { cwd: dir ?? cwd, env: { DOCKER_HOST: testbed.dockerHost } });
}

function freshDir(): string {
  const dir = path.join(cwd, `case-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  return dir;
}

const manifest = () => path.join(cwd, "build_manifest.json");

describe("runs dispatched to SSH nodes (real sshd, real Docker over SSH)", () => {
  it("replicate: every model on every node, one merged perf.csv, per-node logs and summary", async () => {
    const dir = freshDir();
    const nodesFile = writeNodesFile(dir, testbedNodes(testbed));
    const result = await cli(
      [
        "run",
        "--mad-root",
        zoo,
        "--manifest-file",
        manifest(),
        "--nodes",
        nodesFile,
        "-s",
        "summary.json",
        "--live-output",
      ],
      dir,
    );
    expect(result.code).toBe(3); // dummy_fail fails on every node
    const all = readPerfRows(dir);
    const byNode = (node: string) =>
      all
        .filter((row) => row.machine_name === node)
        .map((row) => `${row.model}:${row.status}`)
        .sort();
    for (const node of ["node1", "node2", "node3", "node4"]) {
      expect(byNode(node)).toEqual([
        "dummy:SUCCESS",
        "dummy_fail:FAILURE",
        "dummy_multi_1:SUCCESS",
        "dummy_multi_2:SUCCESS",
        "dummy_multi_3:SUCCESS",
        "family/model_a:SUCCESS",
      ]);
      expect(readdirSync(path.join(dir, node))).toContain("dummy_dummy.ubuntu.none.run.live.log");
    }
    const summary = JSON.parse(readFileSync(path.join(dir, "summary.json"), "utf8"));
    expect(Object.keys(summary.nodes)).toEqual(["node1", "node2", "node3", "node4"]);
    expect(summary.nodes.node2).toEqual({ status: "ok", successful: 3, failed: 1 });
    expect(result.stdout).toMatch(/\[node3\/dummy\] performance: \d+ samples_per_second/);
    expect(result.stdout).toContain("node1: ready");
  });

  it("distribute: each image runs once, spread over the nodes", async () => {
    const dir = freshDir();
    const nodesFile = writeNodesFile(dir, testbedNodes(testbed, { count: 2 }));
    const result = await cli(
      [
        "run",
        "--mad-root",
        zoo,
        "--manifest-file",
        manifest(),
        "--nodes",
        nodesFile,
        "--strategy",
        "distribute",
      ],
      dir,
    );
    expect(result.code).toBe(3);
    const models = readPerfRows(dir)
      .map((row) => row.model)
      .sort();
    expect(models).toEqual([
      "dummy",
      "dummy_fail",
      "dummy_multi_1",
      "dummy_multi_2",
      "dummy_multi_3",
      "family/model_a",
    ]);
    expect(new Set(readPerfRows(dir).map((row) => row.machine_name))).toEqual(new Set(["node1", "node2"]));
  });

  it("nodes check passes on healthy nodes; status reports no GPU truthfully", async () => {
    const dir = freshDir();
    const nodesFile = writeNodesFile(dir, testbedNodes(testbed));
    const check = await cli(
      ["nodes", "check", "--nodes", nodesFile, "--manifest-file", manifest(), "--json"],
      dir,
    );
    expect(check.code).toBe(0);
    const report = JSON.parse(check.stdout);
    expect(report.nodes).toHaveLength(4);
    for (const node of report.nodes)
      expect(node.checks.map((c: { check: string; ok: boolean }) => `${c.check}:${c.ok}`)).toEqual([
        "ssh:true",
        "docker:true",
        "gpus:true",
        "disk:true",
        "images:true",
      ]);
    const status = await cli(["nodes", "status", "--nodes", nodesFile, "--json"], dir);
    expect(status.code).toBe(0);
    const health = JSON.parse(status.stdout);
    expect(health.nodes[0]).toMatchObject({ node: "node1", reachable: true });
    expect(health.nodes[0].facts.gpus.vendor).toBe("NONE");
    expect(health.nodes[0].facts.gpus.devices).toEqual([]);
    expect(health.nodes[0].facts.dockerApiVersion).toBe("1.41");
  });

  it("host keys: unknown is refused with its fingerprint, trusted explicitly; a changed key is refused", async () => {
    const dir = freshDir();
    const knownHosts = path.join(dir, "known_hosts");
    const nodes = testbedNodes(testbed, { count: 2, knownHostsFile: knownHosts });
    const nodesFile = writeNodesFile(dir, nodes);
    const refused = await cli(["nodes", "check", "--nodes", nodesFile], dir);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain(`fingerprint ${testbed.nodes[0]!.hostKeyFingerprint}`);
    expect(refused.stdout).toContain("madengine-cli nodes trust node1");

    const trust = await cli(["nodes", "trust", "node1", "--nodes", nodesFile, "--yes"], dir);
    expect(trust.code).toBe(0);
    expect(trust.stdout).toContain(testbed.nodes[0]!.hostKeyFingerprint);
    expect(readFileSync(knownHosts, "utf8")).toContain("[127.0.100.1]:2222 ssh-ed25519");

    const auto = await cli(["nodes", "check", "--nodes", nodesFile, "--trust-new-hosts"], dir);
    expect(auto.code).toBe(0);
    expect(readFileSync(knownHosts, "utf8")).toContain("[127.0.100.2]:2222 ssh-ed25519");

    // node2's line now carries node1's key: a changed key, refused even with --trust-new-hosts
    const lines = readFileSync(knownHosts, "utf8").trim().split("\n");
    const node1Key = lines[0]!.split(" ").slice(1).join(" ");
    writeFileSync(knownHosts, `${lines[0]}\n[127.0.100.2]:2222 ${node1Key}\n`);
    const changed = await cli(
      ["run", "--mad-root", zoo, "--manifest-file", manifest(), "--nodes", nodesFile, "--trust-new-hosts"],
      dir,
    );
    expect(changed.code).toBe(3);
    expect(changed.stdout).toContain("HOST KEY CHANGED for 127.0.100.2:2222");
    expect(changed.stdout).toContain(testbed.nodes[0]!.hostKeyFingerprint);
    expect(changed.stdout).toContain(testbed.nodes[1]!.hostKeyFingerprint);
    expect(readPerfRows(dir).every((row) => row.machine_name === "node1")).toBe(true);
  });

  it("a node that is down or refuses our key fails preflight; the others still run", async () => {
    const dir = freshDir();
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "stranger")]);
    const nodes = [
      ...testbedNodes(testbed, { count: 1 }),
      { ...testbedNodes(testbed)[1]!, name: "wrongkey", identityFile: path.join(dir, "stranger") },
      { ...testbedNodes(testbed)[2]!, name: "down", host: "127.0.100.250" },
    ];
    const nodesFile = writeNodesFile(dir, nodes);
    const result = await cli(
      ["run", "--mad-root", zoo, "--manifest-file", manifest(), "--nodes", nodesFile, "-s", "s.json"],
      dir,
    );
    expect(result.code).toBe(3);
    const summary = JSON.parse(readFileSync(path.join(dir, "s.json"), "utf8"));
    expect(summary.nodes.node1.status).toBe("ok");
    expect(summary.nodes.wrongkey.status).toBe("unreachable");
    expect(summary.nodes.wrongkey.error).toContain("authentication failed");
    expect(summary.nodes.down.status).toBe("unreachable");
    expect(summary.nodes.down.error).toMatch(/cannot connect|did not answer/);
    expect(new Set(readPerfRows(dir).map((row) => row.machine_name))).toEqual(new Set(["node1"]));
  });

  it("model names and args full of shell metacharacters inject nothing (canary files stay absent)", async () => {
    const dir = freshDir();
    const evilZoo = copyBundledZoo();
    cleanup.push(evilZoo);
    const canary = path.join(dir, "CANARY");
    const models = JSON.parse(readFileSync(path.join(evilZoo, "models.json"), "utf8"));
    models.push({
      name: `evil;touch ${canary};$(touch ${canary}2)`,
      dockerfile: "docker/dummy",
      scripts: "scripts/dummy/run_args.sh",
      n_gpus: "1",
      tags: ["evil"],
      args: `'; touch ${canary}3 #' "$(touch ${canary}4)" \`touch ${canary}5\``,
    });
    writeFileSync(path.join(evilZoo, "models.json"), JSON.stringify(models));
    const built = await cli(["build", "--mad-root", evilZoo, "--tags", "evil", "-c", UBUNTU], dir);
    expect(built.code).toBe(0);
    const nodesFile = writeNodesFile(dir, testbedNodes(testbed, { count: 1 }));
    const result = await cli(
      ["run", "--mad-root", evilZoo, "--manifest-file", "build_manifest.json", "--nodes", nodesFile],
      dir,
    );
    expect(result.code).toBe(0);
    const local = await cli(["run", "--mad-root", evilZoo, "--manifest-file", "build_manifest.json"], dir);
    expect(local.code).toBe(0);
    for (const suffix of ["", "2", "3", "4", "5"]) expect(existsSync(`${canary}${suffix}`)).toBe(false);
    const row = readPerfRows(dir)[0]!;
    expect(row.model).toBe(`evil;touch ${canary};$(touch ${canary}2)`);
    expect(row.performance).toBe("4"); // the words as a shell splits them, with nothing expanded
  });
});
