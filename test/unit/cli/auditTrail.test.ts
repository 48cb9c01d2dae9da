import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { audited, newAuditFacts } from "../../../src-main/cli/auditTrail.js";
import { captureStdio, runResultsCli } from "../../helpers/resultsCli.js";

let dir: string;
let db: string;
let out: string[];
let err: string[];

const cli = runResultsCli;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "audit-cli-"));
  db = path.join(dir, "results.db");
  vi.stubEnv("MADENGINE_RESULTS_DB", db);
  ({ out, err } = captureStdio());
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe("audit trail of CLI builds and runs", () => {
  it("records a finished build, a failed run (exception) and skips work that never started; results audit lists them", async () => {
    const manifest = path.join(dir, "build_manifest.json");
    writeFileSync(manifest, JSON.stringify({ built_images: {} }));
    const build = newAuditFacts();
    expect(
      await audited("build", build, async () => {
        build.started = true;
        build.manifestFile = manifest;
        return 2;
      }),
    ).toBe(2);
    const run = newAuditFacts();
    await expect(
      audited("run", run, async () => {
        run.started = true;
        run.nodes = ["gpu-1"];
        throw new Error("docker went away\nmore");
      }),
    ).rejects.toThrow(/docker went away/);
    await expect(
      audited("run", newAuditFacts(), async () => {
        throw new Error("bad flag");
      }),
    ).rejects.toThrow(/bad flag/);

    expect(await cli("results", "audit", "--format", "json", "--db", db)).toBe(0);
    const entries = out
      .join("")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      kind: "run",
      outcome: "failure",
      detail: "docker went away",
      nodes: ["gpu-1"],
    });
    expect(entries[1]).toMatchObject({
      kind: "build",
      outcome: "failure",
      detail: "exit code 2",
      manifestFile: manifest,
    });
    expect(entries[1].manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(entries[0].user).toBe(os.userInfo().username);

    out.length = 0;
    expect(await cli("results", "audit", "--format", "csv", "--kind", "build", "--db", db)).toBe(0);
    const csv = out.join("").trimEnd().split("\n");
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain(",build,");

    out.length = 0;
    expect(await cli("results", "audit", "--db", db)).toBe(0);
    expect(out.join("")).toMatch(/WHEN\s+USER\s+KIND\s+OUTCOME/);
    expect(err.join("")).toBe("");
  });

  it("a broken database warns and leaves the command's exit code alone", async () => {
    writeFileSync(db, "not sqlite\n".repeat(100));
    const facts = newAuditFacts();
    facts.started = true;
    expect(await audited("run", facts, async () => 0)).toBe(0);
    expect(err.join("")).toMatch(/warning: audit log .* the run was not recorded/);
  });

  it("refuses an unknown --format", async () => {
    await expect(cli("results", "audit", "--format", "xml", "--db", db)).rejects.toThrow(
      /expected table, json or csv/,
    );
  });
});
