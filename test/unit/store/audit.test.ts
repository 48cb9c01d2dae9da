import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  appendAudit,
  auditEntryFor,
  formatAuditCsv,
  formatAuditJsonLines,
  listAudit,
} from "../../../src-main/engine/store/audit.js";
import { ResultsStore } from "../../../src-main/engine/store/resultsStore.js";

let dir: string;
let dbFile: string;

const DIGEST = `sha256:${"a".repeat(64)}`;
const IMAGE_ID = `sha256:${"b".repeat(64)}`;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "audit-"));
  dbFile = path.join(dir, "results.db");
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("audit log", () => {
  it("records who, when, the manifest's sha256 and image digests, nodes and outcome; lists newest first", async () => {
    const manifest = path.join(dir, "build_manifest.json");
    const text = JSON.stringify({
      built_images: {
        "ci-dummy": { docker_sha: IMAGE_ID, registry_digest: DIGEST, docker_image: "ci-dummy" },
      },
    });
    writeFileSync(manifest, text);
    const warnings: string[] = [];
    const first = await auditEntryFor({
      kind: "build",
      manifestFile: manifest,
      outcome: "success",
      at: new Date("2026-01-01T00:00:00Z"),
    });
    expect(first.manifestSha256).toBe(createHash("sha256").update(text).digest("hex"));
    expect(first.imageDigests.sort()).toEqual([DIGEST, IMAGE_ID].sort());
    expect(first.user).toBe(os.userInfo().username);
    appendAudit(dbFile, first, (m) => warnings.push(m));
    const second = await auditEntryFor({
      kind: "run",
      manifestFile: path.join(dir, "missing.json"),
      nodes: ["n1", "n2"],
      outcome: "failure",
      detail: "exit code 3",
      at: new Date("2026-01-02T00:00:00Z"),
    });
    expect(second.manifestSha256).toBeNull();
    appendAudit(dbFile, second, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    const store = ResultsStore.open(dbFile);
    const entries = listAudit(store);
    expect(listAudit(store, { kind: "build" })).toHaveLength(1);
    store.close();
    expect(entries.map((e) => [e.kind, e.outcome, e.nodes])).toEqual([
      ["run", "failure", ["n1", "n2"]],
      ["build", "success", []],
    ]);
    const lines = formatAuditJsonLines(entries).trimEnd().split("\n");
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({ kind: "build", imageDigests: first.imageDigests });
    const csv = formatAuditCsv(entries).split("\n");
    expect(csv[0]).toBe("id,at,user,kind,manifest_file,manifest_sha256,image_digests,nodes,outcome,detail");
    expect(csv[1]).toContain(",run,");
    expect(csv[1]).toContain("n1 n2,failure,exit code 3");
  });

  it("never throws into the caller: a broken database is one warning", async () => {
    writeFileSync(dbFile, "not a database\n".repeat(100));
    const warnings: string[] = [];
    const entry = await auditEntryFor({ kind: "run", outcome: "success" });
    expect(appendAudit(dbFile, entry, (m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(dbFile);
    expect(warnings[0]).toMatch(/run was not recorded/);
  });

  it("warns when the database cannot be created (its folder is a file)", async () => {
    writeFileSync(path.join(dir, "file"), "");
    const warnings: string[] = [];
    const entry = await auditEntryFor({ kind: "build", outcome: "success" });
    appendAudit(path.join(dir, "file", "results.db"), entry, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/build was not recorded/);
  });
});
