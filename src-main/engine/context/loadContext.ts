import { MadError } from "../../../shared/errors.js";
import { type Context, contextSchema, GPU_VENDORS, GUEST_OSES } from "../../../shared/schemas/context.js";
import { parseJsonText, validateWithSchema } from "../../../shared/schemas/validate.js";
import { deepMerge, isPlainObject, type JsonObject } from "../util/deepMerge.js";
import { readTextFile } from "../util/jsonFiles.js";

export interface ContextInput {
  /** `--additional-context`: a JSON object as a string. */
  additionalContext?: string | undefined;
  /** `--additional-context-file`: path of a JSON file. */
  additionalContextFile?: string | undefined;
  /** Environment to take `MAD_SECRETS*` values from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface LoadedContext {
  context: Context;
  /** Names of the environment variables whose values are secrets (`MAD_SECRETS*`): never printed. */
  secretNames: string[];
}

const CONTEXT_EXAMPLE = `'{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}'`;

function parseContextJson(text: string, label: string): JsonObject {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  let data: unknown;
  try {
    data = parseJsonText(trimmed, label, "CONTEXT_INVALID");
  } catch (error) {
    if (error instanceof MadError && /'/.test(trimmed)) {
      throw new MadError("CONTEXT_INVALID", error.message, {
        file: label,
        hint: `the context is JSON: use double quotes and true/false/null, e.g. ${CONTEXT_EXAMPLE}`,
      });
    }
    throw error;
  }
  if (!isPlainObject(data)) {
    throw new MadError(
      "CONTEXT_INVALID",
      `${label}: expected a JSON object, found ${Array.isArray(data) ? "an array" : typeof data}`,
      {
        file: label,
        hint: `write the context as an object, e.g. ${CONTEXT_EXAMPLE}`,
      },
    );
  }
  return data;
}

/**
 * Builds the context as the original does (spec §3.1), JSON only: `MAD_SECRETS*` environment values
 * go into build args and container env, then the context file is merged, then the string on top.
 * The result is validated; errors name the source and the key.
 */
export async function loadContext(input: ContextInput = {}): Promise<LoadedContext> {
  const env = input.env ?? process.env;
  let merged: JsonObject = { docker_build_arg: {}, docker_env_vars: {} };
  const secretNames = Object.keys(env)
    .filter((name) => name.includes("MAD_SECRETS"))
    .sort();
  const secrets = Object.fromEntries(secretNames.map((name) => [name, env[name] ?? ""]));
  merged = deepMerge(merged, { docker_build_arg: secrets, docker_env_vars: secrets });

  const sources: string[] = [];
  if (input.additionalContextFile) {
    const label = input.additionalContextFile;
    const text = await readTextFile(label, {
      code: "CONTEXT_INVALID",
      missingHint: "check the --additional-context-file path",
    });
    merged = deepMerge(merged, parseContextJson(text, label));
    sources.push(label);
  }
  if (input.additionalContext !== undefined) {
    merged = deepMerge(merged, parseContextJson(input.additionalContext, "--additional-context"));
    sources.push("--additional-context");
  }

  const context = validateWithSchema(contextSchema, merged, {
    file: sources.length > 0 ? sources.join(" + ") : "context",
    code: "CONTEXT_INVALID",
    hint: `gpu_vendor is one of ${GPU_VENDORS.join("/")}, guest_os one of ${GUEST_OSES.join("/")}; maps hold string values`,
  });
  return { context, secretNames };
}

/** Build-only operation needs the target: which GPU vendor and guest OS to build images for. */
export function requireBuildTarget(context: Context): void {
  const missing = (["gpu_vendor", "guest_os"] as const).filter((key) => context[key] === undefined);
  if (missing.length > 0) {
    throw new MadError("CONTEXT_INVALID", `the build context lacks ${missing.join(" and ")}`, {
      hint: `building needs to know the target: pass -c ${CONTEXT_EXAMPLE} (gpu_vendor: ${GPU_VENDORS.join("|")}; guest_os: ${GUEST_OSES.join("|")})`,
    });
  }
}

/** A copy of the context safe to print or write: every secret value replaced. */
export function redactContext(context: Context, secretNames: readonly string[]): Context {
  if (secretNames.length === 0) return context;
  const hide = (map: Record<string, unknown> | undefined) =>
    map &&
    Object.fromEntries(
      Object.entries(map).map(([key, value]) => [key, secretNames.includes(key) ? "***" : value]),
    );
  return {
    ...context,
    ...(context.docker_build_arg
      ? { docker_build_arg: hide(context.docker_build_arg) as Record<string, string> }
      : {}),
    ...(context.docker_env_vars
      ? { docker_env_vars: hide(context.docker_env_vars) as Record<string, string> }
      : {}),
  };
}
