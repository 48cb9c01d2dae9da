import type { Context, GpuVendor } from "../../../shared/schemas/context.js";
import { contextSchema } from "../../../shared/schemas/context.js";
import { validateWithSchema } from "../../../shared/schemas/validate.js";
import { type CommandRunner, detectHostGpus, gpuContextFacts } from "../context/gpu/detectHostGpus.js";
import { deepMerge, type JsonObject } from "../util/deepMerge.js";
import type { SystemFacts } from "./container/containerSpec.js";

export interface RuntimeContext {
  context: Context;
  vendor: Exclude<GpuVendor, "INTEL">;
  facts: SystemFacts;
  /** Where the facts came from, for the log. */
  detection: string;
}

/**
 * The run phase's context: the manifest's context with -c/-f on top (decisions.md), then host facts.
 * A context that names the vendor wins over detection; `NONE` runs on CPU and needs no detection.
 */
export async function resolveRuntimeContext(
  manifestContext: Context,
  override: Context,
  runCommand?: CommandRunner,
): Promise<RuntimeContext> {
  const merged = validateWithSchema(
    contextSchema,
    deepMerge(manifestContext as JsonObject, override as JsonObject),
    {
      file: "manifest context + --additional-context",
      code: "CONTEXT_INVALID",
    },
  );
  const env = merged.docker_env_vars ?? {};
  if (merged.gpu_vendor === "NONE") {
    return {
      context: merged,
      vendor: "NONE",
      // a CPU run may still declare an architecture (it lands in perf.csv and drives skip_gpu_arch)
      facts: { ngpus: 0, architecture: String(env.MAD_SYSTEM_GPU_ARCHITECTURE ?? ""), hipVersion: "" },
      detection: "context (gpu_vendor NONE: CPU run)",
    };
  }
  if (merged.gpu_vendor === "INTEL") {
    throw new Error("gpu_vendor INTEL is accepted for builds, but running on Intel GPUs is not supported");
  }
  const report = await detectHostGpus(runCommand);
  const facts = gpuContextFacts(report);
  const detectedVendor = report.vendor;
  const vendor = merged.gpu_vendor ?? detectedVendor;
  if (vendor !== "NONE" && detectedVendor !== vendor) {
    const problems = report.problems.length > 0 ? ` (${report.problems.join("; ")})` : "";
    throw new Error(
      `the context asks for ${vendor} GPUs, but this host has ${detectedVendor === "NONE" ? "no usable GPU" : `${detectedVendor} GPUs`}${problems}; run with -c '{"gpu_vendor": "NONE"}' for a CPU run`,
    );
  }
  return {
    context: merged,
    vendor,
    facts: {
      ngpus: Number(env.MAD_SYSTEM_NGPUS ?? facts.MAD_SYSTEM_NGPUS ?? 0),
      architecture: String(env.MAD_SYSTEM_GPU_ARCHITECTURE ?? facts.MAD_SYSTEM_GPU_ARCHITECTURE ?? ""),
      hipVersion: String(env.MAD_SYSTEM_HIP_VERSION ?? facts.MAD_SYSTEM_HIP_VERSION ?? ""),
    },
    detection:
      vendor === "NONE" ? "detected: no GPU (CPU run)" : `detected ${report.devices.length} ${vendor} GPU(s)`,
  };
}
