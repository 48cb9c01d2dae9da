import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { captureStdio, runResultsCli } from "../../helpers/resultsCli.js";

const FIXTURE_25 = path.resolve(import.meta.dirname, "../../fixtures/perf/madengine-2025-07-perf.csv");

let dir: string;
let out: string[];
let err: string[];

const cli = runResultsCli;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "results-cli-"));
  ({ out, err } = captureStdio());
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe("madengine-cli results", () => {
  it("imports, lists and exports csv, json and prometheus", async () => {
    const db = path.join(dir, "r.db");
    expect(await cli("results", "import", FIXTURE_25, "--db", db)).toBe(0);
    expect(out.join("")).toMatch(/imported \d+ of \d+ row\(s\)/);
    out.length = 0;
    expect(await cli("results", "list", "--db", db, "--json")).toBe(0);
    const runs = JSON.parse(out.join("")) as { source: string }[];
    expect(runs.map((r) => r.source)).toEqual(["import"]);
    const csv = path.join(dir, "out.csv");
    expect(await cli("results", "export", "--db", db, "--output", csv)).toBe(0);
    expect(readFileSync(csv)).toEqual(readFileSync(FIXTURE_25));
    out.length = 0;
    expect(await cli("results", "export", "--db", db, "--format", "prometheus", "--model", "dummy")).toBe(0);
    expect(out.join("")).toMatch(/^# HELP madengine_performance/);
    expect(out.join("")).toContain('madengine_performance{model="dummy",metric="samples_per_second"');
    out.length = 0;
    expect(await cli("results", "export", "--db", db, "--format", "json", "--status", "FAILURE")).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual([]);
  });

  it("uses MADENGINE_RESULTS_DB, fails on broken rows without --good-rows", async () => {
    const db = path.join(dir, "env.db");
    vi.stubEnv("MADENGINE_RESULTS_DB", db);
    const csv = path.join(dir, "bad.csv");
    writeFileSync(csv, "model,status\nok,SUCCESS\nbad,MAYBE\n");
    expect(await cli("results", "import", csv)).toBe(1);
    expect(err.join("")).toContain("line 3:");
    expect(err.join("")).toMatch(/nothing imported.*--good-rows/);
    expect(await cli("results", "import", csv, "--good-rows")).toBe(1);
    expect(out.join("")).toContain(`imported 1 of 2 row(s) from ${csv}`);
    expect(out.join("")).toContain(db);
  });

  it("rejects bad options and moves a broken database aside", async () => {
    const db = path.join(dir, "broken.db");
    writeFileSync(db, "not sqlite at all, just some text that is long enough".repeat(50));
    await expect(cli("results", "list", "--db", db)).rejects.toThrow(/not a usable results database/);
    await expect(cli("results", "export", "--db", db, "--format", "xml")).rejects.toThrow(/--format "xml"/);
    await expect(cli("results", "export", "--db", db, "--status", "OK")).rejects.toThrow(/--status "OK"/);
    expect(await cli("results", "move-aside", "--db", db)).toBe(0);
    expect(out.join("")).toMatch(/moved .*broken\.db to .*broken\.db\.broken-/);
    expect(await cli("results", "list", "--db", db)).toBe(0);
    expect(out.join("")).toContain("no runs in");
  });
});
