import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import type { JobItem, JobSummary } from "../../shared/contract.js";
import { AppService } from "../../src-main/app/appService.js";
import type { EventMessage } from "../../src-main/app/eventHub.js";
import { bundledZooPath } from "../../src-main/engine/util/packagePaths.js";
import { startWebBridge, type WebBridge } from "../../src-main/serve/webBridge.js";
import { copyBundledZoo } from "../helpers/cli.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";
import { connectEvents, postCall, request } from "../unit/serve/bridgeClient.js";

/**
 * The web bridge in-process with a real AppService on the testbed's Docker daemon: the contract end
 * to end over HTTP and the WebSocket, as the renderer uses it in a browser.
 */

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
const SLEEPER_CONTAINER = "container_ci-sleeper_dummy.ubuntu.none";

let testbed: Testbed;
let docker: Docker;
let previousDockerHost: string | undefined;
let zoo: string;
let workspace: string;
let service: AppService;
let bridge: WebBridge;
let events: WebSocket;
const messages: EventMessage[] = [];

async function call<T = Record<string, unknown>>(name: string, args: unknown): Promise<T> {
  const response = await postCall(bridge.port, bridge.token, name, args);
  expect(response.status).toBe(200);
  const body = response.json as { ok: boolean; result?: T; error?: unknown };
  if (!body.ok) throw new Error(`${name} failed: ${JSON.stringify(body.error)}`);
  return body.result as T;
}

async function until<T>(find: () => T | undefined, what: string, timeoutMs = 50_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The last job.updated of a job that arrived over the WebSocket. */
function lastUpdate(jobId: string): { job: JobSummary; items: JobItem[] } | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.event === "job.updated" && message.payload.job.id === jobId) return message.payload;
  }
  return undefined;
}

const ended = (jobId: string) => {
  const update = lastUpdate(jobId);
  return update && update.job.state !== "running" ? update : undefined;
};

/** The lines of one log that arrived over the WebSocket, checked to be contiguous from line 0. */
function streamedLines(jobId: string, source: string): string[] {
  const lines: string[] = [];
  for (const message of messages) {
    if (message.event !== "log.lines" || message.payload.jobId !== jobId || message.payload.source !== source)
      continue;
    expect(message.payload.firstLine).toBe(lines.length);
    lines.push(...message.payload.lines);
  }
  return lines;
}

beforeAll(async () => {
  testbed = loadTestbed();
  docker = new Docker({ socketPath: testbed.dockerSocket });
  previousDockerHost = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = testbed.dockerHost;
  zoo = copyBundledZoo();
  // a model that sleeps until it is cancelled
  const modelsFile = path.join(zoo, "models.json");
  const models = JSON.parse(readFileSync(modelsFile, "utf8")) as object[];
  models.push({
    name: "sleeper",
    url: "",
    dockerfile: "docker/dummy",
    scripts: "scripts/dummy/run_sleep.sh",
    n_gpus: "1",
    owner: "test@example.com",
    training_precision: "",
    tags: ["sleepers"],
    args: "300",
    timeout: 600,
  });
  writeFileSync(modelsFile, JSON.stringify(models, null, 2));
  workspace = mkdtempSync(path.join(tmpdir(), "madengine-serve-"));
  const staticDir = path.join(workspace, "renderer");
  const outside = path.join(workspace, "outside.txt");
  writeFileSync(outside, "outside the renderer");
  mkdirSync(path.join(staticDir, "assets"), { recursive: true });
  writeFileSync(path.join(staticDir, "index.html"), "<!doctype html><title>madengine</title>");
  writeFileSync(path.join(staticDir, "assets", "app.js"), "export {}");
  service = new AppService({ workspaceDir: path.join(workspace, "jobs-root") });
  bridge = await startWebBridge({ service, staticDir, warn: () => {} });
  const opened = await connectEvents(`ws://127.0.0.1:${bridge.port}/api/events`, {
    cookie: `madengine_token_${bridge.port}=${bridge.token}`,
  });
  if (!("ws" in opened)) throw new Error(`event socket refused: HTTP ${opened.status}`);
  events = opened.ws;
  events.on("message", (data) => messages.push(JSON.parse(String(data)) as EventMessage));
});

afterAll(async () => {
  events?.close();
  await bridge?.close();
  await service?.close(20_000);
  await docker
    ?.getContainer(SLEEPER_CONTAINER)
    .remove({ force: true })
    .catch(() => {});
  if (previousDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = previousDockerHost;
  for (const dir of [zoo, workspace]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("madengine-cli serve: the web bridge on the real daemon", () => {
  it("refuses requests without the token or with a wrong one, over HTTP and the WebSocket", async () => {
    expect((await request(bridge.port)).status).toBe(401);
    expect((await request(bridge.port, { path: "/?token=wrong" })).status).toBe(401);
    expect((await postCall(bridge.port, undefined, "engine.status", {})).status).toBe(401);
    expect((await postCall(bridge.port, "wrong-token-wrong-token-wrong", "engine.status", {})).status).toBe(
      401,
    );
    const base = `ws://127.0.0.1:${bridge.port}/api/events`;
    expect(await connectEvents(base)).toEqual({ status: 401 });
    expect(await connectEvents(`${base}?token=wrong-token-wrong-token`)).toEqual({ status: 401 });
  });

  it("trades ?token= for a cookie that then opens the page and the API", async () => {
    const first = await request(bridge.port, { path: `/?token=${bridge.token}` });
    expect(first.status).toBe(303);
    const cookie = (first.headers["set-cookie"]?.[0] ?? "").split(";")[0]!;
    expect(first.headers["set-cookie"]?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await request(bridge.port, { path: first.headers.location!, headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>madengine</title>");
    const status = await postCall(bridge.port, undefined, "engine.status", {}, { cookie });
    expect(status.json).toMatchObject({
      ok: true,
      result: { docker: { ok: true, endpoint: testbed.dockerHost } },
    });
  });

  it("answers a call of the wrong shape with 400 and keeps serving; refuses traversal", async () => {
    const wrong = await postCall(bridge.port, bridge.token, "logs.read", { jobId: 1, fromLine: "x" });
    expect(wrong).toMatchObject({ status: 400, json: { ok: false, error: { code: "INVALID_ARGS" } } });
    expect((await postCall(bridge.port, bridge.token, "jobs.list", "{")).status).toBe(400);
    expect((await postCall(bridge.port, bridge.token, "jobs.list", {})).status).toBe(200);
    for (const attempt of ["/../outside.txt", "/%2e%2e/outside.txt", "/assets/..%2f..%2foutside.txt"]) {
      const res = await request(bridge.port, {
        path: attempt,
        headers: { authorization: `Bearer ${bridge.token}` },
      });
      expect(res.status).toBe(400);
      expect(res.body).not.toContain("outside the renderer");
    }
  });

  it("discovers the bundled zoo and validates contexts", async () => {
    const discovered = await call<{ root: string; models: { model: { name: string } }[] }>(
      "zoo.discover",
      {},
    );
    expect(discovered.root).toBe(bundledZooPath());
    expect(discovered.models.map((entry) => entry.model.name)).toEqual(
      expect.arrayContaining(["dummy", "dummy_multi", "family/model_a", "dynamic/gen_large"]),
    );
    expect(await call("context.validate", { json: UBUNTU, requireBuildTarget: true })).toMatchObject({
      ok: true,
      context: { gpu_vendor: "NONE", guest_os: "UBUNTU" },
    });
    const bad = await call<{ ok: boolean; error: { code: string; message: string } }>("context.validate", {
      json: '{"gpu_vendor": "NONE", "guest_os": 7}',
    });
    expect(bad).toMatchObject({ ok: false, error: { code: "CONTEXT_INVALID" } });
    expect(bad.error.message).toContain("guest_os");
  });

  it("builds and runs a model: events over the WebSocket, logs.read, results.forJob", async () => {
    const { job: build } = await call<{ job: JobSummary }>("build.start", {
      madRoot: zoo,
      tags: ["dummy"],
      context: UBUNTU,
    });
    expect(build).toMatchObject({ kind: "build", state: "running" });
    const built = await until(() => ended(build.id), "the build to end");
    expect(built.job).toMatchObject({ state: "succeeded", exitCode: 0 });
    const image = "ci-dummy_dummy.ubuntu.none";
    expect(built.items).toEqual([
      expect.objectContaining({ key: image, state: expect.stringMatching(/^(built|up to date)$/) }),
    ]);
    expect(built.job.logs.map((log) => log.source)).toEqual(["job", image]);
    expect(built.job.manifestFile).toBe(path.join(build.outputDir, "build_manifest.json"));

    const streamed = streamedLines(build.id, image);
    expect(streamed.join("\n")).toContain(`MAD_CONTAINER_IMAGE is ${image}`);
    const read = await call<{ lines: string[]; nextLine: number; complete: boolean }>("logs.read", {
      jobId: build.id,
      source: image,
      fromLine: 0,
    });
    expect(read.complete).toBe(true);
    expect(read.lines).toEqual(streamed);
    const logFile = built.job.logs.find((log) => log.source === image)!.file;
    expect(readFileSync(logFile, "utf8")).toBe(`${read.lines.join("\n")}\n`);
    const tail = await call<{ lines: string[]; nextLine: number }>("logs.read", {
      jobId: build.id,
      source: image,
      fromLine: 2,
      maxLines: 1,
    });
    expect(tail).toMatchObject({ lines: [streamed[2]], nextLine: 3, complete: false });

    const { job: run } = await call<{ job: JobSummary }>("run.start", {
      madRoot: zoo,
      manifestFile: built.job.manifestFile,
    });
    expect(run.title).toBe(`run the manifest of job ${build.id}`);
    const ran = await until(() => ended(run.id), "the run to end");
    expect(ran.job).toMatchObject({ state: "succeeded", exitCode: 0 });
    expect(ran.items).toEqual([expect.objectContaining({ key: "dummy", state: "succeeded" })]);
    expect(ran.items[0]!.detail).toMatch(/^\d+ samples_per_second$/);
    const runLines = streamedLines(run.id, "dummy");
    expect(runLines.some((line) => /^performance: \d+ samples_per_second$/.test(line))).toBe(true);
    const runRead = await call<{ lines: string[]; complete: boolean }>("logs.read", {
      jobId: run.id,
      source: "dummy",
      fromLine: 0,
    });
    expect(runRead).toMatchObject({ lines: runLines, complete: true });

    const { rows } = await call<{ rows: { model: string; status: string; performance: string }[] }>(
      "results.forJob",
      { jobId: run.id },
    );
    expect(rows).toEqual([expect.objectContaining({ model: "dummy", status: "SUCCESS" })]);
    expect(Number(rows[0]!.performance)).toBeGreaterThan(0);
    expect((await call<{ rows: unknown[] }>("results.forJob", { jobId: build.id })).rows).toEqual([]);
    const listed = await call<{ jobs: JobSummary[] }>("jobs.list", {});
    expect(listed.jobs.slice(0, 2).map((job) => job.id)).toEqual([run.id, build.id]);
  });

  it("cancels a sleeping model: the job ends cancelled and its container is gone", async () => {
    const { job } = await call<{ job: JobSummary }>("run.start", {
      madRoot: zoo,
      tags: ["sleeper"],
      context: UBUNTU,
    });
    await until(
      () => (streamedLines(job.id, "sleeper").includes("sleeping 300s") ? true : undefined),
      "the model to start sleeping",
    );
    const container = await docker.getContainer(SLEEPER_CONTAINER).inspect();
    expect(container.State.Running).toBe(true);
    const started = Date.now();
    expect(await call("jobs.cancel", { id: job.id })).toEqual({ cancelled: true });
    const cancelled = await until(() => ended(job.id), "the job to end", 30_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(cancelled.job.state).toBe("cancelled");
    const sleeper = cancelled.items.find((item) => item.key === "sleeper");
    expect(sleeper).toMatchObject({ state: "failed", detail: "cancelled by the user" });
    const remaining = await docker.listContainers({ all: true, filters: { name: [SLEEPER_CONTAINER] } });
    expect(remaining).toEqual([]);
    const log = await call<{ lines: string[] }>("logs.read", {
      jobId: job.id,
      source: "sleeper",
      fromLine: 0,
    });
    expect(log.lines.join("\n")).toContain("interrupted: stopping the container");
    expect(await call("jobs.cancel", { id: job.id })).toEqual({ cancelled: false });
  });

  it("cancels a build between images: started images finish, the rest are skipped", async () => {
    const { job } = await call<{ job: JobSummary }>("build.start", {
      madRoot: zoo,
      tags: ["dummies", "sleepers", "variants"],
      context: UBUNTU,
      cleanDockerCache: true,
    });
    await until(
      () => (lastUpdate(job.id)?.items.some((item) => item.state === "building") ? true : undefined),
      "a build to start",
    );
    expect(await call("jobs.cancel", { id: job.id })).toEqual({ cancelled: true });
    const cancelled = await until(() => ended(job.id), "the build to stop");
    expect(cancelled.job.state).toBe("cancelled");
    const states = cancelled.items.map((item) => item.state);
    expect(states.length).toBeGreaterThan(4);
    expect(states.every((state) => state === "built" || state === "skipped")).toBe(true);
    expect(states).toContain("built");
    expect(cancelled.items.filter((item) => item.state === "skipped").map((item) => item.detail)).toEqual(
      expect.arrayContaining(["cancelled by the user"]),
    );
    const log = await call<{ lines: string[]; complete: boolean }>("logs.read", {
      jobId: job.id,
      source: "job",
      fromLine: 0,
    });
    expect(log.complete).toBe(true);
    expect(log.lines.join("\n")).toMatch(/cancel requested[\s\S]*job cancelled/);
  });

  it("will not listen on 0.0.0.0 unless remote access is allowed", async () => {
    await expect(startWebBridge({ service, host: "0.0.0.0" })).rejects.toMatchObject({
      code: "INVALID_ARGS",
    });
  });
});
