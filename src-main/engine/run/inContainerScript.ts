import { shellJoin, shellQuote } from "../util/shellQuote.js";

/** Marker lines the script prints so the host can time the model command and read its exit code. */
export const MARKER = "::madengine::";
export const MODEL_START = `${MARKER} model-start`;
export const MODEL_END = `${MARKER} model-end`;
export const FINISHED = `${MARKER} finished`;
export const GIT_COMMIT = `${MARKER} git-commit`;

export interface ScriptStep {
  path: string;
  args: string[];
}

export interface DataStep {
  home: string;
  script: string;
  args: string[];
}

export interface InContainerPlan {
  /** Run directory under /myworkspace (`run_directory`, or the cloned repo's name). */
  modelDir: string;
  /** Directory (relative to /myworkspace) whose contents are copied into the run directory. */
  scriptsDir: string;
  /** The script to run, relative to the run directory. */
  script: string;
  /** Arguments for the script, already split into words. */
  args: string[];
  /**
   * Shell text put before the interpreter: tool `cmd`s and `encapsulate_script`. It comes from the
   * user's own tools.json and context (as in the original, e.g. `echo cmd_A && ` or `rocprof`), so it is
   * shell code on purpose; model names, paths and args are always quoted.
   */
  commandPrefix: string;
  gitUrl?: string;
  preScripts: ScriptStep[];
  /** Custom data providers: run `script` in `home` (MAD_DATAHOME) before the model. */
  dataSteps: DataStep[];
  postScripts: ScriptStep[];
  /** Print the command instead of running it (--skip-model-run). */
  skipModelRun: boolean;
  /** Stay alive after the model so the user can `docker exec` in (--keep-alive). */
  keepAlive: boolean;
}

function runStep(step: ScriptStep, label: string): string {
  const base = step.path.split("/").pop() ?? step.path;
  return [
    `echo ${shellQuote(`${MARKER} ${label} ${step.path}`)}`,
    `cp -R ${shellQuote(`/myworkspace/${step.path}`)} "$MODEL_DIR"/ || exit 91`,
    `(cd "$MODEL_DIR" && "$INTERP" ${shellJoin([base, ...step.args])}) || { rc=$?; echo "${MARKER} ${label} failed (exit $rc)"; exit $rc; }`,
  ].join("\n");
}

/**
 * The POSIX sh program a model container runs (spec §5.4, in one process instead of a docker exec per
 * step): prepare the run directory, run pre-scripts, run the model between two marker lines, run
 * post-scripts. Every value is shell-quoted; bash is used when the image has it, else sh.
 */
export function inContainerScript(plan: InContainerPlan): string {
  const lines = [
    "set -u",
    `MODEL_DIR=${shellQuote(`/myworkspace/${plan.modelDir}`)}`,
    "if command -v bash >/dev/null 2>&1; then INTERP=bash; else INTERP=sh; fi",
    `echo "${MARKER} user $(id -un 2>/dev/null || echo unknown)"`,
    "if [ -x /opt/rocm/bin/rocm-smi ]; then /opt/rocm/bin/rocm-smi || true; elif command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi || true; fi",
    'rm -rf "$MODEL_DIR"',
  ];
  if (plan.gitUrl) {
    lines.push(
      `(cd /myworkspace && git clone ${shellQuote(plan.gitUrl)} ${shellQuote(plan.modelDir)}) || { echo "${MARKER} git clone failed"; exit 92; }`,
      `echo "${GIT_COMMIT} $(cd "$MODEL_DIR" && git rev-parse HEAD)"`,
      '(cd "$MODEL_DIR" && git submodule update --init --recursive) || true',
    );
  } else {
    lines.push('mkdir -p "$MODEL_DIR" || exit 93');
  }
  lines.push(`cp -R ${shellQuote(`/myworkspace/${plan.scriptsDir}`)}/. "$MODEL_DIR"/ || exit 94`);
  for (const step of plan.preScripts) lines.push(runStep(step, "pre-script"));
  for (const step of plan.dataSteps) {
    lines.push(
      `echo ${shellQuote(`${MARKER} data ${step.script} -> ${step.home}`)}`,
      `mkdir -p ${shellQuote(step.home)} && (cd ${shellQuote(step.home)} && "$INTERP" ${shellJoin([`/myworkspace/${step.script}`, ...step.args])}) || { rc=$?; echo "${MARKER} data preparation failed (exit $rc)"; exit $rc; }`,
    );
  }
  lines.push('chmod -R a+rwX "$MODEL_DIR" 2>/dev/null || true', 'cd "$MODEL_DIR" || exit 95');
  const prefix = plan.commandPrefix.trim() === "" ? "" : `${plan.commandPrefix.trimEnd()} `;
  const argv = shellJoin([plan.script, ...plan.args]);
  const described = shellQuote(`${prefix}${argv}`);
  if (plan.skipModelRun) {
    lines.push(`echo "${MARKER} skip-model-run (interpreter $INTERP), would run: "${described}`, "rc=0");
  } else {
    lines.push(
      `echo "${MODEL_START} (interpreter $INTERP) "${described}`,
      `${prefix}"$INTERP" ${argv}`,
      "rc=$?",
      `echo "${MODEL_END} $rc"`,
    );
  }
  for (const step of plan.postScripts) lines.push(runStep(step, "post-script"));
  lines.push('chmod -R a+rwX "$MODEL_DIR" 2>/dev/null || true');
  lines.push(`echo "${FINISHED} $rc"`);
  lines.push(plan.keepAlive ? "exec tail -f /dev/null" : "exit $rc");
  return `${lines.join("\n")}\n`;
}
