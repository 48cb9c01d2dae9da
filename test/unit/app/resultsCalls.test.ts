import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { AppService } from "../../../src-main/app/appService.js";
import type { EventMessage } from "../../../src-main/app/eventHub.js";
import { appendAudit, auditEntryFor } from "../../../src-main/engine/store/audit.js";
import { tempTree } from "../../helpers/tempDir.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/perf");
const FIXTURE_25 = path.join(FIXTURES, "madengine-2025-07-perf.csv");
const FIXTURE_29 = path.join(FIXTURES, "madengine-2026-06-perf.csv");

const services: AppService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close(5000);
});

function service() {
  const workspace = tempTree();
  const dataDir = path.join(workspace, "data");
  const app = new AppService({
    workspaceDir: workspace,
    dataDir,
    env: { PATH: process.env.PATH, DOCKER_HOST: `unix://${path.join(workspace, "no-docker.sock")}` },
  });
  services.push(app);
  const events: EventMessage[] = [];
  app.subscribe({ send: (message) => events.push(message) });
  return { app, workspace, dbFile: path.join(dataDir, "results.db"), events };
}

describe("results calls", () => {
  it("import (with line numbers of bad rows), runs, facets, query, series, compare, export", async () => {
    const { app, workspace } = service();
    const status = await app.invoke("results.status", {});
    expect(status).toMatchObject({ ok: true, schemaVersion: 3, canMoveAside: false });
    const first = await app.invoke("results.import", { file: FIXTURE_25, mode: "good-rows" });
    expect(first.imported).toBeGreaterThan(0);
    await app.invoke("results.import", { file: FIXTURE_29, mode: "all-or-nothing" });
    const broken = path.join(workspace, "broken.csv");
    writeFileSync(
      broken,
      `${readFileSync(FIXTURE_29, "utf8").trimEnd()}\nonly,three,cells\n,1,1,1,,,,,,,,,,,,,,,,NOPE,,,,,,,,,\n`,
    );
    const refused = await app.invoke("results.import", { file: broken, mode: "all-or-nothing" });
    expect(refused).toMatchObject({ runId: null, imported: 0 });
    expect(refused.broken.map((row) => row.line)).toEqual([3, 4]);

    const { runs } = await app.invoke("results.runs", {});
    expect(runs).toHaveLength(2);
    const facets = await app.invoke("results.facets", {});
    expect(facets.models).toContain("dummy");
    const page = await app.invoke("results.query", { model: "dummy", limit: 1 });
    expect(page.total).toBe(2);
    expect(page.results).toHaveLength(1);
    expect(page.results[0]?.flag.flag).toBeNull();
    const series = await app.invoke("results.series", { model: "dummy", groupBy: "gpu_architecture" });
    expect(series.series.map((s) => s.name)).toContain("gfx942");
    const [newer, older] = runs;
    const comparison = await app.invoke("results.compare", { runA: older!.id, runB: newer!.id });
    expect(comparison.models.find((m) => m.model === "dummy")?.differences.length).toBeGreaterThan(0);
    const nodes = await app.invoke("results.nodeComparison", { runId: newer!.id });
    expect(nodes.models.length).toBeGreaterThan(0);
    expect(await app.invoke("results.flags", {})).toEqual({ results: [] });

    const csv = await app.invoke("results.export", { format: "csv", filter: { runId: older!.id } });
    expect(csv.content).toBe(readFileSync(FIXTURE_25, "utf8"));
    const prom = await app.invoke("results.export", { format: "prometheus", filter: {} });
    expect(prom.content).toContain("madengine_performance{");
    const out = path.join(workspace, "out.json");
    const written = await app.invoke("results.export", { format: "json", filter: {}, outputFile: out });
    expect(written).toMatchObject({ written: out, count: 2 });
    expect(JSON.parse(readFileSync(out, "utf8"))).toHaveLength(2);
  });

  it("validates arguments and answers errors as values with code, message and hint", async () => {
    const { app } = service();
    const missing = await app.call("results.import", { file: "/nope/perf.csv", mode: "good-rows" });
    expect(missing.ok).toBe(false);
    const invalid = await app.call("results.query", { limit: 0 });
    expect(invalid).toMatchObject({ ok: false, error: { code: "INVALID_ARGS" } });
    const noRun = await app.call("results.compare", { runA: "a", runB: "b" });
    expect(noRun).toMatchObject({ ok: false, error: { code: "INVALID_ARGS", hint: expect.any(String) } });
  });

  it("a corrupt database is a clear error; move aside keeps the file and starts fresh", async () => {
    const { app, dbFile, events } = service();
    await app.invoke("results.status", {});
    await app.close(1000);
    services.pop();
    writeFileSync(dbFile, "garbage that is not sqlite\n".repeat(100));
    const { app: again } = (() => {
      const next = new AppService({
        workspaceDir: path.dirname(path.dirname(dbFile)),
        dataDir: path.dirname(dbFile),
        env: { PATH: process.env.PATH },
      });
      services.push(next);
      next.subscribe({ send: (message) => events.push(message) });
      return { app: next };
    })();
    const status = await again.invoke("results.status", {});
    expect(status.ok).toBe(false);
    expect(status.canMoveAside).toBe(true);
    expect(status.error).toMatchObject({ code: "INVALID_FILE", file: dbFile });
    expect(status.error?.hint).toMatch(/Move aside and start fresh/);
    const query = await again.call("results.query", {});
    expect(query).toMatchObject({ ok: false, error: { code: "INVALID_FILE", file: dbFile } });
    const moved = await again.invoke("results.moveAside", {});
    expect(existsSync(moved.movedTo)).toBe(true);
    expect(readFileSync(moved.movedTo, "utf8")).toContain("garbage");
    expect(await again.invoke("results.status", {})).toMatchObject({ ok: true });
    expect(events.some((e) => e.event === "results.changed")).toBe(true);
  });

  it("a database locked by another process is an error that does not offer moving it aside", async () => {
    const { app, dbFile } = service();
    await app.invoke("results.status", {});
    await app.close(1000);
    services.pop();
    const holder = new Database(dbFile);
    holder.exec("BEGIN EXCLUSIVE");
    try {
      const next = new AppService({ dataDir: path.dirname(dbFile), env: { PATH: process.env.PATH } });
      services.push(next);
      const status = await next.invoke("results.status", {});
      expect(status).toMatchObject({ ok: false, canMoveAside: false });
      expect(status.error?.message).toMatch(/locked by another process/);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
  });

  it("lists and exports the audit log", async () => {
    const { app, dbFile } = service();
    await app.invoke("results.status", {});
    appendAudit(dbFile, await auditEntryFor({ kind: "run", outcome: "success", nodes: ["n1"] }), () => {});
    const { entries } = await app.invoke("audit.list", {});
    expect(entries).toMatchObject([{ kind: "run", outcome: "success", nodes: ["n1"] }]);
    const csv = await app.invoke("audit.export", { format: "csv" });
    expect(csv.fileName).toBe("madengine-audit.csv");
    expect(csv.content?.split("\n")[1]).toContain(",run,");
    const jsonl = await app.invoke("audit.export", { format: "jsonl" });
    expect(JSON.parse(jsonl.content?.trim() ?? "")).toMatchObject({ kind: "run" });
  });
});
