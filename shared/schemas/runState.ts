import { z } from "zod";
import { perfRowSchema } from "./perf.js";

export const runEntryStateSchema = z.enum(["pending", "running", "collecting", "done"]);

/** One model image on one target (the local machine or a node), as the run progresses. */
export const runEntrySchema = z.object({
  target: z.string(),
  image: z.string(),
  model: z.string(),
  state: runEntryStateSchema,
  container: z
    .object({ name: z.string(), id: z.string(), startedAt: z.string(), timeoutSec: z.number().optional() })
    .optional(),
  /** Rows about to be appended (state collecting) or appended (done): a resume never writes them twice. */
  rows: z.array(perfRowSchema).optional(),
  status: z.enum(["SUCCESS", "FAILURE", "SKIPPED"]).optional(),
  reason: z.string().optional(),
});
export type RunEntry = z.output<typeof runEntrySchema>;

/**
 * The durable state of a run (`.madengine/runs/<run id>.json`), written as it progresses, so that
 * `run --resume RUN_ID` can re-attach to containers still running and finish the perf.csv after the
 * CLI was killed or a connection dropped.
 */
export const runStateSchema = z.object({
  version: z.literal(1),
  runId: z.string().regex(/^[A-Za-z0-9._-]+$/),
  createdAt: z.string(),
  updatedAt: z.string(),
  finished: z.boolean(),
  /** What was asked, so that a resume runs the same thing (no secret values). */
  request: z.looseObject({
    manifestFile: z.string(),
    madRoot: z.string(),
    perfCsv: z.string(),
    outputDir: z.string(),
    nodesFile: z.string().optional(),
    nodeNames: z.array(z.string()).optional(),
    strategy: z.enum(["replicate", "distribute"]).optional(),
  }),
  entries: z.array(runEntrySchema),
});
export type RunState = z.output<typeof runStateSchema>;
