/**
 * Versioned schema of the results database. Each migration is applied once, in order, in its own
 * transaction, and recorded in `schema_migrations`; a database with a higher version than the last
 * one here was written by a newer version of the tool and is refused (see resultsStore.ts).
 */
import type Database from "better-sqlite3";
import { PERF_CSV_COLUMNS } from "../../../shared/schemas/perf.js";

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

const perfColumnsSql = PERF_CSV_COLUMNS.map((column) => `  "${column}" TEXT NOT NULL DEFAULT ''`).join(",\n");

/** The migrations, in order; versions are 1, 2, 3, ... Never edit a released one: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs and results tables",
    sql: `
CREATE TABLE runs (
  "id" TEXT PRIMARY KEY,
  "kind" TEXT NOT NULL,
  "manifest_file" TEXT,
  "context_json" TEXT,
  "nodes_json" TEXT,
  "started_at" TEXT NOT NULL,
  "ended_at" TEXT,
  "status" TEXT NOT NULL,
  "source" TEXT NOT NULL CHECK ("source" IN ('run', 'import'))
);
CREATE TABLE results (
  "id" INTEGER PRIMARY KEY,
  "run_id" TEXT NOT NULL REFERENCES runs("id") ON DELETE CASCADE,
${perfColumnsSql},
  "node" TEXT,
  "created_at" TEXT NOT NULL
);
CREATE INDEX results_run ON results("run_id");
`,
  },
  {
    version: 2,
    description: "image digest and log file of each result; history indexes",
    sql: `
ALTER TABLE results ADD COLUMN "image_digest" TEXT;
ALTER TABLE results ADD COLUMN "log_file" TEXT;
CREATE INDEX results_model_machine_created ON results("model", "machine_name", "created_at");
CREATE INDEX results_created ON results("created_at");
CREATE INDEX runs_started ON runs("started_at");
`,
  },
  {
    version: 3,
    description: "audit log; indexes for the results screen (filters, series, regression history)",
    sql: `
CREATE TABLE audit (
  "id" INTEGER PRIMARY KEY,
  "at" TEXT NOT NULL,
  "user" TEXT NOT NULL,
  "kind" TEXT NOT NULL,
  "manifest_file" TEXT,
  "manifest_sha256" TEXT,
  "image_digests_json" TEXT NOT NULL DEFAULT '[]',
  "nodes_json" TEXT NOT NULL DEFAULT '[]',
  "outcome" TEXT NOT NULL,
  "detail" TEXT
);
CREATE INDEX audit_at ON audit("at");
CREATE INDEX results_model_created ON results("model", "created_at", "id");
CREATE INDEX results_model_arch_created ON results("model", "gpu_architecture", "created_at", "id");
CREATE INDEX results_node ON results("node");
CREATE INDEX results_status_created ON results("status", "created_at");
`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  "version" INTEGER PRIMARY KEY,
  "description" TEXT NOT NULL,
  "applied_at" TEXT NOT NULL
)`;

/** The tables of the database other than SQLite's own. */
export function userTables(db: Database.Database): string[] {
  return (
    db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
}

/** The highest applied migration (0 when none, or no schema_migrations table). */
export function schemaVersion(db: Database.Database): number {
  if (!userTables(db).includes("schema_migrations")) return 0;
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_migrations").get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}

/**
 * Applies the migrations above the database's version up to `target` (default: all), each in an
 * IMMEDIATE transaction that re-reads the version first, so two processes opening one new database
 * at once do not both apply a migration. Returns the versions applied.
 */
export function migrate(db: Database.Database, target: number = LATEST_SCHEMA_VERSION): number[] {
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version > target) break;
    const apply = db.transaction(() => {
      db.exec(CREATE_MIGRATIONS_TABLE);
      if (schemaVersion(db) >= migration.version) return false;
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.description,
        new Date().toISOString(),
      );
      return true;
    });
    if (apply.immediate()) applied.push(migration.version);
  }
  return applied;
}
