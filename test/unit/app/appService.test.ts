import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppService } from "../../../src-main/app/appService.js";
import type { EventMessage } from "../../../src-main/app/eventHub.js";
import { bundledZooPath } from "../../../src-main/engine/util/packagePaths.js";
import { fixturePath, tempTree } from "../../helpers/tempDir.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
const services: AppService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close(5000);
});

/** A service whose Docker daemon does not exist: everything but the daemon works. */
function serviceWithoutDocker(env: NodeJS.ProcessEnv = {}) {
  const workspace = tempTree();
  const service = new AppService({
    workspaceDir: workspace,
    env: { PATH: process.env.PATH, DOCKER_HOST: `unix://${path.join(workspace, "no-docker.sock")}`, ...env },
  });
  services.push(service);
  const events: EventMessage[] = [];
  service.subscribe({ send: (message) => events.push(message) });
  return { service, workspace, events };
}

describe("AppService calls that need no Docker daemon", () => {
  it("engine.status says the daemon is down, where it looked and what to do", async () => {
    const { service, workspace } = serviceWithoutDocker();
    const status = await service.invoke("engine.status", {});
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(status.defaultMadRoot).toBe(bundledZooPath());
    expect(status.docker.ok).toBe(false);
    expect(status.docker.endpoint).toBe(`unix://${path.join(workspace, "no-docker.sock")}`);
    expect(status.docker.error).toContain("cannot reach the Docker daemon");
    expect(status.docker.hint).toContain("DOCKER_HOST=");
  });

  it("engine.status reports a DOCKER_HOST it cannot use", async () => {
    const { service } = serviceWithoutDocker({ DOCKER_HOST: "ssh://somewhere" });
    const status = await service.invoke("engine.status", {});
    expect(status.docker).toMatchObject({ ok: false, endpoint: "ssh://somewhere" });
    expect(status.docker.hint).toContain("unix://");
  });

  it("zoo.discover defaults to the bundled zoo; zoo.select applies tag arguments", async () => {
    const { service } = serviceWithoutDocker();
    const zoo = await service.invoke("zoo.discover", {});
    expect(zoo.root).toBe(bundledZooPath());
    const names = zoo.models.map((entry) => entry.model.name);
    expect(names).toContain("dummy");
    expect(names).toContain("family/model_a");
    expect(zoo.models.find((entry) => entry.model.name.startsWith("dynamic/"))?.source.kind).toBe("dynamic");
    const selected = await service.invoke("zoo.select", { tags: ["dummy:batch-size=8"] });
    expect(selected.models.map((model) => [model.name, model.args])).toEqual([["dummy", " --batch-size 8"]]);
    const unknown = await service.call("zoo.select", { tags: ["dumy"] });
    expect(unknown).toMatchObject({ ok: false, error: { code: "UNKNOWN_TAG" } });
    expect(!unknown.ok && unknown.error.hint).toContain('"dummy"');
  });

  it("context.validate: good, bad JSON, bad values, build target; MAD_SECRETS values never returned", async () => {
    const { service } = serviceWithoutDocker({ MAD_SECRETS_TOKEN: "s3cr3t-value" });
    const good = await service.invoke("context.validate", { json: UBUNTU, requireBuildTarget: true });
    expect(good).toMatchObject({ ok: true, context: { gpu_vendor: "NONE", guest_os: "UBUNTU" } });
    expect(JSON.stringify(good)).not.toContain("s3cr3t-value");
    const quotes = await service.invoke("context.validate", { json: "{'gpu_vendor': 'NONE'}" });
    expect(quotes).toMatchObject({ ok: false, error: { code: "CONTEXT_INVALID" } });
    expect(!quotes.ok && quotes.error.hint).toContain("double quotes");
    const value = await service.invoke("context.validate", { json: '{"gpu_vendor": "TPU"}' });
    expect(!value.ok && value.error.message).toContain("gpu_vendor");
    const target = await service.invoke("context.validate", { json: "{}", requireBuildTarget: true });
    expect(!target.ok && target.error.message).toContain("lacks gpu_vendor and guest_os");
  });

  it("manifest.read validates a manifest; unknown jobs are NOT_FOUND", async () => {
    const { service } = serviceWithoutDocker();
    const manifest = await service.call("manifest.read", {
      file: fixturePath("perf", "madengine-2025-07-build_manifest.json"),
    });
    expect(manifest.ok).toBe(true);
    const missing = await service.call("manifest.read", { file: "/nonexistent/build_manifest.json" });
    expect(missing).toMatchObject({ ok: false, error: { code: "FILE_NOT_FOUND" } });
    for (const [name, args] of [
      ["jobs.get", { id: "nope" }],
      ["jobs.cancel", { id: "nope" }],
      ["results.forJob", { jobId: "nope" }],
      ["logs.read", { jobId: "nope", source: "job", fromLine: 0 }],
    ] as const) {
      expect(await service.call(name, args)).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    }
    expect(await service.invoke("jobs.list", {})).toEqual({ jobs: [] });
  });

  it("build.start and run.start refuse bad requests as call errors, before any job exists", async () => {
    const { service } = serviceWithoutDocker();
    expect(await service.call("build.start", { tags: ["dummy"], context: "{}" })).toMatchObject({
      ok: false,
      error: { code: "CONTEXT_INVALID" },
    });
    expect(await service.call("build.start", { tags: ["nope"], context: UBUNTU })).toMatchObject({
      ok: false,
      error: { code: "UNKNOWN_TAG" },
    });
    expect(await service.call("build.start", { tags: [], context: UBUNTU })).toMatchObject({
      ok: false,
      error: { code: "INVALID_ARGS", path: "tags" },
    });
    expect(await service.call("run.start", {})).toMatchObject({ ok: false, error: { code: "INVALID_ARGS" } });
    expect(await service.call("run.start", { manifestFile: "/nonexistent/m.json" })).toMatchObject({
      ok: false,
      error: { code: "FILE_NOT_FOUND" },
    });
    expect(await service.invoke("jobs.list", {})).toEqual({ jobs: [] });
  });

  it("a job whose daemon is down ends failed, with the error and hint in its log and as a notice", async () => {
    const { service, workspace, events } = serviceWithoutDocker();
    const { job } = await service.invoke("build.start", { tags: ["dummy"], context: UBUNTU });
    expect(job).toMatchObject({ kind: "build", state: "running", title: "build dummy" });
    expect(job.outputDir).toBe(path.join(workspace, "jobs", job.id));
    expect(job.logs).toEqual([{ source: "job", file: path.join(job.outputDir, "job.log") }]);
    // the bundled zoo is copied before a job works in it: runs write into the MAD root
    expect(existsSync(path.join(workspace, "bundled-zoo", "models.json"))).toBe(true);

    const ended = await service.whenJobEnds(job.id);
    expect(ended).toMatchObject({ state: "failed", exitCode: 1 });
    expect(ended.endedAt).toBeDefined();
    const log = await service.invoke("logs.read", { jobId: job.id, source: "job", fromLine: 0 });
    expect(log.complete).toBe(true);
    expect(log.lines.join("\n")).toContain("cannot reach the Docker daemon");
    expect(log.lines.join("\n")).toContain("hint: start Docker");
    expect(readFileSync(path.join(job.outputDir, "job.log"), "utf8").trimEnd().split("\n")).toHaveLength(
      log.nextLine,
    );

    const last = events.filter((message) => message.event === "job.updated").at(-1);
    expect(last?.event === "job.updated" && last.payload.job.state).toBe("failed");
    const streamed = events.flatMap((message) =>
      message.event === "log.lines" && message.payload.jobId === job.id ? message.payload.lines : [],
    );
    expect(streamed).toEqual(log.lines);
    expect(
      events.some((message) => message.event === "engine.notice" && message.payload.level === "error"),
    ).toBe(true);
    expect(await service.invoke("results.forJob", { jobId: job.id })).toEqual({ rows: [] });
    expect(await service.invoke("jobs.cancel", { id: job.id })).toEqual({ cancelled: false });
    expect((await service.invoke("jobs.list", {})).jobs.map((listed) => listed.id)).toEqual([job.id]);
    expect(await service.call("logs.read", { jobId: job.id, source: "nope", fromLine: 0 })).toMatchObject({
      ok: false,
      error: { code: "NOT_FOUND", hint: "its logs are: job" },
    });
  });

  it("refuses new jobs once closed", async () => {
    const { service } = serviceWithoutDocker();
    await service.close();
    expect(await service.call("build.start", { tags: ["dummy"], context: UBUNTU })).toMatchObject({
      ok: false,
      error: { message: "the service is shutting down" },
    });
  });
});
