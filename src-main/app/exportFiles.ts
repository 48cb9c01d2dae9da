import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ExportFile } from "../../shared/contract.js";
import { MadError } from "../../shared/errors.js";
import { loadContext } from "../engine/context/loadContext.js";
import { DEFAULT_PLAYBOOK, generateAnsible, MAD_FILES_ARCHIVE } from "../engine/generate/ansible.js";
import { DEFAULT_EXECUTION_CONFIG, exportExecutionConfig } from "../engine/generate/exportConfig.js";
import { generateKubernetes } from "../engine/generate/kubernetes.js";
import { DEFAULT_SLURM_SCRIPT, generateSlurm } from "../engine/generate/slurm.js";
import type { ParsedCallArgs } from "./contractCalls.js";

/**
 * The Export screen's calls over the engine's generators (the same ones `madengine-cli generate`
 * and `export-config` use, with the same options), so a preview shows exactly what the CLI writes.
 * The generators write files; a preview generates into a fresh temp folder, reads the files back
 * and removes the folder.
 */

export type ExportRequest = ParsedCallArgs<"export.preview">;

export interface ExportEnvironment {
  defaultMadRoot: string;
  env: NodeJS.ProcessEnv;
}

interface Generated {
  files: string[];
  notes: string[];
}

/** Files the preview only names (not text). */
const BINARY_FILES = new Set([MAD_FILES_ARCHIVE]);

export function languageOf(file: string): ExportFile["language"] {
  const name = path.basename(file).toLowerCase();
  if (name.endsWith(".yml") || name.endsWith(".yaml")) return "yaml";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".sh") || name.endsWith(".bash") || name.endsWith(".sbatch")) return "shell";
  if (name.endsWith(".ini") || name.endsWith(".cfg")) return "ini";
  return "text";
}

/** A file name given in a form: a name, not a path (the output directory says where). */
function plainFileName(name: string | undefined, fallback: string, what: string): string {
  const value = (name ?? "").trim();
  if (value === "") return fallback;
  if (value !== path.basename(value) || value === "." || value === "..") {
    throw new MadError("INVALID_ARGS", `${what} ${JSON.stringify(value)}: expected a file name, not a path`, {
      hint: `e.g. ${fallback}; the output directory says where it goes`,
    });
  }
  return value;
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** The context override, read as `-c` is by the CLI (none when no JSON or `{}` is given). */
async function contextOverride(request: ExportRequest, env: NodeJS.ProcessEnv) {
  const json = blankToUndefined(request.context);
  if (json === undefined) return { contextOverride: undefined, contextSecretNames: [] as string[] };
  const loaded = await loadContext({ additionalContext: json, env });
  return { contextOverride: loaded.context, contextSecretNames: loaded.secretNames };
}

/** Generates the request's files into `dir` with the engine's generators. */
async function generateInto(
  request: ExportRequest,
  dir: string,
  environment: ExportEnvironment,
): Promise<Generated> {
  const madRoot = path.resolve(request.madRoot ?? environment.defaultMadRoot);
  if (request.target === "execution-config") {
    const result = await exportExecutionConfig({
      madRoot,
      tags: request.options.tags,
      additionalContext: blankToUndefined(request.context),
      output: path.join(dir, DEFAULT_EXECUTION_CONFIG),
      env: environment.env,
    });
    return { files: [result.file], notes: [result.detection, ...result.notes] };
  }
  const common = {
    manifestFile: path.resolve(request.manifestFile),
    madRoot,
    env: environment.env,
    registry: blankToUndefined(request.options.registry),
    timeoutSec: request.options.timeoutSec,
    gpusPerNode: request.options.gpusPerNode,
    ...(await contextOverride(request, environment.env)),
  };
  switch (request.target) {
    case "ansible": {
      const nodesFile = blankToUndefined(request.options.nodesFile);
      const result = await generateAnsible({
        ...common,
        output: path.join(dir, DEFAULT_PLAYBOOK),
        mode: request.options.mode ?? "containers",
        withInventory: nodesFile !== undefined,
        nodesFile,
        withAnsibleCfg: request.options.withAnsibleCfg === true,
      });
      return { files: result.files, notes: result.notes };
    }
    case "k8s": {
      const result = await generateKubernetes({
        ...common,
        outputDir: dir,
        namespace: blankToUndefined(request.options.namespace),
        nodeSelectors: (request.options.nodeSelectors ?? [])
          .map((each) => each.trim())
          .filter((each) => each !== ""),
        cpuRequest: blankToUndefined(request.options.cpuRequest),
        cpuLimit: blankToUndefined(request.options.cpuLimit),
        memoryRequest: blankToUndefined(request.options.memoryRequest),
        memoryLimit: blankToUndefined(request.options.memoryLimit),
        imagePullSecret: blankToUndefined(request.options.imagePullSecret),
        runId: blankToUndefined(request.options.runId),
      });
      return { files: result.files, notes: result.notes };
    }
    case "slurm": {
      const result = await generateSlurm({
        ...common,
        output: path.join(
          dir,
          plainFileName(request.options.output, DEFAULT_SLURM_SCRIPT, "the script name"),
        ),
        partition: blankToUndefined(request.options.partition),
      });
      return { files: [result.file], notes: result.notes };
    }
  }
}

/** The files a request would write, as text (binary files are named in the notes), nothing left on disk. */
export async function previewExport(
  request: ExportRequest,
  environment: ExportEnvironment,
): Promise<{ files: ExportFile[]; notes: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "madengine-export-"));
  try {
    const generated = await generateInto(request, dir, environment);
    const files: ExportFile[] = [];
    const notes = [...generated.notes];
    for (const file of generated.files) {
      const name = path.basename(file);
      if (BINARY_FILES.has(name)) {
        const size = (await stat(file)).size;
        notes.push(
          `${name} (${Math.max(1, Math.round(size / 1024))} KiB, binary: the MAD files) is written on save`,
        );
        continue;
      }
      files.push({ name, language: languageOf(name), content: await readFile(file, "utf8") });
    }
    return { files, notes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a request's files into its output directory. */
export async function saveExport(
  request: ParsedCallArgs<"export.save">,
  environment: ExportEnvironment,
): Promise<{ written: string[]; notes: string[] }> {
  const generated = await generateInto(request, path.resolve(request.outputDir), environment);
  return { written: generated.files, notes: generated.notes };
}
