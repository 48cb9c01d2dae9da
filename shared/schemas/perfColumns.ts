/**
 * perf.csv's columns and statuses as plain constants, apart from the zod schemas in perf.ts, so that
 * code needing only these (the CLI's option checks) does not build every perf schema at start-up.
 */

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
