/**
 * The audit log: who ran which build or run, when, from which manifest (sha256), with which images,
 * on which nodes, and how it ended. One table in the results database (migration 3).
 *
 * API for callers (CLI and app):
 *  - `auditEntryFor({ kind, manifestFile, nodes, outcome, detail })` gathers who/when/sha256/digests;
 *  - `appendAudit(dbFile, entry, warn)` stores it and never throws (a warning instead);
 *  - `listAudit(store, { limit, kind })`, `formatAuditCsv(entries)`, `formatAuditJsonLines(entries)`.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import os from "node:os";
import {
  AUDIT_CSV_COLUMNS,
  type AuditEntry,
  type AuditEntryInput,
  type AuditKind,
  type AuditOutcome,
  auditEntryInputSchema,
} from "../../../shared/schemas/audit.js";
import { ResultsStore } from "./resultsStore.js";

/** The OS user running this process (USER/LOGNAME when the passwd entry cannot be read). */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? env.USERNAME ?? "unknown";
  }
}

/** Image ids and registry digests named by a build manifest (any shape: read leniently). */
function imageDigestsOf(manifest: unknown): string[] {
  const images = (manifest as { built_images?: Record<string, Record<string, unknown>> })?.built_images;
  if (!images || typeof images !== "object") return [];
  const digests = new Set<string>();
  for (const image of Object.values(images)) {
    for (const field of ["registry_digest", "image_id", "docker_sha"]) {
      const value = image?.[field];
      if (typeof value === "string" && /^sha256:[0-9a-f]{64}$/.test(value)) digests.add(value);
    }
  }
  return [...digests];
}

/**
 * An audit entry for a build or run that just ended: the manifest's sha256 and image digests are
 * read from the file (null / none when it cannot be read, e.g. a build that failed before writing it).
 */
export async function auditEntryFor(input: {
  kind: AuditKind;
  manifestFile?: string | null;
  nodes?: readonly string[];
  outcome: AuditOutcome;
  detail?: string | null;
  at?: Date;
  user?: string;
}): Promise<AuditEntryInput> {
  let manifestSha256: string | null = null;
  let imageDigests: string[] = [];
  if (input.manifestFile) {
    try {
      const bytes = await readFile(input.manifestFile);
      manifestSha256 = createHash("sha256").update(bytes).digest("hex");
      imageDigests = imageDigestsOf(JSON.parse(bytes.toString("utf8")));
    } catch {
      // no manifest (yet) or not JSON: the entry says so with null / no digests
    }
  }
  return {
    at: (input.at ?? new Date()).toISOString(),
    user: input.user ?? currentUser(),
    kind: input.kind,
    manifestFile: input.manifestFile ?? null,
    manifestSha256,
    imageDigests,
    nodes: [...(input.nodes ?? [])],
    outcome: input.outcome,
    detail: input.detail ?? null,
  };
}

/** Stores one entry in an open store; returns it with its id. */
export function insertAudit(store: ResultsStore, entry: AuditEntryInput): AuditEntry {
  const valid = auditEntryInputSchema.parse(entry);
  const info = store.withDatabase((db) =>
    db
      .prepare(
        `INSERT INTO audit ("at", "user", "kind", "manifest_file", "manifest_sha256", "image_digests_json", "nodes_json", "outcome", "detail")
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        valid.at,
        valid.user,
        valid.kind,
        valid.manifestFile,
        valid.manifestSha256,
        JSON.stringify(valid.imageDigests),
        JSON.stringify(valid.nodes),
        valid.outcome,
        valid.detail,
      ),
  );
  return { ...valid, id: Number(info.lastInsertRowid) };
}

/**
 * Appends an entry to the audit log of the results database at `dbFile`. Never throws: the audit
 * log must not fail the build or run it records; a problem is one `warn` line. Returns the stored
 * entry, or undefined when it could not be stored.
 */
export function appendAudit(
  dbFile: string,
  entry: AuditEntryInput,
  warn: (message: string) => void,
): AuditEntry | undefined {
  let store: ResultsStore | undefined;
  try {
    store = ResultsStore.open(dbFile);
    return insertAudit(store, entry);
  } catch (error) {
    warn(`audit log (${dbFile}): the ${entry.kind} was not recorded: ${(error as Error).message}`);
    return undefined;
  } finally {
    try {
      store?.close();
    } catch {
      // closing a store that failed mid-way: nothing more to report
    }
  }
}

interface AuditDbRow {
  id: number;
  at: string;
  user: string;
  kind: AuditKind;
  manifest_file: string | null;
  manifest_sha256: string | null;
  image_digests_json: string;
  nodes_json: string;
  outcome: AuditOutcome;
  detail: string | null;
}

/** The audit log, newest first. */
export function listAudit(
  store: ResultsStore,
  options: { limit?: number; kind?: AuditKind } = {},
): AuditEntry[] {
  const rows = store.withDatabase(
    (db) =>
      db
        .prepare(
          `SELECT * FROM audit ${options.kind ? `WHERE "kind" = @kind` : ""} ORDER BY "at" DESC, "id" DESC LIMIT @limit`,
        )
        .all({ limit: options.limit ?? -1, ...(options.kind ? { kind: options.kind } : {}) }) as AuditDbRow[],
  );
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    user: row.user,
    kind: row.kind,
    manifestFile: row.manifest_file,
    manifestSha256: row.manifest_sha256,
    imageDigests: JSON.parse(row.image_digests_json) as string[],
    nodes: JSON.parse(row.nodes_json) as string[],
    outcome: row.outcome,
    detail: row.detail,
  }));
}

/** One JSON object per line ("\n" after each). */
export function formatAuditJsonLines(entries: readonly AuditEntry[]): string {
  return entries.map((entry) => `${JSON.stringify(entry)}\n`).join("");
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** CSV with a header; list cells are joined with spaces. */
export function formatAuditCsv(entries: readonly AuditEntry[]): string {
  const lines = [AUDIT_CSV_COLUMNS.join(",")];
  for (const entry of entries) {
    lines.push(
      [
        String(entry.id),
        entry.at,
        entry.user,
        entry.kind,
        entry.manifestFile ?? "",
        entry.manifestSha256 ?? "",
        entry.imageDigests.join(" "),
        entry.nodes.join(" "),
        entry.outcome,
        entry.detail ?? "",
      ]
        .map(csvCell)
        .join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}
