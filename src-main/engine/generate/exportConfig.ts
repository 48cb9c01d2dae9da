/**
 * `export-config` (spec §7.3): the selected models, the runtime context and the credential names a
 * run needs, as `execution_config.json`. The GPU facts come from the context, or from detecting this
 * host's GPUs when the context names no vendor. Secret values never go into the file: MAD_SECRETS*
 * entries are left out and credentials are listed by name only.
 */
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import type { Context } from "../../../shared/schemas/context.js";
import { contextSchema } from "../../../shared/schemas/context.js";
import { type ExecutionConfig, executionConfigSchema } from "../../../shared/schemas/executionConfig.js";
import type { GpuReport } from "../../../shared/schemas/gpu.js";
import { validateWithSchema } from "../../../shared/schemas/validate.js";
import { detectHostGpus, gpuContextFacts } from "../context/gpu/detectHostGpus.js";
import { loadContext } from "../context/loadContext.js";
import { selectModels } from "../discovery/selectModels.js";
import { type DiscoverOptions, discoverModels } from "../discovery/zoo.js";
import { writeJsonAtomic } from "../util/jsonFiles.js";
import { stripContextSecrets } from "./inputs.js";

export const DEFAULT_EXECUTION_CONFIG = "execution_config.json";

export interface ExportConfigOptions {
  madRoot: string;
  tags: readonly string[];
  additionalContext?: string | undefined;
  additionalContextFile?: string | undefined;
  output?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Host GPU detection (tests pass a fake). */
  detectGpus?: () => Promise<GpuReport>;
  discover?: DiscoverOptions;
}

export interface ExportConfigResult {
  file: string;
  config: ExecutionConfig;
  /** How the GPU facts were found, for the CLI. */
  detection: string;
  notes: string[];
}

/** Adds detected GPU facts to a context, never replacing what the user wrote. */
function withDetectedFacts(context: Context, report: GpuReport): Context {
  const facts = gpuContextFacts(report);
  const env = { ...(context.docker_env_vars ?? {}) };
  const put = (key: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "" && env[key] === undefined) env[key] = value;
  };
  put("MAD_GPU_VENDOR", facts.gpu_vendor);
  put("MAD_SYSTEM_NGPUS", facts.MAD_SYSTEM_NGPUS);
  put("MAD_SYSTEM_GPU_ARCHITECTURE", facts.MAD_SYSTEM_GPU_ARCHITECTURE);
  put("MAD_SYSTEM_HIP_VERSION", facts.MAD_SYSTEM_HIP_VERSION);
  return {
    ...context,
    gpu_vendor: context.gpu_vendor ?? facts.gpu_vendor,
    docker_env_vars: env,
    ...(context.docker_gpus === undefined && facts.docker_gpus !== undefined
      ? { docker_gpus: facts.docker_gpus }
      : {}),
  };
}

/** Builds the execution config (nothing written). */
export async function buildExecutionConfig(
  options: ExportConfigOptions,
): Promise<{ config: ExecutionConfig; detection: string; notes: string[] }> {
  const tags = [...options.tags];
  if (tags.length === 0) {
    throw new MadError("INVALID_ARGS", "no models selected: export-config needs --tags", {
      hint: "e.g. madengine-cli export-config --tags dummies (or --tags all)",
    });
  }
  const zoo = await discoverModels(options.madRoot, options.discover);
  const selected = selectModels(zoo, tags);
  const loaded = await loadContext({
    additionalContext: options.additionalContext,
    additionalContextFile: options.additionalContextFile,
    ...(options.env ? { env: options.env } : {}),
  });
  let context = stripContextSecrets(loaded.context);
  const notes: string[] = [];
  if (loaded.secretNames.length > 0) {
    notes.push(
      `left out of the file (secret values): ${loaded.secretNames.join(", ")}; the generated files pass them by name`,
    );
  }
  let detection: string;
  if (context.gpu_vendor === undefined) {
    const report = await (options.detectGpus ?? (() => detectHostGpus()))();
    context = withDetectedFacts(context, report);
    detection =
      report.vendor === "NONE"
        ? "no GPU detected on this host: gpu_vendor NONE (CPU run)"
        : `detected ${report.devices.length} ${report.vendor} GPU(s)${report.architecture ? ` (${report.architecture})` : ""}`;
    for (const problem of report.problems) notes.push(`GPU detection: ${problem}`);
  } else {
    detection = `gpu_vendor ${context.gpu_vendor} from the context`;
  }
  context = validateWithSchema(
    contextSchema,
    {
      ...context,
      docker_env_vars: context.docker_env_vars ?? {},
      docker_mounts: context.docker_mounts ?? {},
    },
    { file: "export-config context", code: "CONTEXT_INVALID" },
  );
  const credentials = [
    ...new Set(selected.map((entry) => entry.model.cred).filter((cred): cred is string => !!cred)),
  ];
  const config: ExecutionConfig = {
    models: selected.map((entry) => entry.model),
    context,
    credentials_required: credentials,
  };
  return {
    config: validateWithSchema(executionConfigSchema, config, { file: "execution config", code: "INTERNAL" }),
    detection,
    notes,
  };
}

/** Builds and writes `execution_config.json` (atomically, validated). */
export async function exportExecutionConfig(options: ExportConfigOptions): Promise<ExportConfigResult> {
  const { config, detection, notes } = await buildExecutionConfig(options);
  const file = path.resolve(options.output ?? DEFAULT_EXECUTION_CONFIG);
  await writeJsonAtomic(file, config, executionConfigSchema);
  return { file, config, detection, notes };
}
