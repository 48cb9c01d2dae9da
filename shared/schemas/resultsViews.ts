/**
 * What the results screen reads from the history: pages of results with regression flags,
 * performance over time, node against node, and one run against another.
 */
import { z } from "zod";
import { resultsSelectionSchema, storedResultSchema } from "./results.js";

export const FLAGS = ["regression", "improvement"] as const;
export type ResultFlag = (typeof FLAGS)[number];

/** Why a result is (or is not) flagged: the history it was compared with. */
export const flagInfoSchema = z.strictObject({
  flag: z.enum(FLAGS).nullable(),
  /** Results of the same model on the same GPU architecture (else node) before this one, used. */
  historySize: z.number().int().nonnegative(),
  median: z.number().nullable(),
  mad: z.number().nullable(),
  /** How many MADs from the median (signed: + above). */
  deviations: z.number().nullable(),
  lowerIsBetter: z.boolean(),
});
export type FlagInfo = z.output<typeof flagInfoSchema>;

export const SORT_COLUMNS = [
  "created_at",
  "model",
  "node",
  "status",
  "performance",
  "gpu_architecture",
  "run_id",
] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];

export const resultsQuerySchema = resultsSelectionSchema.extend({
  limit: z.number().int().min(1).max(1000).default(100),
  offset: z.number().int().min(0).default(0),
  sort: z.enum(SORT_COLUMNS).default("created_at"),
  direction: z.enum(["asc", "desc"]).default("desc"),
});
export type ResultsQuery = z.input<typeof resultsQuerySchema>;

export const flaggedResultSchema = storedResultSchema.extend({
  /** node, else machine_name. */
  where: z.string(),
  flag: flagInfoSchema,
});
export type FlaggedResult = z.output<typeof flaggedResultSchema>;

export const resultsPageSchema = z.strictObject({
  total: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  results: z.array(flaggedResultSchema),
});
export type ResultsPage = z.output<typeof resultsPageSchema>;

export const SERIES_GROUPS = ["node", "gpu_architecture"] as const;
export type SeriesGroup = (typeof SERIES_GROUPS)[number];

export const seriesPointSchema = z.strictObject({
  resultId: z.number().int(),
  runId: z.string(),
  at: z.string(),
  value: z.number(),
  flag: z.enum(FLAGS).nullable(),
});

export const performanceSeriesSchema = z.strictObject({
  model: z.string(),
  metric: z.string(),
  lowerIsBetter: z.boolean(),
  groupBy: z.enum(SERIES_GROUPS),
  series: z.array(z.strictObject({ name: z.string(), points: z.array(seriesPointSchema) })),
});
export type PerformanceSeries = z.output<typeof performanceSeriesSchema>;

export const nodeComparisonSchema = z.strictObject({
  runId: z.string(),
  nodes: z.array(z.string()),
  models: z.array(
    z.strictObject({
      model: z.string(),
      metric: z.string(),
      values: z.array(z.strictObject({ node: z.string(), value: z.number() })),
    }),
  ),
});
export type NodeComparison = z.output<typeof nodeComparisonSchema>;

export const PROVENANCE_FIELDS = [
  "imageDigest",
  "dockerImage",
  "node",
  "gpuArchitecture",
  "args",
  "context",
] as const;
export type ProvenanceField = (typeof PROVENANCE_FIELDS)[number];

export const provenanceSchema = z.strictObject({
  imageDigest: z.string(),
  dockerImage: z.string(),
  node: z.string(),
  gpuArchitecture: z.string(),
  args: z.string(),
  /** The run's context as JSON text (keys sorted), "" when none was recorded. */
  context: z.string(),
});
export type Provenance = z.output<typeof provenanceSchema>;

const sideSchema = z
  .strictObject({
    resultId: z.number().int(),
    performance: z.number().nullable(),
    status: z.string(),
    provenance: provenanceSchema,
  })
  .nullable();

export const runComparisonSchema = z.strictObject({
  runA: z.string(),
  runB: z.string(),
  models: z.array(
    z.strictObject({
      model: z.string(),
      metric: z.string(),
      lowerIsBetter: z.boolean(),
      a: sideSchema,
      b: sideSchema,
      /** b - a, and relative to a in percent; null unless both are numbers. */
      delta: z.number().nullable(),
      deltaPercent: z.number().nullable(),
      /** Provenance fields whose values differ between the two runs. */
      differences: z.array(z.enum(PROVENANCE_FIELDS)),
    }),
  ),
});
export type RunComparison = z.output<typeof runComparisonSchema>;
