/**
 * The Nodes part through the real AppService on the testbed's sshd nodes: inventory calls, trust on
 * first use against a scratch known_hosts (unknown -> trust -> known; a wrong fingerprint and a
 * changed key refused), live health while watched (Docker version per node, the replayed GPU on
 * node1, a refused port and a silent listener explained while the others keep updating), polling
 * and connections gone after unwatch, preflight, import from the testbed's ssh config.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeHealth } from "../../shared/contract/nodes.js";
import { AppService } from "../../src-main/app/appService.js";
import type { EventMessage } from "../../src-main/app/eventHub.js";
import { installReplayedNvidiaSmi, REPLAYED_GPU } from "../helpers/replayedGpu.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

let testbed: Testbed;
let scratch: string;
let knownHosts: string;
let service: AppService;
let silent: net.Server;
let silentPort: number;
let undoGpu: () => Promise<void>;
const healthEvents: NodeHealth[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out; last value: ${JSON.stringify(value).slice(0, 2000)}`);
    await sleep(50);
  }
}

const latest = (name: string) => healthEvents.filter((health) => health.node === name).at(-1);

/** Client-side TCP connections this process holds to host:port. */
/** Our own established connections to host:port (others, e.g. Ansible's persistent SSH masters, are not ours). */
function openSshConnections(host: string, port: number): number {
  const out = execFileSync("ss", ["-Htnp", "state", "established", "dst", `${host}:${port}`], {
    encoding: "utf8",
  });
  return out.split("\n").filter((line) => line.includes(`pid=${process.pid},`)).length;
}

function testbedNode(index: number) {
  const node = testbed.nodes[index]!;
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    user: node.user,
    identityFile: node.privateKeyPath,
    dockerSocket: testbed.dockerSocket,
    labels: { rack: index % 2 === 0 ? "a" : "b" },
  };
}

beforeAll(async () => {
  testbed = loadTestbed();
  scratch = await mkdtemp(path.join(os.tmpdir(), "madengine-nodes-app-"));
  knownHosts = path.join(scratch, "known_hosts");
  // a listener that accepts and never says a word: SSH times out on it
  silent = net.createServer((socket) => socket.on("error", () => {}));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentPort = (silent.address() as net.AddressInfo).port;
  undoGpu = await installReplayedNvidiaSmi(testbed, testbed.nodes[0]!.name);
  service = new AppService({
    workspaceDir: path.join(scratch, "workspace"),
    dataDir: path.join(scratch, "data"),
    knownHostsFile: knownHosts,
    env: {
      ...process.env,
      MADENGINE_NODES_POLL_MS: "300",
      MADENGINE_NODES_PROBE_TIMEOUT_MS: "2000",
      MADENGINE_NODES_IDLE_CLOSE_MS: "300",
    },
  });
  service.subscribe({
    send: (message: EventMessage) => {
      if (message.event === "nodes.health") healthEvents.push(...message.payload.nodes);
    },
  });
});

afterAll(async () => {
  await service?.close();
  silent?.close();
  await undoGpu?.();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("nodes inventory through the AppService", () => {
  it("starts empty, names the file", async () => {
    const listed = await service.invoke("nodes.list", {});
    expect(listed).toEqual({ file: path.join(scratch, "data", "nodes.json"), nodes: [] });
  });

  it("refuses bad input with the field at fault", async () => {
    const badPort = await service.call("nodes.add", { node: { name: "x", host: "h", port: 70000 } });
    expect(badPort).toMatchObject({ ok: false, error: { code: "INVALID_ARGS", path: "node.port" } });
    const badName = await service.call("nodes.add", { node: { name: "a b", host: "h" } });
    expect(badName).toMatchObject({ ok: false, error: { path: "node.name" } });
    const userInHost = await service.call("nodes.add", { node: { name: "x", host: "root@h" } });
    expect(userInHost.ok ? "" : userInHost.error.message).toMatch(/without 'user@'/);
  });

  it("adds the testbed nodes, a refused port and a silent listener", async () => {
    for (const index of [0, 1, 2]) await service.invoke("nodes.add", { node: testbedNode(index) });
    await service.invoke("nodes.add", {
      node: { ...testbedNode(0), name: "refused", host: "127.0.101.250", labels: {} },
    });
    await service.invoke("nodes.add", {
      node: { ...testbedNode(0), name: "silent", host: "127.0.0.1", port: silentPort, labels: {} },
    });
    const twice = await service.call("nodes.add", { node: testbedNode(0) });
    expect(twice).toMatchObject({ ok: false, error: { path: "node.name" } });
    const listed = await service.invoke("nodes.list", {});
    expect(listed.nodes.map((node) => node.name)).toEqual(["node1", "node2", "node3", "refused", "silent"]);
  });

  it("edits a node and reports an unknown one with the nearest name", async () => {
    const updated = await service.invoke("nodes.update", {
      name: "node3",
      node: { ...testbedNode(2), labels: { rack: "c", gpu: "none" } },
    });
    expect(updated.node.labels).toEqual({ rack: "c", gpu: "none" });
    const unknown = await service.call("nodes.update", { name: "nod3", node: testbedNode(2) });
    expect(unknown.ok ? "" : unknown.error.hint).toMatch(/node3/);
  });
});

describe("trust on first use", () => {
  it("shows an unknown key with the testbed's fingerprint, refuses a different one, then trusts", async () => {
    const seen = await service.invoke("nodes.hostKey", { name: "node1" });
    expect(seen).toMatchObject({
      status: "unknown",
      keyType: "ssh-ed25519",
      fingerprint: testbed.nodes[0]!.hostKeyFingerprint,
      knownHostsFile: knownHosts,
    });
    const wrong = await service.call("nodes.trust", {
      name: "node1",
      fingerprint: testbed.nodes[1]!.hostKeyFingerprint,
    });
    expect(wrong).toMatchObject({ ok: false, error: { code: "INVALID_ARGS", path: "fingerprint" } });
    for (const index of [0, 1, 2]) {
      const node = testbed.nodes[index]!;
      const trusted = await service.invoke("nodes.trust", {
        name: node.name,
        fingerprint: node.hostKeyFingerprint,
      });
      expect(trusted.trusted).toBe(true);
    }
    expect(await service.invoke("nodes.hostKey", { name: "node1" })).toMatchObject({ status: "known" });
    expect(readFileSync(knownHosts, "utf8").trim().split("\n")).toHaveLength(3);
  });

  it("a changed key is shown loudly and never trusted", async () => {
    // a known_hosts that pins node2's address to node1's key: node2 now looks like an impostor
    const pinned = path.join(scratch, "pinned_known_hosts");
    const node1Key = readFileSync(testbed.knownHostsPath, "utf8")
      .split("\n")
      .find((line) => line.startsWith(`[${testbed.nodes[0]!.host}]`))!
      .split(" ")
      .slice(1)
      .join(" ");
    writeFileSync(pinned, `[${testbed.nodes[1]!.host}]:${testbed.nodes[1]!.port} ${node1Key}\n`);
    await service.invoke("nodes.add", {
      node: { ...testbedNode(1), name: "impostor", knownHostsFile: pinned },
    });
    const changed = await service.invoke("nodes.hostKey", { name: "impostor" });
    expect(changed.status).toBe("changed");
    expect(changed.expected).toEqual([testbed.nodes[0]!.hostKeyFingerprint]);
    expect(changed.message).toMatch(/HOST KEY CHANGED/);
    const refused = await service.call("nodes.trust", { name: "impostor", fingerprint: changed.fingerprint });
    expect(refused.ok ? "" : refused.error.message).toMatch(/refusing to trust impostor: HOST KEY CHANGED/);
    expect(readFileSync(pinned, "utf8").split("\n").filter(Boolean)).toHaveLength(1);
    await service.invoke("nodes.remove", { name: "impostor" });
  });
});

describe("live health", () => {
  it("is pending and not polled before anyone watches", async () => {
    const snapshot = await service.invoke("nodes.health", {});
    expect(snapshot.polling).toBe(false);
    expect(snapshot.nodes.map((health) => health.state)).toEqual(Array(5).fill("pending"));
    await sleep(500);
    expect(healthEvents).toHaveLength(0);
  });

  it("while watched: every node's health arrives; unreachable ones say why, the others keep updating", async () => {
    const watch = await service.invoke("nodes.watch", { watcher: "test", leaseMs: 30_000 });
    expect(watch.intervalMs).toBe(300);
    for (const name of ["node1", "node2", "node3"]) {
      const health = await until(
        () => latest(name),
        (value) => value?.state === "healthy",
      );
      expect(health!.dockerVersion).toMatch(/^\d+\.\d+/);
      expect(health!.latencyMs).toBeGreaterThanOrEqual(0);
      expect(health!.disk!.totalBytes).toBeGreaterThan(0);
      expect(health!.load).toHaveLength(3);
    }
    // the replayed H100 capture on node1; node2 truthfully has no GPU
    expect(latest("node1")!.gpus).toMatchObject({ vendor: "NVIDIA", devices: [REPLAYED_GPU] });
    expect(latest("node2")!.gpus).toMatchObject({ vendor: "NONE", devices: [] });
    const refused = await until(
      () => latest("refused"),
      (value) => value !== undefined,
    );
    expect(refused).toMatchObject({ state: "unreachable" });
    expect(refused!.error).toContain(`cannot connect to root@127.0.101.250:${testbedNode(0).port}`);
    expect(refused!.hint).toBeTruthy();
    expect(refused!.retryInMs).toBeGreaterThan(0);
    const silentHealth = await until(
      () => latest("silent"),
      (value) => value !== undefined,
    );
    expect(silentHealth!.state).toBe("unreachable");
    expect(silentHealth!.error).toMatch(/did not answer in time|no SSH connection within 2 s/);
    // node2 kept being probed while "silent" hung for 2 s
    const first = (await service.invoke("nodes.health", {})).nodes.find((h) => h.node === "node2")!
      .checkedAt!;
    await sleep(1000);
    const later = (await service.invoke("nodes.health", {})).nodes.find((h) => h.node === "node2")!
      .checkedAt!;
    expect(Date.parse(later)).toBeGreaterThan(Date.parse(first));
    // one connection per node, reused
    expect(openSshConnections(testbed.nodes[1]!.host, testbed.nodes[1]!.port)).toBe(1);
  });

  it("after unwatch: no more events, connections closed after the grace period", async () => {
    const unwatched = await service.invoke("nodes.unwatch", { watcher: "test" });
    expect(unwatched.watching).toBe(false);
    await sleep(2500); // the grace period and any probe that was in flight
    const count = healthEvents.length;
    await sleep(1500);
    expect(healthEvents.length).toBe(count);
    for (const node of testbed.nodes.slice(0, 3)) expect(openSshConnections(node.host, node.port)).toBe(0);
    expect((await service.invoke("nodes.health", {})).polling).toBe(false);
  });
});

describe("preflight and import", () => {
  it("checks the chosen nodes, with fixes for failures", async () => {
    const result = await service.invoke("nodes.preflight", { names: ["node1", "node2", "refused"] });
    const byName = new Map(result.nodes.map((node) => [node.node, node]));
    expect(byName.get("node2")!.ok).toBe(true);
    expect(byName.get("node2")!.checks.map((check) => check.check)).toEqual([
      "ssh",
      "docker",
      "gpus",
      "disk",
    ]);
    expect(byName.get("node1")!.checks.find((check) => check.check === "gpus")!.detail).toMatch(
      /1 NVIDIA GPU/,
    );
    const refused = byName.get("refused")!;
    expect(refused.ok).toBe(false);
    expect(refused.checks[0]).toMatchObject({ check: "ssh", ok: false });
    expect(refused.checks[0]!.fix).toBeTruthy();
  });

  it("imports from an ssh config by host pattern and refuses clashes without replace", async () => {
    const imported = await service.invoke("nodes.import", {
      source: "ssh-config",
      file: testbed.sshConfigPath,
      hosts: ["node*", "!node1", "!node2", "!node3"],
    });
    expect(imported.imported.map((node) => node.name)).toEqual(["node4"]);
    expect(imported.imported[0]!.knownHostsFile).toBe(testbed.knownHostsPath);
    const clash = await service.call("nodes.import", { source: "ansible", file: testbed.inventoryIniPath });
    expect(clash.ok ? "" : clash.error.message).toMatch(/already defined: node1, node2, node3, node4/);
    const noMatch = await service.call("nodes.import", {
      source: "ssh-config",
      file: testbed.sshConfigPath,
      hosts: ["gpu-*"],
    });
    expect(noMatch).toMatchObject({ ok: false, error: { path: "hosts" } });
    const badGroup = await service.call("nodes.import", {
      source: "ansible",
      file: testbed.inventoryIniPath,
      group: "nope",
    });
    expect(badGroup.ok ? "" : badGroup.error.hint).toMatch(/gpu_nodes/);
    expect(await service.invoke("nodes.hostKey", { name: "node4" })).toMatchObject({ status: "known" });
    await service.invoke("nodes.remove", { name: "node4" });
  });
});
