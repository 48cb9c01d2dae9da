/**
 * The results history: runs and their perf rows in an SQLite database (better-sqlite3, WAL mode).
 * Opening checks that the file is this tool's database, migrates an older schema and refuses a newer
 * one; a broken or foreign file is never changed (see {@link moveAside}); a database locked by
 * another process fails with a MadError after the busy timeout.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { MadError } from "../../../shared/errors.js";
import {
  PERF_CSV_COLUMNS,
  PERF_CSV_HEADER,
  PERF_STATUSES,
  type PerfRow,
  perfRowSchema,
} from "../../../shared/schemas/perf.js";
import type {
  BrokenRow,
  ImportMode,
  ImportReport,
  ResultsFilter,
  RunRecord,
  RunSource,
  RunStatus,
  RunSummary,
  StoredResult,
} from "../../../shared/schemas/results.js";
import { formatPerfRow, orderedPerfRow, readCsvFileRecords } from "../run/results/perfCsv.js";
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion, userTables } from "./migrations.js";
import { formatPrometheus } from "./prometheus.js";

export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

export interface OpenOptions {
  /** How long to wait for a lock held by another connection (default 2000 ms). */
  busyTimeoutMs?: number;
}

export interface RecordRunInput {
  /** Default: a new random id. */
  id?: string;
  kind: string;
  manifestFile?: string | null;
  context?: unknown;
  nodes?: unknown;
  /** ISO-8601; default now. */
  startedAt?: string;
  status?: RunStatus;
  source?: RunSource;
}

export interface ResultExtra {
  node?: string | null;
  imageDigest?: string | null;
  logFile?: string | null;
  /** ISO-8601; default now. */
  createdAt?: string;
}

const ourTables = new Set(["schema_migrations", "runs", "results", "audit"]);

const MOVE_ASIDE_HINT = (file: string) =>
  `move it aside with 'madengine-cli results move-aside --db ${file}' (it is renamed to ${path.basename(file)}.broken-<time>, nothing is deleted), or pass another --db`;

function sqliteCode(error: unknown): string | undefined {
  return error instanceof Database.SqliteError ? error.code : undefined;
}

/** Turns a better-sqlite3 error into a MadError naming the file; other errors pass through. */
export function translateSqliteError(file: string, error: unknown): unknown {
  if (error instanceof MadError) return error;
  const code = sqliteCode(error);
  if (code === undefined) return error;
  const message = (error as Error).message;
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new MadError(
      "INVALID_FILE",
      `${file}: the results database is locked by another process (${message})`,
      {
        file,
        hint: "wait for the other madengine-cli (or the app) to finish writing and try again, or pass another --db",
        cause: error,
      },
    );
  }
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new MadError("INVALID_FILE", `${file}: not a usable results database: ${message}`, {
      file,
      hint: MOVE_ASIDE_HINT(file),
      cause: error,
    });
  }
  if (
    code.startsWith("SQLITE_CANTOPEN") ||
    code.startsWith("SQLITE_READONLY") ||
    code.startsWith("SQLITE_IOERR")
  ) {
    return new MadError("INVALID_FILE", `${file}: cannot open or write the results database: ${message}`, {
      file,
      hint: "check the file's and its directory's permissions, or pass another --db",
      cause: error,
    });
  }
  return new MadError("INVALID_FILE", `${file}: results database error: ${message}`, { file, cause: error });
}

export interface ResultDbRow extends Record<string, unknown> {
  id: number;
  run_id: string;
  node: string | null;
  image_digest: string | null;
  log_file: string | null;
  created_at: string;
}

interface RunDbRow {
  id: string;
  kind: string;
  manifest_file: string | null;
  context_json: string | null;
  nodes_json: string | null;
  started_at: string;
  ended_at: string | null;
  status: RunStatus;
  source: RunSource;
  result_count?: number;
}

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function toRun(row: RunDbRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    manifestFile: row.manifest_file,
    context: parseJson(row.context_json),
    nodes: parseJson(row.nodes_json),
    startedAt: row.started_at,
    endedAt: row.ended_at,
    status: row.status,
    source: row.source,
  };
}

export function toResult(row: ResultDbRow): StoredResult {
  const perf = Object.fromEntries(PERF_CSV_COLUMNS.map((column) => [column, String(row[column] ?? "")]));
  return {
    id: row.id,
    runId: row.run_id,
    node: row.node,
    imageDigest: row.image_digest,
    logFile: row.log_file,
    createdAt: row.created_at,
    row: perf as PerfRow,
  };
}

function newRunId(prefix: string): string {
  return `${prefix}-${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}`;
}

const quotedPerfColumns = PERF_CSV_COLUMNS.map((column) => `"${column}"`).join(", ");
const INSERT_RESULT = `INSERT INTO results ("run_id", ${quotedPerfColumns}, "node", "image_digest", "log_file", "created_at")
VALUES (?, ${PERF_CSV_COLUMNS.map(() => "?").join(", ")}, ?, ?, ?, ?)`;

export class ResultsStore {
  readonly file: string;
  private readonly db: Database.Database;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  /**
   * Opens (creating if missing) the results database at `file`, migrating an older schema. Throws a
   * MadError (INVALID_FILE) naming the file when it is not an SQLite database, is some other
   * program's database, was written by a newer version, or stays locked past the busy timeout.
   */
  static open(file: string, options: OpenOptions = {}): ResultsStore {
    const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    } catch (error) {
      throw new MadError(
        "INVALID_FILE",
        `${file}: cannot create its directory: ${(error as Error).message}`,
        {
          file,
          hint: "pass another --db, or set MADENGINE_RESULTS_DB",
          cause: error,
        },
      );
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: busy });
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busy))}`);
      // reading the schema first: a file that is not a database fails here, before any write
      const tables = userTables(db);
      const foreign = tables.filter((name) => !ourTables.has(name));
      if (tables.length > 0 && (!tables.includes("schema_migrations") || foreign.length > 0)) {
        throw new MadError(
          "INVALID_FILE",
          `${file}: an SQLite database, but not a madengine results database (it has the tables ${tables.join(", ")}${tables.includes("schema_migrations") ? "" : " and no schema_migrations"})`,
          { file, hint: MOVE_ASIDE_HINT(file) },
        );
      }
      const version = schemaVersion(db);
      if (version > LATEST_SCHEMA_VERSION) {
        throw new MadError(
          "INVALID_FILE",
          `${file}: the results database has schema version ${version}, newer than the ${LATEST_SCHEMA_VERSION} this version of madengine-cli knows`,
          {
            file,
            hint: "it was written by a newer madengine-cli: upgrade, or pass another --db (the file was not changed)",
          },
        );
      }
      db.pragma("foreign_keys = ON");
      db.pragma("journal_mode = WAL");
      migrate(db);
      return new ResultsStore(file, db);
    } catch (error) {
      db?.close();
      throw translateSqliteError(file, error);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The schema version of the open database. */
  schemaVersion(): number {
    return this.guard(() => schemaVersion(this.db));
  }

  /**
   * Runs read or write work on the open database (the query modules next to this one use it);
   * SQLite errors come back as MadErrors naming the file.
   */
  withDatabase<T>(work: (db: Database.Database) => T): T {
    return this.guard(() => work(this.db));
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw translateSqliteError(this.file, error);
    }
  }

  /** Records the start of a run; returns it as stored. */
  recordRun(input: RecordRunInput): RunRecord {
    const run: RunRecord = {
      id: input.id ?? newRunId(input.source === "import" ? "import" : "run"),
      kind: input.kind,
      manifestFile: input.manifestFile ?? null,
      context: input.context ?? null,
      nodes: input.nodes ?? null,
      startedAt: input.startedAt ?? new Date().toISOString(),
      endedAt: null,
      status: input.status ?? "running",
      source: input.source ?? "run",
    };
    this.guard(() =>
      this.db
        .prepare(
          `INSERT INTO runs ("id", "kind", "manifest_file", "context_json", "nodes_json", "started_at", "ended_at", "status", "source")
           VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
        )
        .run(
          run.id,
          run.kind,
          run.manifestFile,
          run.context === null ? null : JSON.stringify(run.context),
          run.nodes === null ? null : JSON.stringify(run.nodes),
          run.startedAt,
          run.status,
          run.source,
        ),
    );
    return run;
  }

  /** Records the end of a run. Throws a MadError when there is no such run. */
  finishRun(
    runId: string,
    status: Exclude<RunStatus, "running">,
    endedAt: string = new Date().toISOString(),
  ): void {
    const info = this.guard(() =>
      this.db
        .prepare(`UPDATE runs SET "status" = ?, "ended_at" = ? WHERE "id" = ?`)
        .run(status, endedAt, runId),
    );
    if (info.changes === 0) throw noSuchRun(this.file, runId);
  }

  /** Stores perf rows of a run, all in one transaction. Returns how many were stored. */
  addResults(runId: string, rows: readonly PerfRow[], extra: ResultExtra = {}): number {
    const valid = rows.map((row, index) => {
      const parsed = perfRowSchema.safeParse(row);
      if (!parsed.success) {
        throw new MadError("INTERNAL", `addResults: row ${index + 1} is not a valid perf row`, {
          hint: "a perf row needs a model name, status SUCCESS, FAILURE or SKIPPED and string cells only (a bug in the caller)",
          cause: parsed.error,
        });
      }
      return parsed.data;
    });
    return this.guard(() => {
      const exists = this.db.prepare(`SELECT 1 FROM runs WHERE "id" = ?`).get(runId);
      if (!exists) throw noSuchRun(this.file, runId);
      this.insertRows(runId, valid, extra);
      return valid.length;
    });
  }

  private insertRows(runId: string, rows: readonly PerfRow[], extra: ResultExtra): void {
    const insert = this.db.prepare(INSERT_RESULT);
    const createdAt = extra.createdAt ?? new Date().toISOString();
    this.db.transaction(() => {
      for (const row of rows) {
        insert.run(
          runId,
          ...PERF_CSV_COLUMNS.map((column) => row[column]),
          extra.node ?? null,
          extra.imageDigest ?? null,
          extra.logFile ?? null,
          createdAt,
        );
      }
    })();
  }

  /** The runs, newest first, with how many results each has. */
  listRuns(options: { limit?: number } = {}): RunSummary[] {
    const limit = options.limit ?? -1;
    const rows = this.guard(
      () =>
        this.db
          .prepare(
            `SELECT r.*, (SELECT COUNT(*) FROM results WHERE "run_id" = r."id") AS result_count
             FROM runs r ORDER BY r."started_at" DESC, r.rowid DESC LIMIT ?`,
          )
          .all(limit) as RunDbRow[],
    );
    return rows.map((row) => ({ ...toRun(row), resultCount: row.result_count ?? 0 }));
  }

  /**
   * The results matching `filter`, oldest first (in the order they were stored). With `limit`, the
   * newest `limit` of them. `tag` matches one of the comma-separated tags; since/until compare the
   * time a result was stored (ISO-8601, inclusive).
   */
  queryResults(filter: ResultsFilter = {}): StoredResult[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const equal = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(`"${column}" = ?`);
      params.push(value);
    };
    equal("model", filter.model);
    equal("node", filter.node);
    equal("status", filter.status);
    equal("run_id", filter.runId);
    if (filter.tag !== undefined) {
      where.push(`instr(',' || replace("tags", ' ', '') || ',', ',' || ? || ',') > 0`);
      params.push(filter.tag.trim());
    }
    if (filter.since !== undefined) {
      where.push(`"created_at" >= ?`);
      params.push(filter.since);
    }
    if (filter.until !== undefined) {
      where.push(`"created_at" <= ?`);
      params.push(filter.until);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const sql =
      filter.limit !== undefined
        ? `SELECT * FROM (SELECT * FROM results ${clause} ORDER BY "id" DESC LIMIT ?) ORDER BY "id"`
        : `SELECT * FROM results ${clause} ORDER BY "id"`;
    if (filter.limit !== undefined) params.push(filter.limit);
    const rows = this.guard(() => this.db.prepare(sql).all(...params) as ResultDbRow[]);
    return rows.map(toResult);
  }

  /**
   * Imports a perf.csv of any madengine version, mapping columns by name (unknown ones are ignored
   * and listed; missing ones stored empty) into a new run with source "import". A row with the wrong
   * number of cells, no model, or a status other than SUCCESS/FAILURE/SKIPPED is broken and reported
   * with its line. "all-or-nothing" imports nothing if any row is broken; "good-rows" imports the rest.
   */
  async importPerfCsv(file: string, options: { mode?: ImportMode } = {}): Promise<ImportReport> {
    const mode = options.mode ?? "all-or-nothing";
    const [header, ...data] = await readCsvFileRecords(file);
    if (!header) {
      throw new MadError("INVALID_FILE", `${file}: empty file, expected a perf.csv header line`, { file });
    }
    const columns = header.cells.map((name) => name.trim());
    const known: readonly string[] = PERF_CSV_COLUMNS;
    const index = new Map<string, number>();
    columns.forEach((name, i) => {
      if (!index.has(name)) index.set(name, i);
    });
    for (const required of ["model", "status"]) {
      if (!index.has(required)) {
        throw new MadError(
          "INVALID_FILE",
          `${file}: the header has no "${required}" column, so it is not a perf.csv`,
          {
            file,
            hint: `the header must name the perf.csv columns (${PERF_CSV_COLUMNS.slice(0, 4).join(", ")}, ...)`,
          },
        );
      }
    }
    const ignoredColumns = columns.filter((name) => !known.includes(name));
    const missingColumns = PERF_CSV_COLUMNS.filter((name) => !index.has(name));
    const statuses: readonly string[] = PERF_STATUSES;
    const broken: BrokenRow[] = [];
    const good: PerfRow[] = [];
    for (const record of data) {
      if (record.cells.length !== columns.length) {
        broken.push({
          line: record.line,
          reason: `${record.cells.length} cells, but the header has ${columns.length} columns`,
        });
        continue;
      }
      const row = Object.fromEntries(
        PERF_CSV_COLUMNS.map((column) => {
          const at = index.get(column);
          return [column, at === undefined ? "" : (record.cells[at] ?? "")];
        }),
      ) as Record<string, string>;
      if (!row.model) {
        broken.push({ line: record.line, reason: "no model name" });
        continue;
      }
      if (!statuses.includes(row.status ?? "")) {
        broken.push({
          line: record.line,
          reason: `status ${JSON.stringify(row.status ?? "")} is not one of ${PERF_STATUSES.join(", ")}`,
        });
        continue;
      }
      good.push(row as PerfRow);
    }
    const report: ImportReport = {
      file,
      mode,
      runId: null,
      totalRows: data.length,
      imported: 0,
      broken,
      ignoredColumns,
      missingColumns,
    };
    if ((mode === "all-or-nothing" && broken.length > 0) || good.length === 0) return report;
    const runId = newRunId("import");
    const now = new Date().toISOString();
    this.guard(() =>
      this.db.transaction(() => {
        this.recordRun({
          id: runId,
          kind: "import",
          manifestFile: path.resolve(file),
          startedAt: now,
          status: "success",
          source: "import",
        });
        this.db.prepare(`UPDATE runs SET "ended_at" = ? WHERE "id" = ?`).run(now, runId);
        this.insertRows(runId, good, { createdAt: now });
      })(),
    );
    return { ...report, runId, imported: good.length };
  }

  /** The matching results as a perf.csv: the exact 25-column header and rows. */
  formatPerfCsv(filter: ResultsFilter = {}): string {
    return formatPerfCsvText(this.queryResults(filter));
  }

  /** Writes the matching results to `file` as a 25-column perf.csv (atomically). Returns the row count. */
  async exportPerfCsv(file: string, filter: ResultsFilter = {}): Promise<number> {
    const results = this.queryResults(filter);
    const text = formatPerfCsvText(results);
    const temp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`,
    );
    try {
      await writeFile(temp, text, "utf8");
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw new MadError("INVALID_FILE", `${file}: cannot write: ${(error as Error).message}`, {
        file,
        hint: "check that the directory exists and is writable, or pass another --output",
        cause: error,
      });
    }
    return results.length;
  }

  /** The matching results in the Prometheus text format (see formatPrometheus). */
  exportPrometheus(filter: ResultsFilter = {}): string {
    return formatPrometheus(this.queryResults(filter));
  }

  /** The matching results as a JSON array (perf columns in order, then where and when), with "\n". */
  exportJson(filter: ResultsFilter = {}): string {
    const out = this.queryResults(filter).map((result) => ({
      id: result.id,
      runId: result.runId,
      ...orderedPerfRow(result.row),
      node: result.node,
      imageDigest: result.imageDigest,
      logFile: result.logFile,
      createdAt: result.createdAt,
    }));
    return `${JSON.stringify(out, null, 2)}\n`;
  }
}

function formatPerfCsvText(results: readonly StoredResult[]): string {
  return `${PERF_CSV_HEADER}\n${results.map((result) => formatPerfRow(result.row)).join("")}`;
}

function noSuchRun(file: string, runId: string): MadError {
  return new MadError("INVALID_ARGS", `${file}: no run ${JSON.stringify(runId)} in the results database`, {
    file,
    hint: "list the runs with 'madengine-cli results list'",
  });
}
