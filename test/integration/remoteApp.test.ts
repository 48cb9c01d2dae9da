/**
 * Runs on GPU nodes started from the app (AppService, the engine behind every screen) on the
 * testbed's real sshd nodes: per-node rows and states, one interleaved node-coloured log, results
 * in the history database, cancelling one node while the others go on, and a run that survives
 * the service closing and is picked up by the next service on the same workspace.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResult } from "../../shared/contract.js";
import { AppService } from "../../src-main/app/appService.js";
import { ResultsStore } from "../../src-main/engine/store/resultsStore.js";
import { addSleepingModels, copyBundledZoo, readPerfRows } from "../helpers/cli.js";
import { testbedNodes, writeNodesFile } from "../helpers/nodes.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';

let testbed: Testbed;
let docker: Docker;
let zoo: string;
let workspace: string;
let nodesFile: string;
const services: AppService[] = [];

function newService(): AppService {
  const service = new AppService({
    workspaceDir: path.join(workspace, "jobs-root"),
    dataDir: path.join(workspace, "data"),
    nodesFile,
    defaultMadRoot: zoo,
    env: { ...process.env, DOCKER_HOST: testbed.dockerHost },
    batchMs: 10,
  });
  services.push(service);
  return service;
}

type JobView = CallResult<"jobs.get">;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ended(service: AppService, id: string): Promise<JobView> {
  return until(`job ${id} to end`, async () => {
    const view = await service.invoke("jobs.get", { id });
    return view.job.state === "running" ? undefined : view;
  });
}

async function build(service: AppService, tags: string[]): Promise<string> {
  const { job } = await service.invoke("build.start", { tags, context: UBUNTU });
  const done = await ended(service, job.id);
  expect(done.job.state).toBe("succeeded");
  return done.job.manifestFile!;
}

async function containersOf(model: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`org.madengine.model=${model}`] } });
}

let plainManifest: string;
let sleeperManifest: string;

beforeAll(async () => {
  testbed = loadTestbed();
  docker = new Docker({ socketPath: testbed.dockerSocket });
  zoo = copyBundledZoo();
  addSleepingModels(zoo, [
    { name: "napper", seconds: 4 },
    { name: "sleeper", seconds: 300 },
  ]);
  workspace = mkdtempSync(path.join(tmpdir(), "madengine-remote-app-"));
  nodesFile = writeNodesFile(workspace, testbedNodes(testbed, { count: 3 }));
  const service = newService();
  plainManifest = await build(service, ["dummy", "napper"]);
  sleeperManifest = await build(service, ["sleeper"]);
}, 240_000);

afterAll(async () => {
  for (const service of services) await service.close(20_000);
  for (const model of ["napper", "sleeper"])
    for (const container of (await containersOf(model).catch(() => [])) ?? [])
      await docker
        .getContainer(container.Id)
        .remove({ force: true })
        .catch(() => {});
  for (const dir of [zoo, workspace]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("runs on GPU nodes from the app (real sshd nodes, real Docker over SSH)", () => {
  it("runs a manifest on three nodes: per-node rows, an interleaved log, one perf.csv, the history", async () => {
    const service = services[0]!;
    const { job } = await service.invoke("run.start", {
      manifestFile: plainManifest,
      nodes: ["node1", "node2", "node3"],
    });
    expect(job.title).toMatch(/on node1, node2, node3$/);
    const done = await ended(service, job.id);
    expect(done.job.state).toBe("succeeded");
    expect(done.job.nodes?.map((node) => [node.name, node.state, node.succeeded, node.failed])).toEqual([
      ["node1", "done", 2, 0],
      ["node2", "done", 2, 0],
      ["node3", "done", 2, 0],
    ]);
    const rows = done.items.map((item) => [item.key, item.node, item.state]);
    for (const node of ["node1", "node2", "node3"])
      for (const model of ["dummy", "napper"])
        expect(rows).toContainEqual([`${node}/${model}`, node, "succeeded"]);

    const interleaved = done.job.logs.find((log) => log.source === "all nodes");
    expect(interleaved).toBeDefined();
    const all = await service.invoke("logs.read", { jobId: job.id, source: "all nodes", fromLine: 0 });
    expect(all.complete).toBe(true);
    for (const node of ["node1", "node2", "node3"]) {
      // every line names its node in a colour of its own, then the model's own output
      expect(all.lines.some((line) => line.includes(`${node} napper\u001b[0m │ sleeping 4s`))).toBe(true);
      expect(
        all.lines.some((line) => line.includes(`${node} napper\u001b[0m │ performance: 4 seconds_slept`)),
      ).toBe(true);
    }
    const colours = new Set(all.lines.map((line) => /^.\[(\d+)m(node\d)/.exec(line)?.slice(1).join(":")));
    colours.delete(undefined);
    expect(new Set([...colours].map((pair) => pair!.split(":")[0])).size).toBe(3);

    const perNode = await service.invoke("logs.read", { jobId: job.id, source: "node2/napper", fromLine: 0 });
    expect(perNode.lines.join("\n")).toMatch(/performance: 4 seconds_slept/);
    expect(perNode.lines.join("\n")).not.toMatch(/node1|node3/);

    const perf = readPerfRows(done.job.outputDir);
    expect(perf.map((row) => `${row.machine_name}/${row.model}`).sort()).toEqual([
      "node1/dummy",
      "node1/napper",
      "node2/dummy",
      "node2/napper",
      "node3/dummy",
      "node3/napper",
    ]);
    const store = ResultsStore.open(path.join(workspace, "data", "results.db"));
    try {
      const run = store.listRuns().find((each) => each.id === done.job.runId);
      expect(run?.status).toBe("success");
      const stored = store.queryResults({ runId: done.job.runId! });
      expect(stored.map((result) => `${result.node}/${result.row.model}`).sort()).toEqual(
        perf.map((row) => `${row.machine_name}/${row.model}`).sort(),
      );
    } finally {
      store.close();
    }
    // the audit log has the run: who, the manifest's hash, its images, the nodes, the outcome
    const { entries } = await service.invoke("audit.list", { kind: "run" });
    const audited = entries.find((entry) => entry.detail?.includes(job.id));
    expect(audited).toMatchObject({
      kind: "run",
      manifestFile: plainManifest,
      nodes: ["node1", "node2", "node3"],
      outcome: "success",
    });
    expect(audited?.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(audited?.imageDigests.length).toBeGreaterThan(0);
    const builds = await service.invoke("audit.list", { kind: "build" });
    expect(
      builds.entries.some((entry) => entry.manifestFile === plainManifest && entry.outcome === "success"),
    ).toBe(true);
  }, 120_000);

  it("cancels one node: its container is stopped while the other node keeps running", async () => {
    const service = services[0]!;
    const { job } = await service.invoke("run.start", {
      manifestFile: sleeperManifest,
      nodes: ["node1", "node2"],
    });
    const running = (view: JobView, node: string) =>
      view.items.find((item) => item.key === `${node}/sleeper`)?.state === "running";
    await until("sleeper to run on both nodes", async () => {
      const view = await service.invoke("jobs.get", { id: job.id });
      return running(view, "node1") && running(view, "node2") ? view : undefined;
    });
    await expect(service.invoke("jobs.cancelNode", { id: job.id, node: "node9" })).rejects.toMatchObject({
      info: { code: "NOT_FOUND", hint: "its nodes are: node1, node2" },
    });
    expect(await service.invoke("jobs.cancelNode", { id: job.id, node: "node2" })).toEqual({
      cancelled: true,
    });
    const afterCancel = await until("node2's row to settle", async () => {
      const view = await service.invoke("jobs.get", { id: job.id });
      return view.items.find((item) => item.key === "node2/sleeper")?.state === "failed" ? view : undefined;
    });
    expect(afterCancel.job.state).toBe("running");
    expect(afterCancel.job.nodes?.find((node) => node.name === "node2")?.state).toBe("cancelled");
    expect(running(afterCancel, "node1")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const still = await service.invoke("jobs.get", { id: job.id });
    expect(running(still, "node1")).toBe(true);
    const sleepers = (await containersOf("sleeper")).filter((container) => container.State === "running");
    expect(sleepers).toHaveLength(1);

    expect(await service.invoke("jobs.cancel", { id: job.id })).toEqual({ cancelled: true });
    const done = await ended(service, job.id);
    expect(done.job.state).toBe("cancelled");
    expect(done.job.nodes?.map((node) => node.state)).toEqual(["cancelled", "cancelled"]);
  }, 120_000);

  it("survives the service closing: the run goes on and the next service picks it up and finishes it", async () => {
    const first = newService();
    const { job } = await first.invoke("run.start", {
      manifestFile: plainManifest,
      nodes: ["node1", "node2"],
      strategy: "replicate",
    });
    await until("napper to run on both nodes", async () => {
      const view = await first.invoke("jobs.get", { id: job.id });
      const napping = view.items.filter((item) => item.key.endsWith("/napper") && item.state === "running");
      return napping.length === 2 ? view : undefined;
    });
    await first.close(20_000);
    const record = JSON.parse(readFileSync(path.join(job.outputDir, "job.json"), "utf8")) as {
      summary: { state: string };
      resume?: { runId: string; nodes: string[] };
    };
    expect(record.summary.state).toBe("running");
    expect(record.resume?.nodes).toEqual(["node1", "node2"]);
    // the containers were left running on the nodes
    expect((await containersOf("napper")).filter((container) => container.State === "running")).toHaveLength(
      2,
    );

    const second = newService();
    await second.whenRestored();
    const listed = await second.invoke("jobs.list", {});
    const resumed = listed.jobs.find((each) => each.id === job.id);
    expect(resumed?.resumedAt).toBeDefined();
    const done = await ended(second, job.id);
    expect(done.job.state).toBe("succeeded");
    expect(done.items.map((item) => [item.key, item.state])).toEqual(
      expect.arrayContaining([
        ["node1/dummy", "succeeded"],
        ["node1/napper", "succeeded"],
        ["node2/dummy", "succeeded"],
        ["node2/napper", "succeeded"],
      ]),
    );
    const perf = readPerfRows(job.outputDir);
    // each result once: nothing lost across the restart, nothing written twice
    expect(perf.map((row) => `${row.machine_name}/${row.model}/${row.status}`).sort()).toEqual([
      "node1/dummy/SUCCESS",
      "node1/napper/SUCCESS",
      "node2/dummy/SUCCESS",
      "node2/napper/SUCCESS",
    ]);
    const log = await second.invoke("logs.read", { jobId: job.id, source: "job", fromLine: 0 });
    expect(log.lines.join("\n")).toMatch(/the app is closing[\s\S]*resumed after the app restarted/);
    expect(existsSync(path.join(job.outputDir, "all-nodes.log"))).toBe(true);
    // a third service lists the finished job as it ended, without running anything
    const third = newService();
    const again = await third.invoke("jobs.get", { id: job.id });
    expect(again.job.state).toBe("succeeded");
    expect(again.job.nodes?.map((node) => node.state)).toEqual(["done", "done"]);
  }, 180_000);
});
