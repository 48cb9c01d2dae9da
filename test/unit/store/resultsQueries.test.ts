import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import { PERF_CSV_COLUMNS, type PerfRow } from "../../../shared/schemas/perf.js";
import { flagAgainst, lowerIsBetter, median } from "../../../src-main/engine/store/flags.js";
import { migrate, schemaVersion } from "../../../src-main/engine/store/migrations.js";
import {
  currentFlags,
  nodeComparison,
  performanceSeries,
  queryResultsPage,
  resultFacets,
} from "../../../src-main/engine/store/resultsQueries.js";
import { ResultsStore } from "../../../src-main/engine/store/resultsStore.js";
import { compareRuns } from "../../../src-main/engine/store/runComparison.js";

let dir: string;
let store: ResultsStore;

function perfRow(overrides: Partial<PerfRow> = {}): PerfRow {
  const row = Object.fromEntries(PERF_CSV_COLUMNS.map((c) => [c, ""])) as PerfRow;
  return {
    ...row,
    model: "m",
    status: "SUCCESS",
    performance: "100",
    metric: "samples_per_second",
    ...overrides,
  };
}

/** Day `n` of January 2026 at noon, as ISO-8601. */
function day(n: number): string {
  return new Date(Date.UTC(2026, 0, 1, 12) + n * 86_400_000).toISOString();
}

function addRun(
  id: string,
  rows: PerfRow[],
  extra: { node?: string; createdAt?: string; context?: unknown } = {},
) {
  store.recordRun({ id, kind: "run", context: extra.context ?? null, startedAt: extra.createdAt ?? day(0) });
  store.addResults(id, rows, {
    node: extra.node ?? null,
    ...(extra.createdAt ? { createdAt: extra.createdAt } : {}),
  });
  store.finishRun(id, "success");
}

const db = () => store.withDatabase((each) => each);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "results-queries-"));
  store = ResultsStore.open(path.join(dir, "results.db"));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("migration 3", () => {
  it("adds the audit table and the results screen's indexes to a version-2 database, keeping its rows", () => {
    const file = path.join(dir, "v2.db");
    const raw = new Database(file);
    migrate(raw, 2);
    raw.exec(
      `INSERT INTO runs (id, kind, started_at, status, source) VALUES ('old', 'run', '2025-01-01T00:00:00Z', 'success', 'run');
       INSERT INTO results (run_id, model, status, performance, created_at) VALUES ('old', 'm', 'SUCCESS', '5', '2025-01-01T00:00:00Z');`,
    );
    raw.close();
    const migrated = ResultsStore.open(file);
    expect(migrated.schemaVersion()).toBe(3);
    const names = migrated.withDatabase(
      (each) => each.prepare("SELECT name FROM sqlite_master").pluck().all() as string[],
    );
    expect(names).toEqual(
      expect.arrayContaining([
        "audit",
        "results_model_created",
        "results_model_arch_created",
        "results_node",
      ]),
    );
    expect(migrated.queryResults()).toHaveLength(1);
    migrated.close();
    const check = new Database(file);
    expect(schemaVersion(check)).toBe(3);
    check.close();
  });
});

describe("queryResultsPage", () => {
  beforeEach(() => {
    addRun(
      "r1",
      [perfRow({ model: "a", tags: "x, y" }), perfRow({ model: "b", tags: "y", status: "FAILURE" })],
      {
        node: "n1",
        createdAt: day(1),
      },
    );
    addRun("r2", [perfRow({ model: "a", performance: "90", machine_name: "box" })], { createdAt: day(2) });
    addRun("r3", [perfRow({ model: "c", performance: "300" })], { node: "n2", createdAt: day(3) });
  });

  it("filters by model, tag, node (or machine_name), status, run and dates, and counts all matches", () => {
    const models = (query: Parameters<typeof queryResultsPage>[1]) =>
      queryResultsPage(db(), query).results.map((r) => `${r.runId}:${r.row.model}`);
    expect(models({ model: "a" })).toEqual(["r2:a", "r1:a"]);
    expect(models({ tag: "y" })).toEqual(["r1:b", "r1:a"]);
    expect(models({ node: "box" })).toEqual(["r2:a"]);
    expect(models({ node: "n1", status: "FAILURE" })).toEqual(["r1:b"]);
    expect(models({ since: day(2), until: day(2) })).toEqual(["r2:a"]);
    expect(models({ runId: "r3" })).toEqual(["r3:c"]);
    const page = queryResultsPage(db(), { limit: 1, offset: 1 });
    expect(page.total).toBe(4);
    expect(page.results).toHaveLength(1);
    expect(page.results[0]?.row.model).toBe("a");
    expect(page.results[0]?.where).toBe("box");
  });

  it("sorts by performance numerically, either way", () => {
    const perf = (direction: "asc" | "desc") =>
      queryResultsPage(db(), { sort: "performance", direction, status: "SUCCESS" }).results.map(
        (r) => r.row.performance,
      );
    expect(perf("asc")).toEqual(["90", "100", "300"]);
    expect(perf("desc")).toEqual(["300", "100", "90"]);
  });

  it("offers the filters' choices", () => {
    expect(resultFacets(db())).toEqual({
      models: ["a", "b", "c"],
      nodes: ["box", "n1", "n2"],
      tags: ["x", "y"],
      gpuArchitectures: [],
    });
  });
});

describe("flags", () => {
  it("knows which metrics are lower-is-better", () => {
    expect(lowerIsBetter("samples_per_second")).toBe(false);
    expect(lowerIsBetter("samples/sec")).toBe(false);
    expect(lowerIsBetter("tokens per sec")).toBe(false);
    expect(lowerIsBetter("latency_p99")).toBe(true);
    expect(lowerIsBetter("ms")).toBe(true);
    expect(lowerIsBetter("time_to_first_token")).toBe(true);
    expect(lowerIsBetter("sec")).toBe(true);
    expect(lowerIsBetter("items")).toBe(false);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });

  it("flags beyond 3 MADs, by direction, and not with fewer than 5 history points", () => {
    const history = [100, 101, 99, 100, 102, 98];
    expect(flagAgainst(100.5, history, false).flag).toBeNull();
    expect(flagAgainst(80, history, false).flag).toBe("regression");
    expect(flagAgainst(120, history, false).flag).toBe("improvement");
    expect(flagAgainst(120, history, true).flag).toBe("regression");
    expect(flagAgainst(80, history, true).flag).toBe("improvement");
    expect(flagAgainst(10, [100, 100, 100, 100], false)).toMatchObject({
      flag: null,
      historySize: 4,
      median: null,
    });
    const info = flagAgainst(80, history, false);
    expect(info.median).toBe(100);
    expect(info.mad).toBe(1);
    expect(info.deviations).toBe(-20);
  });

  it("judges a stored result against the last 10 of the same model on the same GPU architecture", () => {
    for (let i = 0; i < 12; i++) {
      addRun(`h${i}`, [perfRow({ gpu_architecture: "gfx942", performance: String(100 + (i % 3)) })], {
        node: `n${i % 2}`,
        createdAt: day(i),
      });
    }
    // another architecture's slow results do not count
    addRun("other", [perfRow({ gpu_architecture: "gfx90a", performance: "40" })], { createdAt: day(12) });
    addRun("slow", [perfRow({ gpu_architecture: "gfx942", performance: "60" })], {
      node: "n0",
      createdAt: day(13),
    });
    const page = queryResultsPage(db(), { limit: 3 });
    expect(page.results.map((r) => [r.runId, r.flag.flag, r.flag.historySize])).toEqual([
      ["slow", "regression", 10],
      ["other", null, 0],
      ["h11", null, 10],
    ]);
    const flagged = currentFlags(db());
    expect(flagged.map((r) => r.runId)).toEqual(["slow"]);
    const series = performanceSeries(db(), { model: "m", groupBy: "gpu_architecture" });
    expect(series.series.map((s) => [s.name, s.points.length])).toEqual([
      ["gfx90a", 1],
      ["gfx942", 13],
    ]);
    expect(series.series[1]?.points.at(-1)).toMatchObject({ value: 60, flag: "regression", runId: "slow" });
    expect(series.lowerIsBetter).toBe(false);
    const byNode = performanceSeries(db(), { model: "m", groupBy: "node" });
    expect(byNode.series.map((s) => s.name)).toEqual(["(unknown)", "n0", "n1"]);
    const recent = performanceSeries(db(), { model: "m", groupBy: "node", since: day(13) });
    expect(recent.series).toEqual([
      { name: "n0", points: [expect.objectContaining({ value: 60, flag: "regression" })] },
    ]);
  });

  it("falls back to the node when the GPU architecture is not known", () => {
    for (let i = 0; i < 6; i++)
      addRun(`h${i}`, [perfRow({ performance: "50" })], { node: "cpu1", createdAt: day(i) });
    addRun("fast-elsewhere", [perfRow({ performance: "500" })], { node: "cpu2", createdAt: day(7) });
    addRun("fast", [perfRow({ performance: "500" })], { node: "cpu1", createdAt: day(8) });
    const flags = queryResultsPage(db(), { limit: 2 }).results.map((r) => [r.runId, r.flag.flag]);
    expect(flags).toEqual([
      ["fast", "improvement"],
      ["fast-elsewhere", null],
    ]);
  });
});

describe("nodeComparison and compareRuns", () => {
  it("averages each model per node of one run", () => {
    store.recordRun({ id: "multi", kind: "run" });
    store.addResults("multi", [perfRow({ performance: "10" }), perfRow({ performance: "20" })], {
      node: "n1",
    });
    store.addResults("multi", [perfRow({ performance: "40" }), perfRow({ model: "z", performance: "n/a" })], {
      node: "n2",
    });
    expect(nodeComparison(db(), "multi")).toEqual({
      runId: "multi",
      nodes: ["n1", "n2"],
      models: [
        {
          model: "m",
          metric: "samples_per_second",
          values: [
            { node: "n1", value: 15 },
            { node: "n2", value: 40 },
          ],
        },
      ],
    });
  });

  it("gives per model the delta and the provenance fields that differ", () => {
    addRun(
      "a",
      [
        perfRow({
          model: "m",
          performance: "100",
          docker_image: "img:1",
          gpu_architecture: "gfx942",
          args: "--x 1",
        }),
        perfRow({ model: "only-a" }),
      ],
      { node: "n1", context: { gpu_vendor: "AMD", guest_os: "UBUNTU" } },
    );
    addRun(
      "b",
      [
        perfRow({
          model: "m",
          performance: "80",
          docker_image: "img:2",
          gpu_architecture: "gfx942",
          args: "--x 1",
        }),
      ],
      { node: "n2", context: { guest_os: "UBUNTU", gpu_vendor: "AMD" } },
    );
    const comparison = compareRuns(db(), "results.db", "a", "b");
    const m = comparison.models.find((each) => each.model === "m");
    expect(m).toMatchObject({ delta: -20, deltaPercent: -20, differences: ["dockerImage", "node"] });
    expect(m?.a?.provenance.context).toBe('{"gpu_vendor":"AMD","guest_os":"UBUNTU"}');
    expect(comparison.models.find((each) => each.model === "only-a")).toMatchObject({ b: null, delta: null });
    expect(() => compareRuns(db(), "results.db", "a", "nope")).toThrow(MadError);
  });
});

describe("speed", () => {
  it("answers a page, the facets and a series over 100,000 results well under 0.5 s", () => {
    const file = path.join(dir, "big.db");
    const big = ResultsStore.open(file);
    big.withDatabase((each) => {
      const insertRun = each.prepare(
        `INSERT INTO runs (id, kind, started_at, status, source) VALUES (?, 'run', ?, 'success', 'run')`,
      );
      const insert = each.prepare(
        `INSERT INTO results (run_id, model, status, performance, metric, gpu_architecture, tags, node, created_at)
         VALUES (?, ?, 'SUCCESS', ?, 'samples_per_second', ?, 'perf', ?, ?)`,
      );
      each.transaction(() => {
        for (let run = 0; run < 500; run++) {
          const at = day(run / 5);
          insertRun.run(`run${run}`, at);
          for (let i = 0; i < 200; i++) {
            insert.run(
              `run${run}`,
              `model${i % 40}`,
              String(100 + (i % 7)),
              `gfx9${i % 4}`,
              `node${i % 8}`,
              at,
            );
          }
        }
      })();
    });
    const started = performance.now();
    const page = queryResultsPage(
      big.withDatabase((each) => each),
      { model: "model7", limit: 100 },
    );
    const facets = resultFacets(big.withDatabase((each) => each));
    const series = performanceSeries(
      big.withDatabase((each) => each),
      { model: "model7", groupBy: "node" },
    );
    const elapsed = performance.now() - started;
    big.close();
    expect(page.total).toBe(2500);
    expect(facets.models).toHaveLength(40);
    expect(series.series.length).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(500);
  });
});

describe("foreign tables", () => {
  it("still refuses a database with an unrelated table next to ours", () => {
    const file = path.join(dir, "mixed.db");
    ResultsStore.open(file).close();
    const raw = new Database(file);
    raw.exec("CREATE TABLE customers (id INTEGER)");
    raw.close();
    expect(() => ResultsStore.open(file)).toThrow(/customers/);
  });
});
