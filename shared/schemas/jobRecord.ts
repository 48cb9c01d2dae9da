import { z } from "zod";
import { jobItemSchema, jobSummarySchema } from "../contract.js";

/**
 * `job.json` in a job's output directory: the job as the app last showed it, written as it
 * progresses, so the jobs list survives a restart and a run interrupted by one is picked up again.
 */
export const jobRecordSchema = z.object({
  version: z.literal(1),
  summary: jobSummarySchema,
  items: z.array(jobItemSchema),
  /** What a resume repeats (run jobs that reached their run phase). No secret values. */
  resume: z
    .object({
      runId: z.string(),
      madRoot: z.string(),
      manifestFile: z.string(),
      nodes: z.array(z.string()).optional(),
      strategy: z.enum(["replicate", "distribute"]).optional(),
      maxParallel: z.number().int().min(1).optional(),
      timeoutSec: z.number().int().min(0).optional(),
      keepAlive: z.boolean(),
      contextOverride: z.record(z.string(), z.unknown()),
    })
    .optional(),
});
export type JobRecord = z.output<typeof jobRecordSchema>;
export type JobResumeInfo = NonNullable<JobRecord["resume"]>;
