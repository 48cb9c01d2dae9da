/**
 * `madengine-cli results import | export | list | audit | move-aside`: the results history (SQLite). Only
 * commander loads with the CLI; each action imports the store when it runs.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { MadError } from "../../../shared/errors.js";
import { PERF_STATUSES, type PerfStatus } from "../../../shared/schemas/perfColumns.js";
import type { ResultsFilter } from "../../../shared/schemas/results.js";

interface DbFlags {
  db?: string;
}

async function dbFile(flags: DbFlags): Promise<string> {
  if (flags.db) return path.resolve(flags.db);
  const { defaultResultsDbPath } = await import("../../engine/store/paths.js");
  return defaultResultsDbPath();
}

async function openStore(flags: DbFlags) {
  const { ResultsStore } = await import("../../engine/store/resultsStore.js");
  return ResultsStore.open(await dbFile(flags));
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(n) || n < 1) {
    throw new MadError(
      "INVALID_ARGS",
      `${flag} ${JSON.stringify(value)}: expected a whole number of at least 1`,
      {
        hint: `e.g. ${flag} 20`,
      },
    );
  }
  return n;
}

export interface ResultsImportFlags extends DbFlags {
  goodRows?: boolean;
}

export async function resultsImport(file: string, flags: ResultsImportFlags): Promise<number> {
  const store = await openStore(flags);
  try {
    const report = await store.importPerfCsv(file, { mode: flags.goodRows ? "good-rows" : "all-or-nothing" });
    for (const row of report.broken) process.stderr.write(`${file} line ${row.line}: ${row.reason}\n`);
    if (report.ignoredColumns.length > 0) {
      process.stderr.write(`ignored columns: ${report.ignoredColumns.join(", ")}\n`);
    }
    if (report.runId === null) {
      process.stderr.write(
        report.broken.length > 0 && !flags.goodRows
          ? `nothing imported: ${report.broken.length} broken row(s); fix them, or pass --good-rows to import the other ${report.totalRows - report.broken.length}\n`
          : `nothing imported: ${file} has no good rows\n`,
      );
      return report.broken.length > 0 ? 1 : 0;
    }
    process.stdout.write(
      `imported ${report.imported} of ${report.totalRows} row(s) from ${file} as run ${report.runId} into ${store.file}\n`,
    );
    return report.broken.length > 0 ? 1 : 0;
  } finally {
    store.close();
  }
}

export interface ResultsExportFlags extends DbFlags {
  format?: string;
  output?: string;
  model?: string;
  node?: string;
  status?: string;
  run?: string;
  tag?: string;
  limit?: string;
}

function filterOf(flags: ResultsExportFlags): ResultsFilter {
  const statuses: readonly string[] = PERF_STATUSES;
  if (flags.status !== undefined && !statuses.includes(flags.status)) {
    throw new MadError(
      "INVALID_ARGS",
      `--status ${JSON.stringify(flags.status)}: expected ${PERF_STATUSES.join(", ")}`,
      {
        hint: "e.g. --status SUCCESS",
      },
    );
  }
  const limit = positiveInteger(flags.limit, "--limit");
  return {
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.node !== undefined ? { node: flags.node } : {}),
    ...(flags.status !== undefined ? { status: flags.status as PerfStatus } : {}),
    ...(flags.run !== undefined ? { runId: flags.run } : {}),
    ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
}

export async function resultsExport(flags: ResultsExportFlags): Promise<number> {
  const format = flags.format ?? "csv";
  if (!["csv", "json", "prometheus"].includes(format)) {
    throw new MadError(
      "INVALID_ARGS",
      `--format ${JSON.stringify(format)}: expected csv, json or prometheus`,
      {
        hint: "e.g. --format prometheus",
      },
    );
  }
  const filter = filterOf(flags);
  const store = await openStore(flags);
  try {
    if (format === "csv" && flags.output) {
      const count = await store.exportPerfCsv(flags.output, filter);
      process.stderr.write(`wrote ${count} row(s) to ${flags.output}\n`);
      return 0;
    }
    const text =
      format === "csv"
        ? store.formatPerfCsv(filter)
        : format === "json"
          ? store.exportJson(filter)
          : store.exportPrometheus(filter);
    if (flags.output) {
      try {
        await writeFile(flags.output, text, "utf8");
      } catch (error) {
        throw new MadError("INVALID_FILE", `${flags.output}: cannot write: ${(error as Error).message}`, {
          file: flags.output,
          hint: "check that the directory exists and is writable, or pass another --output",
          cause: error,
        });
      }
    } else {
      process.stdout.write(text);
    }
    return 0;
  } finally {
    store.close();
  }
}

export interface ResultsListFlags extends DbFlags {
  limit?: string;
  json?: boolean;
}

export async function resultsList(flags: ResultsListFlags): Promise<number> {
  const limit = positiveInteger(flags.limit, "--limit") ?? 20;
  const store = await openStore(flags);
  try {
    const runs = store.listRuns({ limit });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return 0;
    }
    if (runs.length === 0) {
      process.stdout.write(
        `no runs in ${store.file}: import a perf.csv with 'madengine-cli results import FILE'\n`,
      );
      return 0;
    }
    const { renderTable } = await import("../output/table.js");
    process.stdout.write(
      `${renderTable(
        runs,
        [
          { header: "RUN", value: (r) => r.id },
          { header: "SOURCE", value: (r) => r.source },
          { header: "STATUS", value: (r) => r.status },
          { header: "STARTED", value: (r) => r.startedAt },
          { header: "RESULTS", value: (r) => String(r.resultCount) },
          { header: "MANIFEST", value: (r) => r.manifestFile ?? "", shrinkable: true },
        ],
        process.stdout.isTTY ? process.stdout.columns : undefined,
      )}\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}

export async function resultsMoveAside(flags: DbFlags): Promise<number> {
  const file = await dbFile(flags);
  const { moveAside } = await import("../../engine/store/paths.js");
  try {
    const target = await moveAside(file);
    process.stdout.write(`moved ${file} to ${target}; a new results database is created on next use\n`);
    return 0;
  } catch (error) {
    throw new MadError("INVALID_FILE", `${file}: cannot move it aside: ${(error as Error).message}`, {
      file,
      cause: error,
    });
  }
}

export interface ResultsAuditFlags extends DbFlags {
  format?: string;
  limit?: string;
  kind?: string;
}

/** `results audit`: who ran which build or run, when, from which manifest, and how it ended. */
export async function resultsAudit(flags: ResultsAuditFlags): Promise<number> {
  const format = flags.format ?? "table";
  if (!["table", "json", "csv"].includes(format)) {
    throw new MadError("INVALID_ARGS", `--format ${JSON.stringify(format)}: expected table, json or csv`, {
      hint: "e.g. --format csv",
    });
  }
  if (flags.kind !== undefined && !["build", "run"].includes(flags.kind)) {
    throw new MadError("INVALID_ARGS", `--kind ${JSON.stringify(flags.kind)}: expected build or run`, {
      hint: "e.g. --kind run",
    });
  }
  const limit = positiveInteger(flags.limit, "--limit");
  const store = await openStore(flags);
  try {
    const { listAudit, formatAuditCsv, formatAuditJsonLines } = await import("../../engine/store/audit.js");
    const entries = listAudit(store, {
      ...(limit !== undefined ? { limit } : {}),
      ...(flags.kind ? { kind: flags.kind as "build" | "run" } : {}),
    });
    if (format === "json") {
      process.stdout.write(formatAuditJsonLines(entries));
      return 0;
    }
    if (format === "csv") {
      process.stdout.write(formatAuditCsv(entries));
      return 0;
    }
    if (entries.length === 0) {
      process.stdout.write(`no builds or runs in the audit log of ${store.file}\n`);
      return 0;
    }
    const { renderTable } = await import("../output/table.js");
    process.stdout.write(
      `${renderTable(
        entries,
        [
          { header: "WHEN", value: (e) => e.at },
          { header: "USER", value: (e) => e.user },
          { header: "KIND", value: (e) => e.kind },
          { header: "OUTCOME", value: (e) => e.outcome },
          { header: "MANIFEST SHA256", value: (e) => (e.manifestSha256 ?? "").slice(0, 12) },
          { header: "IMAGES", value: (e) => String(e.imageDigests.length) },
          { header: "NODES", value: (e) => e.nodes.join(" ") || "local" },
          {
            header: "MANIFEST / DETAIL",
            value: (e) => [e.manifestFile, e.detail].filter(Boolean).join(" "),
            shrinkable: true,
          },
        ],
        process.stdout.isTTY ? process.stdout.columns : undefined,
      )}\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}

/** Registers `results import | export | list | audit | move-aside`. */
export function registerResultsCommands(program: Command): void {
  const results = program
    .command("results")
    .description("the results history: import perf.csv files, list runs, export as CSV, JSON or Prometheus")
    .addHelpText(
      "after",
      `
The database is --db FILE, else $MADENGINE_RESULTS_DB, else
$XDG_DATA_HOME/madengine-control-center/results.db (~/.local/share/... without XDG_DATA_HOME).

Examples:
  madengine-cli results import perf.csv
  madengine-cli results list
  madengine-cli results export --format prometheus --model dummy
  madengine-cli results audit --format csv`,
    );
  const db = (command: Command) => command.option("--db <file>", "the results database");
  const action =
    (load: (options: Record<string, unknown>, args: string[]) => Promise<number>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const positional = args.slice(0, -2).map(String);
      process.exitCode = await load({ ...command.optsWithGlobals() }, positional);
    };

  db(
    results
      .command("import <file>")
      .description("import a madengine perf.csv (any version; columns matched by name) as one run")
      .option("--good-rows", "import the good rows even if some are broken (default: all or nothing)"),
  ).action(action(async (options, [file]) => resultsImport(file ?? "", options as ResultsImportFlags)));

  db(
    results
      .command("export")
      .description("export stored results (default: all) as a 25-column perf.csv, JSON or Prometheus text")
      .option("--format <format>", "csv, json or prometheus", "csv")
      .option("--output <file>", "write here instead of to stdout")
      .option("--model <model>", "only this model")
      .option("--node <node>", "only results of this node")
      .option("--status <status>", "only SUCCESS, FAILURE or SKIPPED")
      .option("--run <run>", "only this run")
      .option("--tag <tag>", "only models with this tag")
      .option("--limit <n>", "only the newest N results"),
  ).action(action(async (options) => resultsExport(options as ResultsExportFlags)));

  db(
    results
      .command("list")
      .description("list the runs, newest first")
      .option("--limit <n>", "at most N runs (default 20)")
      .option("--json", "as JSON"),
  ).action(action(async (options) => resultsList(options as ResultsListFlags)));

  db(
    results
      .command("audit")
      .description("the audit log: every build and run (who, when, manifest sha256, images, nodes, outcome)")
      .option("--format <format>", "table, json (one object per line) or csv", "table")
      .option("--kind <kind>", "only build or run")
      .option("--limit <n>", "only the newest N entries"),
  ).action(action(async (options) => resultsAudit(options as ResultsAuditFlags)));

  db(
    results
      .command("move-aside")
      .description(
        "rename a broken or foreign results database to <file>.broken-<time> (nothing is deleted)",
      ),
  ).action(action(async (options) => resultsMoveAside(options as DbFlags)));
}
