import { z } from "zod";

/** The 25 perf.csv columns, in the original order (spec §5.7). The header is a compatibility contract. */
export const PERF_CSV_COLUMNS = [
  "model",
  "n_gpus",
  "training_precision",
  "pipeline",
  "args",
  "tags",
  "docker_file",
  "base_docker",
  "docker_sha",
  "docker_image",
  "git_commit",
  "machine_name",
  "gpu_architecture",
  "performance",
  "metric",
  "relative_change",
  "status",
  "build_duration",
  "test_duration",
  "dataname",
  "data_provider_type",
  "data_size",
  "data_download_duration",
  "build_number",
  "additional_docker_run_options",
] as const;
export type PerfColumn = (typeof PERF_CSV_COLUMNS)[number];

export const PERF_STATUSES = ["SUCCESS", "FAILURE", "SKIPPED"] as const;
export type PerfStatus = (typeof PERF_STATUSES)[number];

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
