import { z } from "zod";
import { buildInfoSchema } from "./manifest.js";

export const buildSummarySchema = z.looseObject({
  successful_builds: z.array(
    z.looseObject({ model: z.string(), dockerfile: z.string(), build_info: buildInfoSchema }),
  ),
  failed_builds: z.array(
    z.looseObject({ model: z.string(), dockerfile: z.string().optional(), error: z.string() }),
  ),
  total_build_time: z.number().nonnegative(),
});
export type BuildSummary = z.output<typeof buildSummarySchema>;

/** A run result as the summary lists it: the runner's fields merged with the image's build info. */
export const runResultSchema = z.looseObject({
  model: z.string(),
  docker_image: z.string().optional(),
  image: z.string().optional(),
  status: z.enum(["SUCCESS", "FAILURE", "SKIPPED"]).optional(),
  performance: z.string().optional(),
  metric: z.string().optional(),
  test_duration: z.number().nonnegative().optional(),
  machine_name: z.string().optional(),
  log_file: z.string().optional(),
  error: z.string().optional(),
});

export const executionSummarySchema = z.looseObject({
  successful_runs: z.array(runResultSchema),
  failed_runs: z.array(runResultSchema),
  total_execution_time: z.number().nonnegative(),
});
export type ExecutionSummary = z.output<typeof executionSummarySchema>;

export const workflowSummarySchema = z.looseObject({
  build_phase: buildSummarySchema,
  run_phase: executionSummarySchema,
  overall_success: z.boolean(),
});
export type WorkflowSummary = z.output<typeof workflowSummarySchema>;
