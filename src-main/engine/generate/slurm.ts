/**
 * `generate slurm`: one sbatch script that runs a build manifest on the node Slurm allocates. It
 * carries the same host helper and plan as the Ansible playbook (heredocs), so each model is one
 * step (`srun` inside an allocation, else a plain process): pull by digest, verify the image id, run
 * the container with the run phase's options, read the results; then perf.csv is written. The MAD
 * root is expected on a shared file system (its path is baked in; MADENGINE_MAD_ROOT overrides it).
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import type { Context } from "../../../shared/schemas/context.js";
import { shellQuote } from "../util/shellQuote.js";
import { dockerRunArgs } from "./dockerRunArgs.js";
import { HOST_HELPER_NAME, HOST_PLAN_NAME, hostHelperSource, hostPlanModels } from "./hostHelper.js";
import { loadGenerationInputs } from "./inputs.js";
import { MAD_ROOT_PLACEHOLDER, planModels } from "./modelPlans.js";

export const DEFAULT_SLURM_SCRIPT = "madengine_slurm.sh";

export interface GenerateSlurmOptions {
  manifestFile: string;
  executionConfigFile?: string | undefined;
  madRoot: string;
  output?: string | undefined;
  timeoutSec?: number | undefined;
  registry?: string | undefined;
  gpusPerNode?: number | undefined;
  /** sbatch --partition. */
  partition?: string | undefined;
  contextOverride?: Context | undefined;
  contextSecretNames?: readonly string[] | undefined;
  runId?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: these are bash parameter expansions, not JavaScript
/** Where things are on the node; STEP is `srun` inside an allocation. */
const BASH_SETUP = [
  "WORK=${MADENGINE_WORKSPACE:-$PWD/madengine_slurm}",
  "PYTHON=${MADENGINE_PYTHON:-python3}",
  "MACHINE=${SLURMD_NODENAME:-$(hostname)}",
  'if [ -n "${SLURM_JOB_ID:-}" ] && command -v srun >/dev/null 2>&1; then STEP=(srun --ntasks=1 --nodes=1); else STEP=(); fi',
  'mkdir -p "$WORK/results" || exit 1',
  "docker version >/dev/null || { echo 'madengine: Docker does not answer on this node' >&2; exit 1; }",
];

/** Runs the helper for one model of the plan (as a step). */
const RUN_STEP =
  '${STEP[@]+"${STEP[@]}"} "$PYTHON" "$WORK/madengine_host.py" run --plan "$WORK/madengine_plan.json" --workspace "$WORK" --mad-root "$MAD_ROOT" --machine "$MACHINE"';

/** step INDEX IMAGE IMAGE_ID: pull by digest, verify the id, run the model's container. */
const BASH_STEP = [
  "# step INDEX IMAGE IMAGE_ID: pull by digest, verify the id, run the model's container (one step)",
  "step() {",
  "  local index=$1 image=$2 expected=$3 error=() id",
  '  if ! docker pull "$image" >>"$WORK/results/pull.log" 2>&1; then',
  '    error=(--image-error "image $image could not be pulled (see $WORK/results/pull.log)")',
  "  else",
  "    id=$(docker image inspect --format '{{.Id}}' \"$image\" 2>/dev/null)",
  '    if [ -n "$expected" ] && [ "$id" != "$expected" ]; then',
  '      error=(--image-error "image $image is $id, but the manifest recorded $expected")',
  "    fi",
  "  fi",
  `  ${RUN_STEP} --index "$index" --image "$image" \${error[@]+"\${error[@]}"}`,
  "}",
];
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: bash

function heredoc(tag: string, body: string): string {
  if (body.split("\n").includes(tag)) {
    throw new MadError("INTERNAL", `the text for the ${tag} heredoc contains its end marker`, {
      hint: "a bug",
    });
  }
  return `<<'${tag}'\n${body.endsWith("\n") ? body : `${body}\n`}${tag}`;
}

function sbatchTime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** Builds the sbatch script text. */
export async function buildSlurmScript(
  options: GenerateSlurmOptions,
): Promise<{ text: string; models: number; notes: string[] }> {
  if (
    options.timeoutSec !== undefined &&
    (!Number.isSafeInteger(options.timeoutSec) || options.timeoutSec < 0)
  ) {
    throw new MadError(
      "INVALID_ARGS",
      `--timeout ${options.timeoutSec}: expected whole seconds, 0 for none`,
      {
        hint: "e.g. --timeout 3600",
      },
    );
  }
  if (options.partition !== undefined && !/^[A-Za-z0-9_.,-]+$/.test(options.partition)) {
    throw new MadError(
      "INVALID_ARGS",
      `--partition ${JSON.stringify(options.partition)}: not a partition name`,
      {
        hint: "e.g. --partition gpu",
      },
    );
  }
  const inputs = await loadGenerationInputs(options);
  const madRoot = path.resolve(options.madRoot);
  const plans = await planModels(inputs, {
    madRoot,
    timeoutSec: options.timeoutSec,
    registry: options.registry,
    runId: options.runId,
    env: options.env ?? process.env,
  });
  if (plans.length === 0) {
    throw new MadError("INVALID_FILE", `${options.manifestFile}: the manifest has no images to run`, {
      hint: "build models first with madengine-cli build --tags ...",
    });
  }
  const plan = { version: 1, run_id: options.runId ?? null, models: hostPlanModels(plans, "slurm") };
  const timeouts = plans.filter((entry) => !entry.skip).map((entry) => entry.timeoutSec);
  const total = timeouts.every((value) => value !== undefined)
    ? timeouts.reduce<number>((sum, value) => sum + (value ?? 0) + 60, 600)
    : undefined;
  const gpus = Math.max(0, ...plans.map((entry) => entry.gpuCount));
  const secrets = [...new Set(plans.flatMap((entry) => entry.secretEnvNames))];
  const lines = [
    "#!/bin/bash",
    "#SBATCH --job-name=madengine",
    "#SBATCH --nodes=1",
    "#SBATCH --ntasks=1",
    "#SBATCH --output=madengine-%j.out",
    ...(total !== undefined ? [`#SBATCH --time=${sbatchTime(total)}`] : []),
    ...(gpus > 0 ? [`#SBATCH --gpus-per-node=${gpus}`] : []),
    ...(options.partition ? [`#SBATCH --partition=${options.partition}`] : []),
    `# madengine: run ${path.basename(inputs.manifestFile)} (${plans.length} model(s)), written by madengine-cli generate slurm.`,
    "# Submit: sbatch <this file>   (it also runs as plain bash on a machine with Docker and Python 3)",
    "# Env: MADENGINE_MAD_ROOT (the MAD root, on a shared file system), MADENGINE_WORKSPACE (logs, results,",
    "#      perf.csv; default ./madengine_slurm), MADENGINE_PYTHON (python3)",
    ...(secrets.length > 0
      ? [`# Secrets are passed by name: export ${secrets.join(" ")} before sbatch.`]
      : []),
    "set -u",
    `MAD_ROOT=$\{MADENGINE_MAD_ROOT:-${shellQuote(madRoot)}}`,
    ...BASH_SETUP,
    `cat >"$WORK/${HOST_HELPER_NAME}" ${heredoc("MADENGINE_HELPER_EOF", hostHelperSource())}`,
    `cat >"$WORK/${HOST_PLAN_NAME}" ${heredoc("MADENGINE_PLAN_EOF", JSON.stringify(plan, null, 1))}`,
    "",
    ...BASH_STEP,
    "",
  ];
  plans.forEach((entry, index) => {
    const args = dockerRunArgs(entry.spec);
    lines.push(
      `# ${index + 1}/${plans.length} ${entry.model.name} (timeout ${entry.timeoutSec ?? "none"} s)${entry.skip ? ` - skipped: ${entry.skip}` : ""}`,
      `#   docker run --name ${entry.containerName}.$MACHINE.slurm ${args.options.map((option) => shellQuote(option.replace(MAD_ROOT_PLACEHOLDER, madRoot))).join(" ")} ${shellQuote(entry.reference)} sh -c <in-container script> madengine-run`,
      entry.skip
        ? `${RUN_STEP} --index ${index} --image ${shellQuote(entry.reference)}`
        : `step ${index} ${shellQuote(entry.reference)} ${shellQuote(entry.info.image_id ?? "")}`,
    );
  });
  lines.push(
    "",
    `"$PYTHON" "$WORK/${HOST_HELPER_NAME}" collect --plan "$WORK/${HOST_PLAN_NAME}" --workspace "$WORK" --machine "$MACHINE" --out "$WORK/perf.csv" >"$WORK/summary.json" || exit 1`,
    'cat "$WORK/summary.json"',
    'echo "madengine: perf.csv written to $WORK/perf.csv"',
    '"$PYTHON" -c \'import json,sys; sys.exit(3 if json.load(open(sys.argv[1]))["failed"] else 0)\' "$WORK/summary.json"',
    "",
  );
  return { text: lines.join("\n"), models: plans.length, notes: inputs.notes };
}

/** Writes the sbatch script (executable). */
export async function generateSlurm(
  options: GenerateSlurmOptions,
): Promise<{ file: string; models: number; notes: string[] }> {
  const { text, models, notes } = await buildSlurmScript(options);
  const file = path.resolve(options.output ?? DEFAULT_SLURM_SCRIPT);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    await chmod(file, 0o755);
  } catch (error) {
    throw new MadError("INVALID_FILE", `${file}: cannot write: ${(error as Error).message}`, {
      file,
      hint: "check that the directory is writable, or pass another --output",
      cause: error,
    });
  }
  return { file, models, notes };
}
