import path from "node:path";
import type Database from "better-sqlite3";
import type { resultsCalls } from "../../../shared/contract/results.js";
import { toErrorInfo } from "../../../shared/errors.js";
import { formatAuditCsv, formatAuditJsonLines, listAudit } from "../../engine/store/audit.js";
import {
  currentFlags,
  nodeComparison,
  performanceSeries,
  queryResultsPage,
  resultFacets,
} from "../../engine/store/resultsQueries.js";
import { compareRuns } from "../../engine/store/runComparison.js";
import type { AppPart, AppPartContext } from "../appPart.js";
import { exportResults } from "./resultsExport.js";
import { isLockError, StoreHolder } from "./storeHolder.js";

export type ResultsCallName = keyof typeof resultsCalls;

/** The results history as the app sees it: stored runs and results, charts, comparisons, audit log. */
export function createResultsPart(context: AppPartContext): AppPart<ResultsCallName> {
  const holder = new StoreHolder(context.resultsDbFile);
  const read = <T>(work: (db: Database.Database) => T) => holder.use((store) => store.withDatabase(work));
  return {
    handlers: {
      "results.status": async () => {
        try {
          const version = holder.use((store) => store.schemaVersion());
          return { dbFile: holder.file, ok: true, schemaVersion: version, canMoveAside: false };
        } catch (error) {
          const { exitCode: _exitCode, ...info } = toErrorInfo(error);
          return { dbFile: holder.file, ok: false, error: info, canMoveAside: !isLockError(error) };
        }
      },
      "results.runs": async ({ limit }) => ({
        runs: holder.use((store) => store.listRuns(limit === undefined ? {} : { limit })),
      }),
      "results.facets": async () => read((db) => resultFacets(db)),
      "results.query": async (query) => read((db) => queryResultsPage(db, query)),
      "results.series": async (args) => read((db) => performanceSeries(db, args)),
      "results.nodeComparison": async ({ runId }) => read((db) => nodeComparison(db, runId)),
      "results.compare": async ({ runA, runB }) => read((db) => compareRuns(db, holder.file, runA, runB)),
      "results.flags": async ({ model }) => ({
        results: read((db) => currentFlags(db, model ? { model } : {})),
      }),
      "results.import": async ({ file, mode }) => {
        const report = await holder.get().importPerfCsv(path.resolve(file), { mode });
        if (report.runId !== null)
          context.publish({ event: "results.changed", payload: { reason: "import" } });
        return report;
      },
      "results.export": async (args) => exportResults(holder.get(), args),
      "results.moveAside": async () => {
        const movedTo = await holder.moveAside();
        context.publish({ event: "results.changed", payload: { reason: "moveAside" } });
        return { dbFile: holder.file, movedTo };
      },
      "audit.list": async ({ limit, kind }) => ({
        entries: holder.use((store) =>
          listAudit(store, { ...(limit ? { limit } : {}), ...(kind ? { kind } : {}) }),
        ),
      }),
      "audit.export": async ({ format }) => {
        const entries = holder.use((store) => listAudit(store));
        return format === "csv"
          ? { fileName: "madengine-audit.csv", content: formatAuditCsv(entries), count: entries.length }
          : {
              fileName: "madengine-audit.jsonl",
              content: formatAuditJsonLines(entries),
              count: entries.length,
            };
      },
    },
    close: async () => holder.close(),
  };
}
