/**
 * The results history part of the contract (stored runs and results, charts, comparisons, the
 * audit log). Spread into the contract's tables by shared/contract.ts.
 */
import { z } from "zod";
import { AUDIT_KINDS, auditEntrySchema } from "../schemas/audit.js";
import {
  IMPORT_MODES,
  importReportSchema,
  resultsSelectionSchema,
  runSummarySchema,
} from "../schemas/results.js";
import {
  flaggedResultSchema,
  nodeComparisonSchema,
  performanceSeriesSchema,
  resultsPageSchema,
  resultsQuerySchema,
  runComparisonSchema,
  SERIES_GROUPS,
} from "../schemas/resultsViews.js";
import { call, contractErrorSchema } from "./primitives.js";

/** A file's content for the renderer to offer as a download, or where it was written on the server. */
const exportedSchema = z.object({
  fileName: z.string(),
  /** The text, when no outputFile was given. */
  content: z.string().optional(),
  /** The absolute path written, when outputFile was given. */
  written: z.string().optional(),
  count: z.number().int().nonnegative(),
});

export const resultsCalls = {
  /**
   * The results database's state: ok with its schema version, or the error that stops it from
   * opening (corrupt, foreign, newer, locked); `canMoveAside` when moving it aside would help.
   */
  "results.status": call(
    z.object({}),
    z.object({
      dbFile: z.string(),
      ok: z.boolean(),
      schemaVersion: z.number().int().optional(),
      error: contractErrorSchema.optional(),
      canMoveAside: z.boolean(),
    }),
  ),
  /** Runs (of this tool, or imported perf.csv files), newest first, with how many results each has. */
  "results.runs": call(
    z.object({ limit: z.number().int().min(1).max(10_000).optional() }),
    z.object({ runs: z.array(runSummarySchema) }),
  ),
  /** The choices of the filters: models, nodes, tags, GPU architectures stored. */
  "results.facets": call(
    z.object({}),
    z.object({
      models: z.array(z.string()),
      nodes: z.array(z.string()),
      tags: z.array(z.string()),
      gpuArchitectures: z.array(z.string()),
    }),
  ),
  /** A page of results matching the filters (with the total count), sorted, each with its regression flag. */
  "results.query": call(resultsQuerySchema, resultsPageSchema),
  /** Performance over time of one model: one line per node or per GPU architecture. */
  "results.series": call(
    z.strictObject({
      model: z.string().min(1, "a model"),
      groupBy: z.enum(SERIES_GROUPS).default("node"),
      since: z.string().optional(),
      until: z.string().optional(),
    }),
    performanceSeriesSchema,
  ),
  /** One run's results, node against node. */
  "results.nodeComparison": call(z.strictObject({ runId: z.string().min(1, "a run") }), nodeComparisonSchema),
  /** Run A against run B: per model the delta (B - A) and the provenance fields that differ. */
  "results.compare": call(
    z.strictObject({ runA: z.string().min(1, "run A"), runB: z.string().min(1, "run B") }),
    runComparisonSchema,
  ),
  /** The latest result of each model per GPU architecture (else node) that is a regression or improvement. */
  "results.flags": call(
    z.strictObject({ model: z.string().optional() }),
    z.object({ results: z.array(flaggedResultSchema) }),
  ),
  /** Imports a perf.csv on the server's machine; broken rows are reported with their line numbers. */
  "results.import": call(
    z.strictObject({ file: z.string().min(1, "a perf.csv path"), mode: z.enum(IMPORT_MODES) }),
    importReportSchema,
  ),
  /** Stored results as csv (the 25 perf.csv columns), json or prometheus text: returned, or written to outputFile. */
  "results.export": call(
    z.strictObject({
      format: z.enum(["csv", "json", "prometheus"]),
      filter: resultsSelectionSchema.default({}),
      outputFile: z.string().min(1).optional(),
    }),
    exportedSchema,
  ),
  /** Renames a broken database to `<file>.broken-<time>` (never deletes) and starts a fresh one. */
  "results.moveAside": call(z.object({}), z.object({ dbFile: z.string(), movedTo: z.string() })),
  /** The audit log (every build and run), newest first. */
  "audit.list": call(
    z.strictObject({
      limit: z.number().int().min(1).max(10_000).optional(),
      kind: z.enum(AUDIT_KINDS).optional(),
    }),
    z.object({ entries: z.array(auditEntrySchema) }),
  ),
  /** The audit log as CSV or JSON lines, for a download. */
  "audit.export": call(z.strictObject({ format: z.enum(["csv", "jsonl"]) }), exportedSchema),
} as const;

export const resultsEvents = {
  /** The stored results changed (an import, a fresh database, a run of the app ended): screens re-read. */
  "results.changed": z.object({ reason: z.enum(["import", "moveAside", "run"]) }),
} as const;
