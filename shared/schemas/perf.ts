import { z } from "zod";
import { PERF_CSV_COLUMNS, PERF_STATUSES } from "./perfColumns.js";

export { PERF_CSV_COLUMNS, PERF_STATUSES, type PerfColumn, type PerfStatus } from "./perfColumns.js";

const cell = z.string();
export const perfRowSchema = z.strictObject({
  model: z.string().min(1),
  n_gpus: cell,
  training_precision: cell,
  pipeline: cell,
  args: cell,
  tags: cell,
  docker_file: cell,
  base_docker: cell,
  docker_sha: cell,
  docker_image: cell,
  git_commit: cell,
  machine_name: cell,
  gpu_architecture: cell,
  performance: cell,
  metric: cell,
  relative_change: cell,
  status: z.enum(PERF_STATUSES),
  build_duration: cell,
  test_duration: cell,
  dataname: cell,
  data_provider_type: cell,
  data_size: cell,
  data_download_duration: cell,
  build_number: cell,
  additional_docker_run_options: cell,
});
export type PerfRow = z.output<typeof perfRowSchema>;

/** The header line exactly as the original writes it. */
export const PERF_CSV_HEADER = PERF_CSV_COLUMNS.join(",");
