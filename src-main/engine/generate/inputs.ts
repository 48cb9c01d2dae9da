/**
 * What every generator starts from: the build manifest, an optional execution config, the context
 * (manifest, then execution config, then -c/-f) and the facts about the target nodes that the
 * generated files bake in. Secrets are split off here: generated files carry their names, never
 * their values.
 */
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import type { Context, GpuVendor } from "../../../shared/schemas/context.js";
import { contextSchema } from "../../../shared/schemas/context.js";
import { type ExecutionConfig, executionConfigSchema } from "../../../shared/schemas/executionConfig.js";
import type { BuildManifest } from "../../../shared/schemas/manifest.js";
import { validateWithSchema } from "../../../shared/schemas/validate.js";
import type { SystemFacts } from "../run/container/containerSpec.js";
import { loadManifest } from "../run/manifestFile.js";
import { deepMerge, type JsonObject } from "../util/deepMerge.js";
import { readJsonFile } from "../util/jsonFiles.js";

/** Environment variable names whose values are secrets (the original's convention). */
export function isSecretName(name: string): boolean {
  return name.includes("MAD_SECRETS");
}

export interface GenerationInputOptions {
  manifestFile: string;
  executionConfigFile?: string | undefined;
  /** -c / -f on top (from loadContext). */
  contextOverride?: Context | undefined;
  /** Names of environment variables loadContext merged in as secrets (MAD_SECRETS*). */
  contextSecretNames?: readonly string[] | undefined;
  /** GPUs per node for `n_gpus: "-1"` and as the node GPU count when the context does not say. */
  gpusPerNode?: number | undefined;
}

export interface GenerationInputs {
  manifestFile: string;
  /** The manifest with secret values removed from its context (safe to embed). */
  manifest: BuildManifest;
  executionConfig: ExecutionConfig | undefined;
  /** The merged context, without secret values. */
  context: Context;
  vendor: Exclude<GpuVendor, "INTEL">;
  facts: SystemFacts;
  /** Names of secret environment variables the containers get at run time (values never written). */
  secretEnvNames: string[];
  /** GPUs a node offers (for n_gpus "-1"). */
  gpusPerNode: number;
  /** Things the user should know (defaults taken), for the CLI to print. */
  notes: string[];
}

function withoutSecrets<V>(map: Record<string, V> | undefined, found: Set<string>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of Object.entries(map ?? {})) {
    if (isSecretName(key)) found.add(key);
    else out[key] = value;
  }
  return out;
}

/** A context with every MAD_SECRETS* entry of docker_env_vars and docker_build_arg removed. */
export function stripContextSecrets(context: Context, found = new Set<string>()): Context {
  const out: Context = { ...context };
  if (context.docker_env_vars) out.docker_env_vars = withoutSecrets(context.docker_env_vars, found);
  if (context.docker_build_arg) out.docker_build_arg = withoutSecrets(context.docker_build_arg, found);
  return out;
}

/** Checks a GPUs-per-node value given on the command line. */
export function checkGpusPerNode(value: number | undefined, option = "--gpus-per-node"): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new MadError(
      "INVALID_ARGS",
      `${option} ${value}: expected a whole number of GPUs of at least 1 (a node cannot have a negative or zero GPU count)`,
      { hint: `e.g. ${option} 8 for nodes with eight GPUs` },
    );
  }
  return value;
}

function envNumber(value: unknown): number | undefined {
  if (value === undefined || value === "") return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

/** Loads and merges everything a generator needs; every problem is a MadError naming the input. */
export async function loadGenerationInputs(options: GenerationInputOptions): Promise<GenerationInputs> {
  const manifestFile = path.resolve(options.manifestFile);
  const rawManifest = await loadManifest(options.manifestFile).catch((error: unknown) => {
    if (error instanceof MadError && error.code === "FILE_NOT_FOUND") {
      throw new MadError(error.code, error.message, {
        file: options.manifestFile,
        hint: "build first with madengine-cli build --tags ... --registry <registry> (the generated files pull each image by digest), or pass --manifest-file",
        cause: error,
      });
    }
    throw error;
  });
  const executionConfig = options.executionConfigFile
    ? await readJsonFile(options.executionConfigFile, executionConfigSchema, {
        missingHint: "write one with madengine-cli export-config, or leave --execution-config out",
      })
    : undefined;
  const found = new Set<string>(options.contextSecretNames ?? []);
  const manifest: BuildManifest = {
    ...rawManifest,
    context: stripContextSecrets(rawManifest.context, found),
  };
  let merged = manifest.context as JsonObject;
  if (executionConfig)
    merged = deepMerge(merged, stripContextSecrets(executionConfig.context, found) as JsonObject);
  if (options.contextOverride)
    merged = deepMerge(merged, stripContextSecrets(options.contextOverride, found) as JsonObject);
  const context = validateWithSchema(contextSchema, merged, {
    file: "manifest context + execution config + --additional-context",
    code: "CONTEXT_INVALID",
  });

  const notes: string[] = [];
  const vendor = context.gpu_vendor;
  if (vendor === undefined) {
    throw new MadError(
      "CONTEXT_INVALID",
      `${options.manifestFile}: the context names no gpu_vendor, so the GPU options of the nodes are unknown`,
      {
        hint: 'pass it, e.g. -c \'{"gpu_vendor": "AMD"}\' (AMD, NVIDIA or NONE for a CPU run), or export it with madengine-cli export-config',
      },
    );
  }
  if (vendor === "INTEL") {
    throw new MadError("CONTEXT_INVALID", "gpu_vendor INTEL: running on Intel GPUs is not supported", {
      path: "gpu_vendor",
      hint: 'use "AMD", "NVIDIA" or "NONE"',
    });
  }
  const env = context.docker_env_vars ?? {};
  const gpusPerNodeOption = checkGpusPerNode(options.gpusPerNode);
  const contextGpus = envNumber(env.MAD_SYSTEM_NGPUS);
  let gpusPerNode = gpusPerNodeOption ?? (contextGpus && contextGpus > 0 ? contextGpus : undefined);
  if (gpusPerNode === undefined) {
    gpusPerNode = 1;
    if (vendor !== "NONE") {
      notes.push(
        `the context does not say how many GPUs a node has (docker_env_vars.MAD_SYSTEM_NGPUS): assuming 1; pass --gpus-per-node N`,
      );
    }
  }
  const facts: SystemFacts =
    vendor === "NONE"
      ? { ngpus: 0, architecture: String(env.MAD_SYSTEM_GPU_ARCHITECTURE ?? ""), hipVersion: "" }
      : {
          ngpus: gpusPerNodeOption ?? contextGpus ?? gpusPerNode,
          architecture: String(env.MAD_SYSTEM_GPU_ARCHITECTURE ?? ""),
          hipVersion: String(env.MAD_SYSTEM_HIP_VERSION ?? ""),
        };
  return {
    manifestFile,
    manifest,
    executionConfig,
    context,
    vendor,
    facts,
    secretEnvNames: [...found].filter(isSecretName).sort(),
    gpusPerNode,
    notes,
  };
}
