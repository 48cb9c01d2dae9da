import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import { PERF_CSV_COLUMNS, PERF_CSV_HEADER, type PerfRow } from "../../../shared/schemas/perf.js";
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from "../../../src-main/engine/store/migrations.js";
import { defaultResultsDbPath, moveAside } from "../../../src-main/engine/store/paths.js";
import { escapeLabelValue, numericPerformance } from "../../../src-main/engine/store/prometheus.js";
import { ResultsStore } from "../../../src-main/engine/store/resultsStore.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/perf");
const FIXTURE_25 = path.join(fixtures, "madengine-2025-07-perf.csv");
const FIXTURE_29 = path.join(fixtures, "madengine-2026-06-perf.csv");

let dir: string;
let dbFile: string;
const open: ResultsStore[] = [];

function openStore(file = dbFile, busyTimeoutMs?: number): ResultsStore {
  const store = ResultsStore.open(file, busyTimeoutMs === undefined ? {} : { busyTimeoutMs });
  open.push(store);
  return store;
}

function perfRow(overrides: Partial<PerfRow> = {}): PerfRow {
  const row = Object.fromEntries(PERF_CSV_COLUMNS.map((c) => [c, ""])) as PerfRow;
  return { ...row, model: "dummy", status: "SUCCESS", performance: "100", metric: "samples", ...overrides };
}

function catchError(work: () => unknown): MadError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(MadError);
    return error as MadError;
  }
  throw new Error("expected an error");
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "results-store-"));
  dbFile = path.join(dir, "sub", "results.db");
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("ResultsStore.open", () => {
  it("creates the directory and a database at the latest schema, in WAL mode", () => {
    const store = openStore();
    expect(store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    store.close();
    const db = new Database(dbFile);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const indexes = (
      db.prepare("SELECT name FROM sqlite_master WHERE type='index'").all() as { name: string }[]
    ).map((r) => r.name);
    expect(indexes).toContain("results_model_machine_created");
    db.close();
  });

  it("reopens an existing database without re-applying migrations", () => {
    openStore().recordRun({ id: "r1", kind: "run" });
    open.pop()?.close();
    const again = openStore();
    expect(again.listRuns().map((r) => r.id)).toEqual(["r1"]);
  });

  it("migrates an old-version database and keeps its data", () => {
    const raw = new Database(path.join(dir, "old.db"));
    expect(migrate(raw, 1)).toEqual([1]);
    raw
      .prepare(
        `INSERT INTO runs (id, kind, started_at, status, source) VALUES ('old', 'run', '2025-01-01T00:00:00Z', 'success', 'run')`,
      )
      .run();
    raw
      .prepare(
        `INSERT INTO results (run_id, model, status, performance, created_at) VALUES ('old', 'm', 'SUCCESS', '5', '2025-01-01T00:00:00Z')`,
      )
      .run();
    expect(schemaVersion(raw)).toBe(1);
    raw.close();
    const store = openStore(path.join(dir, "old.db"));
    expect(store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    const [result] = store.queryResults();
    expect(result?.row.model).toBe("m");
    expect(result?.imageDigest).toBeNull();
  });

  it("refuses a database with a newer schema than it knows, without changing it", () => {
    const file = path.join(dir, "new.db");
    const raw = new Database(file);
    migrate(raw);
    raw
      .prepare("INSERT INTO schema_migrations VALUES (?, 'future', '2030-01-01')")
      .run(LATEST_SCHEMA_VERSION + 5);
    raw.close();
    const error = catchError(() => openStore(file));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/newer/);
    expect(error.message).toContain(`schema version ${LATEST_SCHEMA_VERSION + 5}`);
  });

  it("refuses a text file with a clear error naming it and leaves it unchanged", () => {
    const file = path.join(dir, "notes.db");
    writeFileSync(file, "this is not a database\n".repeat(200));
    const error = catchError(() => openStore(file));
    expect(error.code).toBe("INVALID_FILE");
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    expect(error.hint).toMatch(/move-aside/);
    expect(readFileSync(file, "utf8")).toBe("this is not a database\n".repeat(200));
  });

  it("refuses a foreign SQLite database with unrelated tables and no schema_migrations", () => {
    const file = path.join(dir, "foreign.db");
    const raw = new Database(file);
    raw.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'a')",
    );
    raw.close();
    const error = catchError(() => openStore(file));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not a madengine results database.*customers.*no schema_migrations/);
    expect(error.hint).toMatch(/broken/);
    const check = new Database(file);
    expect(check.prepare("SELECT COUNT(*) AS n FROM customers").get()).toEqual({ n: 1 });
    check.close();
  });

  it("moveAside renames the file (and its -wal) to <file>.broken-<time>, never deleting", async () => {
    const file = path.join(dir, "bad.db");
    writeFileSync(file, "junk");
    writeFileSync(`${file}-wal`, "wal");
    const target = await moveAside(file, new Date("2026-01-02T03:04:05.678Z"));
    expect(target).toBe(`${file}.broken-2026-01-02T03-04-05-678Z`);
    expect(readFileSync(target, "utf8")).toBe("junk");
    expect(readFileSync(`${target}-wal`, "utf8")).toBe("wal");
    writeFileSync(file, "junk2");
    const second = await moveAside(file, new Date("2026-01-02T03:04:05.678Z"));
    expect(second).toBe(`${target}-1`);
    expect(readdirSync(dir).sort()).toEqual([
      "bad.db.broken-2026-01-02T03-04-05-678Z",
      "bad.db.broken-2026-01-02T03-04-05-678Z-1",
      "bad.db.broken-2026-01-02T03-04-05-678Z-wal",
    ]);
    // a fresh database can now be created at the old path
    expect(openStore(file).schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
  });

  it("fails with a clear error after the busy timeout when another connection holds an exclusive lock", () => {
    openStore().close();
    const other = new Database(dbFile);
    other.exec("BEGIN EXCLUSIVE");
    try {
      const started = Date.now();
      const error = catchError(() => {
        const store = openStore(dbFile, 300);
        store.recordRun({ kind: "run" });
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(error.message).toContain(dbFile);
      expect(error.message).toMatch(/locked by another process/);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  });

  it("fails clearly when a fresh (non-WAL) database is locked exclusively", () => {
    const file = path.join(dir, "fresh.db");
    const other = new Database(file);
    other.exec("CREATE TABLE x (a); DROP TABLE x; BEGIN EXCLUSIVE");
    try {
      const error = catchError(() => openStore(file, 200));
      expect(error.message).toMatch(/locked by another process/);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  });
});

describe("runs and results", () => {
  it("records, finishes and lists runs with result counts, newest first", () => {
    const store = openStore();
    store.recordRun({
      id: "a",
      kind: "run",
      startedAt: "2026-01-01T00:00:00Z",
      context: { gpu: "gfx942" },
      nodes: ["n1"],
    });
    store.recordRun({ id: "b", kind: "run", startedAt: "2026-01-02T00:00:00Z", manifestFile: "/m.json" });
    expect(store.addResults("a", [perfRow(), perfRow({ model: "other" })], { node: "n1" })).toBe(2);
    store.finishRun("a", "success", "2026-01-01T01:00:00Z");
    const runs = store.listRuns();
    expect(runs.map((r) => [r.id, r.resultCount, r.status])).toEqual([
      ["b", 0, "running"],
      ["a", 2, "success"],
    ]);
    expect(runs[1]?.context).toEqual({ gpu: "gfx942" });
    expect(runs[1]?.nodes).toEqual(["n1"]);
    expect(runs[1]?.endedAt).toBe("2026-01-01T01:00:00Z");
    expect(store.listRuns({ limit: 1 }).map((r) => r.id)).toEqual(["b"]);
  });

  it("refuses results for an unknown run and invalid rows", () => {
    const store = openStore();
    expect(catchError(() => store.addResults("nope", [perfRow()])).message).toMatch(/no run "nope"/);
    expect(catchError(() => store.finishRun("nope", "failure")).message).toMatch(/no run "nope"/);
    store.recordRun({ id: "a", kind: "run" });
    const bad = { ...perfRow(), status: "OK" } as unknown as PerfRow;
    expect(catchError(() => store.addResults("a", [bad])).code).toBe("INTERNAL");
    expect(store.queryResults()).toEqual([]);
  });

  it("queries by model, tag, node, status, run, time range and limit", () => {
    const store = openStore();
    store.recordRun({ id: "a", kind: "run" });
    store.recordRun({ id: "b", kind: "run" });
    store.addResults("a", [perfRow({ model: "m1", tags: "dummies,dummy_group_1" })], {
      node: "n1",
      createdAt: "2026-01-01T00:00:00Z",
      imageDigest: "sha256:abc",
      logFile: "/logs/m1.log",
    });
    store.addResults("a", [perfRow({ model: "m2", tags: "dummies", status: "FAILURE" })], {
      node: "n2",
      createdAt: "2026-01-02T00:00:00Z",
    });
    store.addResults("b", [perfRow({ model: "m1", tags: "dummy_group_10" })], {
      createdAt: "2026-01-03T00:00:00Z",
    });
    const models = (filter: Parameters<ResultsStore["queryResults"]>[0]) =>
      store.queryResults(filter).map((r) => `${r.row.model}@${r.runId}`);
    expect(models({ model: "m1" })).toEqual(["m1@a", "m1@b"]);
    expect(models({ tag: "dummy_group_1" })).toEqual(["m1@a"]);
    expect(models({ tag: "dummies" })).toEqual(["m1@a", "m2@a"]);
    expect(models({ tag: "dummy%" })).toEqual([]);
    expect(models({ node: "n2" })).toEqual(["m2@a"]);
    expect(models({ status: "FAILURE" })).toEqual(["m2@a"]);
    expect(models({ runId: "b" })).toEqual(["m1@b"]);
    expect(models({ since: "2026-01-02T00:00:00Z" })).toEqual(["m2@a", "m1@b"]);
    expect(models({ until: "2026-01-02T00:00:00Z" })).toEqual(["m1@a", "m2@a"]);
    expect(models({ limit: 2 })).toEqual(["m2@a", "m1@b"]);
    const [first] = store.queryResults({ model: "m1", runId: "a" });
    expect(first).toMatchObject({ node: "n1", imageDigest: "sha256:abc", logFile: "/logs/m1.log" });
  });
});

describe("importPerfCsv / exportPerfCsv", () => {
  it("import then export of the 25-column madengine file is byte-equal", async () => {
    const store = openStore();
    const report = await store.importPerfCsv(FIXTURE_25);
    expect(report.broken).toEqual([]);
    expect(report.ignoredColumns).toEqual([]);
    expect(report.imported).toBeGreaterThan(0);
    expect(report.imported).toBe(report.totalRows);
    const out = path.join(dir, "out.csv");
    expect(await store.exportPerfCsv(out, {})).toBe(report.imported);
    expect(readFileSync(out)).toEqual(readFileSync(FIXTURE_25));
    expect(store.formatPerfCsv()).toBe(readFileSync(FIXTURE_25, "utf8"));
    // the multi-line docker_sha cell survived
    expect(store.queryResults()[0]?.row.docker_sha).toContain("\n\nUsage:");
    const [run] = store.listRuns();
    expect(run).toMatchObject({
      source: "import",
      kind: "import",
      status: "success",
      resultCount: report.imported,
    });
  });

  it("imports the 29-column file by name, listing the extra columns", async () => {
    const store = openStore();
    const report = await store.importPerfCsv(FIXTURE_29);
    expect(report.ignoredColumns).toEqual(["nnodes", "gpus_per_node", "deployment_type", "launcher"]);
    expect(report.missingColumns).toEqual([]);
    expect(report.imported).toBe(1);
    const [result] = store.queryResults();
    expect(result?.row).toMatchObject({
      model: "dummy",
      n_gpus: "1",
      tags: "dummies,dummy_group_1",
      machine_name: "vm",
      gpu_architecture: "gfx942",
      performance: "1243",
      status: "SUCCESS",
    });
    const out = path.join(dir, "out.csv");
    await store.exportPerfCsv(out);
    const text = readFileSync(out, "utf8");
    expect(text.split("\n")[0]).toBe(PERF_CSV_HEADER);
    expect(text).toContain(
      'dummy,1,,,,"dummies,dummy_group_1",docker/dummy.ubuntu.amd.Dockerfile,,invalid reference format,',
    );
  });

  const brokenCsv = [
    "model,status,performance,extra",
    "good1,SUCCESS,1,x",
    "toofew,SUCCESS",
    ",SUCCESS,2,x",
    "badstatus,PASSED,3,x",
    '"multi',
    'line",FAILURE,4,x',
    "good2,SKIPPED,,x",
    "",
    "toomany,SUCCESS,5,x,y",
  ].join("\n");

  it("all-or-nothing: reports every broken row with its line and imports nothing", async () => {
    const file = path.join(dir, "broken.csv");
    writeFileSync(file, brokenCsv);
    const store = openStore();
    const report = await store.importPerfCsv(file, { mode: "all-or-nothing" });
    expect(report.broken).toEqual([
      { line: 3, reason: "2 cells, but the header has 4 columns" },
      { line: 4, reason: "no model name" },
      { line: 5, reason: 'status "PASSED" is not one of SUCCESS, FAILURE, SKIPPED' },
      { line: 10, reason: "5 cells, but the header has 4 columns" },
    ]);
    expect(report).toMatchObject({ imported: 0, runId: null, totalRows: 7, ignoredColumns: ["extra"] });
    expect(store.queryResults()).toEqual([]);
    expect(store.listRuns()).toEqual([]);
  });

  it("good-rows: imports the good rows and still reports the broken ones", async () => {
    const file = path.join(dir, "broken.csv");
    writeFileSync(file, brokenCsv);
    const store = openStore();
    const report = await store.importPerfCsv(file, { mode: "good-rows" });
    expect(report.imported).toBe(3);
    expect(report.broken.map((b) => b.line)).toEqual([3, 4, 5, 10]);
    expect(report.missingColumns).toContain("n_gpus");
    expect(store.queryResults().map((r) => r.row.model)).toEqual(["good1", "multi\nline", "good2"]);
    expect(store.queryResults({ runId: report.runId ?? "" })).toHaveLength(3);
  });

  it("rejects a file without a model or status column, and unterminated quotes", async () => {
    const store = openStore();
    const noStatus = path.join(dir, "a.csv");
    writeFileSync(noStatus, "model,performance\nm,1\n");
    await expect(store.importPerfCsv(noStatus)).rejects.toThrow(/no "status" column/);
    const unterminated = path.join(dir, "b.csv");
    writeFileSync(unterminated, 'model,status\n"m,SUCCESS\n');
    await expect(store.importPerfCsv(unterminated)).rejects.toThrow(/unterminated/);
    await expect(store.importPerfCsv(path.join(dir, "missing.csv"))).rejects.toThrow(/not found/);
  });

  it("exports a filtered selection with the exact header", async () => {
    const store = openStore();
    store.recordRun({ id: "a", kind: "run" });
    store.addResults("a", [perfRow({ model: "m1" }), perfRow({ model: "m2", args: 'say "hi", ok' })]);
    const out = path.join(dir, "m2.csv");
    expect(await store.exportPerfCsv(out, { model: "m2" })).toBe(1);
    const text = readFileSync(out, "utf8");
    expect(text).toBe(`${PERF_CSV_HEADER}\nm2,,,,"say ""hi"", ok",,,,,,,,,100,samples,,SUCCESS,,,,,,,,\n`);
  });
});

describe("exportPrometheus / exportJson", () => {
  it("escapes label values per the exposition format", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it("accepts only plain decimal numbers", () => {
    expect(numericPerformance(" 12.5 ")).toBe(12.5);
    expect(numericPerformance("1e3")).toBe(1000);
    expect(numericPerformance("")).toBeUndefined();
    expect(numericPerformance("0x10")).toBeUndefined();
    expect(numericPerformance("Infinity")).toBeUndefined();
    expect(numericPerformance("n/a")).toBeUndefined();
  });

  it("writes HELP/TYPE and one gauge per numeric result, latest per label set", () => {
    const store = openStore();
    store.recordRun({ id: "a", kind: "run" });
    store.addResults(
      "a",
      [
        perfRow({ model: 'we"ird\\model\nx', gpu_architecture: "gfx942", performance: "1112" }),
        perfRow({ model: "skipped", performance: "" }),
        perfRow({ model: "text", performance: "fast" }),
        perfRow({ model: "dup", performance: "1" }),
        perfRow({ model: "dup", performance: "2" }),
      ],
      { node: "n1" },
    );
    const text = store.exportPrometheus();
    expect(text).toBe(
      [
        "# HELP madengine_performance Model performance recorded by madengine (the unit is the metric label).",
        "# TYPE madengine_performance gauge",
        'madengine_performance{model="we\\"ird\\\\model\\nx",metric="samples",node="n1",status="SUCCESS",gpu_architecture="gfx942"} 1112',
        'madengine_performance{model="dup",metric="samples",node="n1",status="SUCCESS",gpu_architecture=""} 2',
        "",
      ].join("\n"),
    );
    expect(store.exportPrometheus({ model: "nothing" })).toBe(
      "# HELP madengine_performance Model performance recorded by madengine (the unit is the metric label).\n# TYPE madengine_performance gauge\n",
    );
  });

  it("labels an imported result (no node of ours) with the machine that ran it", () => {
    const store = openStore();
    store.recordRun({ id: "imported", kind: "run" });
    store.addResults("imported", [perfRow({ model: "m", machine_name: "gpu-host-7", performance: "5" })], {});
    expect(store.exportPrometheus()).toContain(
      'madengine_performance{model="m",metric="samples",node="gpu-host-7",',
    );
  });

  it("exports JSON with the perf columns in order and the extra fields", () => {
    const store = openStore();
    store.recordRun({ id: "a", kind: "run" });
    store.addResults("a", [perfRow()], { node: "n1", createdAt: "2026-01-01T00:00:00Z" });
    const [item] = JSON.parse(store.exportJson()) as Record<string, unknown>[];
    expect(Object.keys(item ?? {})).toEqual([
      "id",
      "runId",
      ...PERF_CSV_COLUMNS,
      "node",
      "imageDigest",
      "logFile",
      "createdAt",
    ]);
    expect(item).toMatchObject({ runId: "a", model: "dummy", node: "n1", createdAt: "2026-01-01T00:00:00Z" });
  });
});

describe("defaultResultsDbPath", () => {
  it("prefers MADENGINE_RESULTS_DB, then XDG_DATA_HOME, then ~/.local/share", () => {
    expect(defaultResultsDbPath({ MADENGINE_RESULTS_DB: "/x/r.db", XDG_DATA_HOME: "/xdg" }, "/home/u")).toBe(
      "/x/r.db",
    );
    expect(defaultResultsDbPath({ XDG_DATA_HOME: "/xdg" }, "/home/u")).toBe(
      "/xdg/madengine-control-center/results.db",
    );
    expect(defaultResultsDbPath({ XDG_DATA_HOME: "relative" }, "/home/u")).toBe(
      "/home/u/.local/share/madengine-control-center/results.db",
    );
    expect(defaultResultsDbPath({}, "/home/u")).toBe(
      "/home/u/.local/share/madengine-control-center/results.db",
    );
  });
});
