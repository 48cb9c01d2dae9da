import { z } from "zod";
import { MadError } from "../../../../shared/errors.js";
import type { Context } from "../../../../shared/schemas/context.js";
import { parseJsonText, validateWithSchema } from "../../../../shared/schemas/validate.js";
import { nearestNames } from "../../util/nearest.js";

/** Where the runner reads tools from, relative to the MAD root (spec §6.2). */
export const TOOLS_FILE = "scripts/common/tools.json";

const envValueSchema = z.union([z.string(), z.number(), z.boolean()]);

export const toolScriptSchema = z.object({ path: z.string().min(1), args: z.string().optional() });

/** One tool of tools.json: scripts around the run, a command prefix and environment variables. */
export const toolDefinitionSchema = z.looseObject({
  pre_scripts: z.array(toolScriptSchema).optional(),
  cmd: z.string().optional(),
  env_vars: z.record(z.string(), envValueSchema).optional(),
  post_scripts: z.array(toolScriptSchema).optional(),
});
export type ToolDefinition = z.output<typeof toolDefinitionSchema>;

/** `scripts/common/tools.json` (spec §6.2). Env values may be numbers or booleans; they become strings. */
export const toolsFileSchema = z.looseObject({
  tools: z.record(z.string(), toolDefinitionSchema),
});
export type ToolsFile = z.output<typeof toolsFileSchema>;

/** A script to copy into the model dir and run as `bash <basename> <args>` (spec §6.3). */
export interface ScriptStep {
  path: string;
  args: string;
}

export interface ToolComposition {
  /** Tn.pre … T1.pre, then context pre_scripts (the caller appends rocEnvTool). */
  preScripts: ScriptStep[];
  /** Context post_scripts, then T1.post … Tn.post. */
  postScripts: ScriptStep[];
  /** Tool commands, outermost (Tn) first, then context encapsulate_script; each a shell fragment to join with spaces. */
  commandPrefix: string[];
  /** All tools' env_vars, later tools winning; context tool env_vars win over the tool's own. */
  env: Record<string, string>;
}

export interface ComposeToolsInput {
  /**
   * tools.json content: JSON text, already parsed JSON, or undefined when the file does not exist.
   * It is validated only when the context selects tools.
   */
  toolsJson: unknown;
  context: Pick<Context, "tools" | "pre_scripts" | "post_scripts" | "encapsulate_script">;
  /** How the tools file is named in errors (default scripts/common/tools.json). */
  toolsFileName?: string;
}

/** Parses (if text) and validates tools.json; errors name the file and the JSON path. */
export function parseToolsFile(content: unknown, fileName: string = TOOLS_FILE): ToolsFile {
  const data = typeof content === "string" ? parseJsonText(content, fileName) : content;
  return validateWithSchema(toolsFileSchema, data, {
    file: fileName,
    hint: `fix ${fileName}: it must look like {"tools": {"<name>": {"cmd": "...", "env_vars": {}, "pre_scripts": [], "post_scripts": []}}}`,
  });
}

function step(script: { path: string; args?: string | undefined }): ScriptStep {
  return { path: script.path, args: script.args ?? "" };
}

function stringify(values: Record<string, string | number | boolean> | undefined): [string, string][] {
  return Object.entries(values ?? {}).map(([key, value]) => [
    key,
    typeof value === "string" ? value : String(value),
  ]);
}

/**
 * Composes context `tools` with tools.json, and context pre/post scripts and `encapsulate_script`,
 * as spec §6.2 describes for `[T1, …, Tn]` (T1 innermost). A context tool's `cmd` replaces the
 * tool's, its `env_vars` merge over the tool's. Identical tool commands collapse into one (stacked
 * `get_library_trace` tools run the wrapper once, their env vars together). An unknown tool name is a
 * MadError listing the known tools.
 */
export function composeToolsAndScripts(input: ComposeToolsInput): ToolComposition {
  const { context } = input;
  const fileName = input.toolsFileName ?? TOOLS_FILE;
  const selected = context.tools ?? [];
  const contextPre = (context.pre_scripts ?? []).map(step);
  const contextPost = (context.post_scripts ?? []).map(step);
  const encapsulate = context.encapsulate_script?.trim() ? [context.encapsulate_script] : [];
  if (selected.length === 0) {
    return { preScripts: contextPre, postScripts: contextPost, commandPrefix: encapsulate, env: {} };
  }

  const file = input.toolsJson === undefined ? undefined : parseToolsFile(input.toolsJson, fileName);
  const known = file ? Object.keys(file.tools).sort() : [];
  const resolved = selected.map((ref, index) => {
    const definition = file && Object.hasOwn(file.tools, ref.name) ? file.tools[ref.name] : undefined;
    if (!definition) {
      const near = nearestNames(ref.name, known, 3);
      throw new MadError(
        "CONTEXT_INVALID",
        file
          ? `unknown tool ${JSON.stringify(ref.name)} in context tools[${index}]; known tools: ${known.join(", ") || "(none)"}`
          : `unknown tool ${JSON.stringify(ref.name)} in context tools[${index}]: ${fileName} does not exist, so no tools are known`,
        {
          path: `tools[${index}].name`,
          hint:
            near.length > 0
              ? `did you mean ${near.map((n) => JSON.stringify(n)).join(" or ")}?`
              : `add the tool to ${fileName}, or remove it from the context`,
        },
      );
    }
    return {
      pre: (definition.pre_scripts ?? []).map(step),
      post: (definition.post_scripts ?? []).map(step),
      cmd: ref.cmd !== undefined ? ref.cmd : definition.cmd,
      env: [...stringify(definition.env_vars), ...stringify(ref.env_vars)],
    };
  });

  const outermostFirst = [...resolved].reverse();
  const commandPrefix: string[] = [];
  const seen = new Set<string>();
  for (const tool of outermostFirst) {
    const cmd = tool.cmd;
    if (cmd === undefined || cmd.trim() === "" || seen.has(cmd.trim())) continue;
    seen.add(cmd.trim());
    commandPrefix.push(cmd);
  }
  commandPrefix.push(...encapsulate);

  // Object.fromEntries defines own properties (a key "__proto__" stays data); later entries win
  const env: Record<string, string> = Object.fromEntries(resolved.flatMap((tool) => tool.env));

  return {
    preScripts: [...outermostFirst.flatMap((tool) => tool.pre), ...contextPre],
    postScripts: [...contextPost, ...resolved.flatMap((tool) => tool.post)],
    commandPrefix,
    env,
  };
}
