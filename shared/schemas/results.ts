import { z } from "zod";
import { PERF_STATUSES, perfRowSchema } from "./perf.js";

/** Where a run in the results history came from: a run of this tool, or an imported perf.csv. */
export const RUN_SOURCES = ["run", "import"] as const;
export type RunSource = (typeof RUN_SOURCES)[number];

export const RUN_STATUSES = ["running", "success", "failure", "interrupted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One run (a `run` of this tool, or one import of a perf.csv) in the results history. */
export const runRecordSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.string(),
  manifestFile: z.string().nullable(),
  context: z.unknown().nullable(),
  nodes: z.unknown().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  source: z.enum(RUN_SOURCES),
});
export type RunRecord = z.output<typeof runRecordSchema>;

export const runSummarySchema = runRecordSchema.extend({ resultCount: z.number().int().nonnegative() });
export type RunSummary = z.output<typeof runSummarySchema>;

/** One stored perf row with where and when it was recorded. */
export const storedResultSchema = z.strictObject({
  id: z.number().int(),
  runId: z.string(),
  node: z.string().nullable(),
  imageDigest: z.string().nullable(),
  logFile: z.string().nullable(),
  createdAt: z.string(),
  row: perfRowSchema,
});
export type StoredResult = z.output<typeof storedResultSchema>;

/** Which stored results: every given field must match. */
export const resultsSelectionSchema = z.strictObject({
  model: z.string().optional(),
  tag: z.string().optional(),
  /** The node that ran it (for an imported perf.csv: its machine_name). */
  node: z.string().optional(),
  status: z.enum(PERF_STATUSES).optional(),
  runId: z.string().optional(),
  /** ISO-8601 times, inclusive. */
  since: z.string().optional(),
  until: z.string().optional(),
});

/** Selects stored results, at most `limit` of them. */
export const resultsFilterSchema = resultsSelectionSchema.extend({
  limit: z.number().int().positive().optional(),
});
export type ResultsFilter = z.output<typeof resultsFilterSchema>;

export const IMPORT_MODES = ["all-or-nothing", "good-rows"] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

export const brokenRowSchema = z.strictObject({
  /** 1-based physical line on which the record starts. */
  line: z.number().int().positive(),
  reason: z.string(),
});
export type BrokenRow = z.output<typeof brokenRowSchema>;

export const importReportSchema = z.strictObject({
  file: z.string(),
  mode: z.enum(IMPORT_MODES),
  /** The run the rows were stored under; null when nothing was imported. */
  runId: z.string().nullable(),
  /** Data rows in the file (blank lines not counted). */
  totalRows: z.number().int().nonnegative(),
  imported: z.number().int().nonnegative(),
  broken: z.array(brokenRowSchema),
  /** Columns of the file that are not perf.csv columns (ignored). */
  ignoredColumns: z.array(z.string()),
  /** perf.csv columns the file lacks (stored as empty cells). */
  missingColumns: z.array(z.string()),
});
export type ImportReport = z.output<typeof importReportSchema>;
