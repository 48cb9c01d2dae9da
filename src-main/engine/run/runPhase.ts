import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ExitCode } from "../../../shared/errors.js";
import type { RunEventListener, RunStatus } from "../../../shared/events.js";
import type { Context } from "../../../shared/schemas/context.js";
import type { BuildInfo, BuildManifest } from "../../../shared/schemas/manifest.js";
import { type ModelEntry, modelTags } from "../../../shared/schemas/model.js";
import type { PerfRow } from "../../../shared/schemas/perf.js";
import { type ExecutionSummary, executionSummarySchema } from "../../../shared/schemas/summaries.js";
import { type LoadedCredentials, loadCredentials } from "../build/credentials.js";
import { containerName, runLogName } from "../build/names.js";
import { type DockerEndpoint, ensureDockerReachable } from "../docker/client.js";
import { writeJsonAtomic } from "../util/jsonFiles.js";
import { Redactor } from "../util/redact.js";
import { trace, traced } from "../util/trace.js";
import { buildContainerSpec } from "./container/containerSpec.js";
import { splitShellWords } from "./container/dockerRunOptions.js";
import { allocateGpus } from "./container/gpuAllocation.js";
import { composeToolsAndScripts, TOOLS_FILE } from "./container/toolsAndScripts.js";
import { ContainerNameInUseError, runModelContainer } from "./containerRun.js";
import { type DataConfig, loadDataConfig, planData } from "./dataProviders.js";
import { resolveImage } from "./imageResolver.js";
import { inContainerScript } from "./inContainerScript.js";
import { isNumericPerformance, parseMultipleResults } from "./results/multipleResults.js";
import { appendPerfRows, formatPerfRow, writePerfEntryFiles } from "./results/perfCsv.js";
import { type RuntimeContext, resolveRuntimeContext } from "./runContext.js";
import type { RunJournal } from "./runJournal.js";
import { RunLogWriter } from "./runLog.js";
import { type ExecutionTarget, localTarget } from "./target.js";

export const DEFAULT_TIMEOUT_SEC = 7200;

export interface RunPhaseOptions {
  /** The MAD root on this machine: credential.json, data.json and tools.json are read from here. */
  madRoot: string;
  /** Where containers run (default: this machine with `endpoint` and `madRoot`). */
  target?: ExecutionTarget;
  manifest: BuildManifest;
  /** -c / -f on top of the manifest's context. */
  contextOverride: Context;
  contextSecretNames: readonly string[];
  registry?: string | undefined;
  /** --timeout: seconds; 0 = none; undefined = the default (7200). A model's own timeout wins. */
  timeoutSec?: number | undefined;
  keepAlive: boolean;
  keepModelDir: boolean;
  skipModelRun: boolean;
  /** Also run models marked `is_deprecated`. */
  ignoreDeprecated?: boolean;
  /** Run models even on a GPU architecture listed in their `skip_gpu_arch`. */
  disableSkipGpuArch?: boolean;
  perfCsv: string;
  summaryOutput?: string | undefined;
  dataConfig?: string | undefined;
  toolsConfig?: string | undefined;
  forceMirrorLocal?: string | undefined;
  /** Where logs and perf_entry files go (the original: the working directory). */
  outputDir: string;
  endpoint: DockerEndpoint;
  /** Raw container output of the running model (for --live-output). */
  onOutput?: ((model: string, chunk: Buffer) => void) | undefined;
  signal?: AbortSignal | undefined;
  machineName?: string;
  env?: NodeJS.ProcessEnv;
  /** Identifies this run on containers (label). */
  runId?: string;
  /** The durable run state: transitions are recorded, and a resume skips or re-attaches. */
  journal?: RunJournal | undefined;
  /** Rows just appended to perf.csv (for the results history). */
  onResults?:
    | ((rows: PerfRow[], extra: { node?: string | undefined; logFile?: string | undefined }) => void)
    | undefined;
  /** Aborted when the target is unreachable (a node's connection dropped): stop waiting on it at once. */
  abandon?: AbortSignal | undefined;
  /** True once the target is unreachable (a node's connection dropped): results are then left to a resume. */
  isTargetLost?: (() => boolean) | undefined;
}

export interface ModelRunOutcome {
  model: string;
  image: string;
  status: RunStatus;
  performance: string;
  metric: string;
  durationSec: number;
  reason?: string;
  logFile?: string;
  rows: PerfRow[];
}

export interface RunPhaseResult {
  summary: ExecutionSummary;
  outcomes: ModelRunOutcome[];
  interrupted: boolean;
  exitCode: ExitCode;
}

/**
 * Whether these exact rows are already in perf.csv: a run killed between appending its rows and
 * recording that in the journal must not append them twice on resume.
 */
async function rowsAlreadyWritten(perfCsv: string, rows: PerfRow[]): Promise<boolean> {
  if (!existsSync(perfCsv)) return false;
  const text = await readFile(perfCsv, "utf8");
  return rows.every((row) => text.includes(formatPerfRow(row)));
}

/** The effective wall clock: the model's `timeout` beats `--timeout`; 0 or -1 in a model means none. */
export function effectiveTimeout(model: ModelEntry, cliTimeoutSec: number | undefined): number | undefined {
  if (model.timeout !== undefined) return model.timeout > 0 ? model.timeout : undefined;
  const timeout = cliTimeoutSec ?? DEFAULT_TIMEOUT_SEC;
  return timeout > 0 ? timeout : undefined;
}

/**
 * Why a model is skipped on this host, if it is: deprecated (unless --ignore-deprecated), or the GPU
 * architecture is in its `skip_gpu_arch` list (unless --disable-skip-gpu-arch). NVIDIA names such as
 * "NVIDIA A100-SXM4-80GB" are also compared by their second word, as the original does.
 */
export function skipReason(
  model: ModelEntry,
  architecture: string,
  options: Pick<RunPhaseOptions, "ignoreDeprecated" | "disableSkipGpuArch">,
): string | undefined {
  if (model.is_deprecated && !options.ignoreDeprecated)
    return "deprecated model (run it with --ignore-deprecated)";
  if (!model.skip_gpu_arch || options.disableSkipGpuArch || architecture === "") return undefined;
  const skipped = model.skip_gpu_arch.replace(/\s+/g, "").split(",").filter(Boolean);
  const words = architecture.split(/\s+/);
  const candidates = [architecture, ...(words.length > 1 ? [words[1]!] : [])];
  const hit = candidates.find((candidate) => skipped.includes(candidate));
  return hit ? `skip_gpu_arch lists ${hit} (run it with --disable-skip-gpu-arch)` : undefined;
}

/** Run directory and script of a model (spec §5.4): `scripts` is a .sh file, or a directory with run.sh. */
export function scriptLayout(model: ModelEntry): { modelDir: string; scriptsDir: string; script: string } {
  const scripts = model.scripts.replace(/\/+$/, "");
  const isFile = scripts.endsWith(".sh");
  let modelDir = "run_directory";
  if (model.url)
    modelDir =
      model.url
        .replace(/\/+$/, "")
        .split("/")
        .pop()!
        .replace(/\.git$/, "") || "run_directory";
  return {
    modelDir,
    scriptsDir: isFile ? path.posix.dirname(scripts) : scripts,
    script: isFile ? path.posix.basename(scripts) : "run.sh",
  };
}

function credentialEnv(model: ModelEntry, credentials: LoadedCredentials): Record<string, string> {
  if (!model.cred) return {};
  const entry = credentials.entries[model.cred];
  if (!entry || Array.isArray(entry)) return {};
  return Object.fromEntries(
    Object.entries(entry)
      .filter(([, value]) => typeof value === "string")
      .map(([field, value]) => [`${model.cred}_${field.toUpperCase()}`, value as string]),
  );
}

interface RowInput {
  model: ModelEntry;
  info: BuildInfo;
  runtime: RuntimeContext;
  machineName: string;
  env: NodeJS.ProcessEnv;
  durationSec: number;
  dataname: string;
  providerType: string;
  gitCommit?: string;
}

function perfRow(
  input: RowInput,
  name: string,
  performance: string,
  metric: string,
  status: RunStatus,
): PerfRow {
  const { model, info } = input;
  return {
    model: name,
    n_gpus: model.n_gpus,
    training_precision: model.training_precision ?? "",
    pipeline: input.env.pipeline ?? "",
    args: model.args,
    tags: modelTags(model).join(","),
    docker_file: info.dockerfile,
    base_docker: info.base_docker,
    docker_sha: info.docker_sha,
    docker_image: info.docker_image,
    git_commit: input.gitCommit ?? "",
    machine_name: input.machineName,
    gpu_architecture: input.runtime.facts.architecture,
    performance,
    metric,
    relative_change: "",
    status,
    build_duration: String(info.build_duration),
    test_duration: input.durationSec.toFixed(3),
    dataname: input.dataname,
    data_provider_type: input.providerType,
    data_size: "",
    data_download_duration: "",
    build_number: input.env.BUILD_NUMBER ?? "0",
    additional_docker_run_options: model.additional_docker_run_options ?? "",
  };
}

async function readToolsJson(madRoot: string, toolsConfig: string | undefined): Promise<unknown> {
  const file = toolsConfig ? path.resolve(toolsConfig) : path.join(madRoot, TOOLS_FILE);
  return existsSync(file) ? readFile(file, "utf8") : undefined;
}

/**
 * The run phase (spec §5): for each image of the manifest, resolve (pull by digest), run its model's
 * container with the vendor's options and a timeout, read the results, append perf.csv as each model
 * finishes, and write the execution summary.
 */
export async function runRunPhase(options: RunPhaseOptions, emit: RunEventListener): Promise<RunPhaseResult> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const machineName = options.machineName ?? options.target?.machineName ?? os.hostname();
  const { manifest } = options;
  const madRoot = path.resolve(options.madRoot);
  const target = options.target ?? localTarget(madRoot, options.endpoint);
  const phaseStarted = performance.now();
  await ensureDockerReachable(target.endpoint);
  const runtime = await resolveRuntimeContext(manifest.context, options.contextOverride, target.runCommand);
  const devices = await target.fs.devices();
  trace(`${target.name} run setup (ping, context, devices)`, phaseStarted);
  emit({ type: "log", level: "info", message: `GPU context: ${runtime.detection}` });
  const credentials = await loadCredentials(madRoot, env);
  const secrets = options.contextSecretNames.map((name) => env[name] ?? "").filter(Boolean);
  const redactor = new Redactor([...credentials.secretValues, ...secrets]);
  const dataConfig: DataConfig = await loadDataConfig(options.dataConfig, madRoot, runtime.context);
  const toolsJson = await readToolsJson(madRoot, options.toolsConfig);
  const composition = composeToolsAndScripts({ toolsJson, context: runtime.context });

  const plan = Object.entries(manifest.built_images).flatMap(([image, info]) => {
    const model = manifest.built_models[image];
    if (!model) {
      emit({ type: "log", level: "warn", message: `${image} has no entry in built_models: not run` });
      return [];
    }
    return [{ image, info, model }];
  });
  const journal = options.journal;
  const reportLost = (model: string, image: string, why: string, logFile: string) => {
    const reason = `${target.name} lost while running (${why}); its results can be collected with --resume${journal ? ` ${journal.runId}` : ""}`;
    summary.failed_runs.push({
      model,
      docker_image: image,
      status: "FAILURE",
      machine_name: machineName,
      error: reason,
    });
    emit({
      type: "run:done",
      model,
      image,
      status: "FAILURE",
      performance: "",
      metric: "",
      durationSec: 0,
      reason,
      logFile,
    });
  };
  await journal?.planned(
    target.name,
    plan.map(({ image, model }) => ({ image, model: model.name })),
  );
  emit({ type: "run:planned", models: plan.map(({ image, model }) => ({ model: model.name, image })) });

  const summary: ExecutionSummary = { successful_runs: [], failed_runs: [], total_execution_time: 0 };
  const outcomes: ModelRunOutcome[] = [];
  let interrupted = false;
  const skipped: Record<string, unknown>[] = [];

  // finished containers are removed in the background while the next model runs; all are gone
  // before the phase returns (or throws)
  const removals: Promise<void>[] = [];
  const removeContainer = (id: string) => {
    removals.push(
      target.endpoint.docker
        .getContainer(id)
        .remove({ force: true })
        .then(
          () => {},
          () => {},
        ),
    );
  };
  try {
    for (const { image, info, model } of plan) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      // no longer followed (detached, or the node is gone): what has not started is left to a resume
      if (options.abandon?.aborted) break;
      const recorded = journal?.entry(target.name, image);
      if (recorded?.state === "done") {
        emit({
          type: "log",
          level: "info",
          message: `${model.name}: already finished in this run (${recorded.status ?? "done"})`,
        });
        // the CLI may have died between recording the results and removing the container
        if (recorded.container && !options.keepAlive) removeContainer(recorded.container.id);
        continue;
      }
      const resume =
        recorded?.state === "running" && recorded.container
          ? { containerId: recorded.container.id, startedAt: recorded.container.startedAt }
          : undefined;
      const logFile = path.join(options.outputDir, runLogName(model.name, image));
      const rowInput: RowInput = {
        model,
        info,
        runtime,
        machineName,
        env,
        durationSec: 0,
        dataname: "",
        providerType: "",
      };
      const skip = skipReason(model, runtime.facts.architecture, options);
      if (skip) {
        const outcome = {
          model: model.name,
          image,
          status: "SKIPPED" as const,
          performance: "",
          metric: "",
          durationSec: 0,
          reason: skip,
        };
        outcomes.push({ ...outcome, rows: [] });
        skipped.push({ model: model.name, docker_image: image, status: "SKIPPED", error: skip });
        // the original records a SKIPPED row for an architecture skip, and nothing for a deprecated model
        if (!model.is_deprecated || options.ignoreDeprecated) {
          await appendPerfRows(options.perfCsv, [perfRow(rowInput, model.name, "", "", "SKIPPED")]);
        }
        await journal?.done(target.name, image, model.name);
        emit({ type: "run:done", ...outcome });
        continue;
      }
      const finish = async (outcome: Omit<ModelRunOutcome, "rows">, rows: PerfRow[]) => {
        const full: ModelRunOutcome = { ...outcome, rows };
        outcomes.push(full);
        await journal?.collecting(target.name, image, model.name, outcome.status, outcome.reason, rows);
        if (rows.length > 0) {
          if (!(await rowsAlreadyWritten(options.perfCsv, rows))) {
            await appendPerfRows(options.perfCsv, rows);
            options.onResults?.(rows, {
              node: target.name === "local" ? undefined : target.name,
              logFile: outcome.logFile,
            });
          }
          await writePerfEntryFiles(options.outputDir, rows);
        }
        await journal?.done(target.name, image, model.name);
        const entry = {
          ...info,
          model: model.name,
          docker_image: image,
          status: outcome.status,
          performance: outcome.performance,
          metric: outcome.metric,
          test_duration: Number(outcome.durationSec.toFixed(3)),
          machine_name: machineName,
          run_log_file: outcome.logFile ? path.basename(outcome.logFile) : undefined,
          ...(outcome.reason ? { error: outcome.reason } : {}),
        };
        if (outcome.status === "SUCCESS") summary.successful_runs.push(entry);
        else if (outcome.status === "SKIPPED") skipped.push(entry);
        else summary.failed_runs.push(entry);
        summary.total_execution_time = Number(
          (summary.total_execution_time + outcome.durationSec).toFixed(3),
        );
        emit({ type: "run:done", ...outcome });
        if (options.summaryOutput)
          await writeJsonAtomic(options.summaryOutput, summary, executionSummarySchema);
      };
      // a model that failed before it produced anything: a FAILURE row with the reason
      const finishFailed = (reason: string, withLog?: string) =>
        finish(
          {
            model: model.name,
            image,
            status: "FAILURE",
            performance: "",
            metric: "",
            durationSec: 0,
            reason,
            ...(withLog ? { logFile: withLog } : {}),
          },
          [perfRow(rowInput, model.name, "", "", "FAILURE")],
        );

      if (recorded?.state === "collecting" && recorded.rows) {
        // the results were known before the interruption: write them, once
        const first = recorded.rows[0];
        await finish(
          {
            model: model.name,
            image,
            status: recorded.status ?? "FAILURE",
            performance: first?.performance ?? "",
            metric: first?.metric ?? "",
            durationSec: Number(first?.test_duration ?? 0),
            ...(recorded.reason ? { reason: recorded.reason } : {}),
          },
          recorded.rows,
        );
        // as above: the CLI died before the container went
        if (recorded.container && !options.keepAlive) removeContainer(recorded.container.id);
        continue;
      }

      let prepared: {
        spec: ReturnType<typeof buildContainerSpec> & { name: string };
        timeoutSec: number | undefined;
        layout: ReturnType<typeof scriptLayout>;
        data: Awaited<ReturnType<typeof planData>>;
      };
      try {
        const resolved = await traced(`${target.name} ${model.name} resolve image`, () =>
          resolveImage(target.endpoint, info, credentials, options.registry),
        );
        if (resolved.warning)
          emit({ type: "log", level: "warn", message: `${model.name}: ${resolved.warning}` });
        emit({
          type: "run:image",
          model: model.name,
          image,
          reference: resolved.reference,
          source: resolved.source,
        });
        const gpus = allocateGpus({
          nGpus: model.n_gpus,
          dockerGpus: runtime.context.docker_gpus,
          systemGpus: runtime.facts.ngpus,
          vendor: runtime.vendor,
          modelName: model.name,
        });
        const layout = scriptLayout(model);
        if (!(await target.fs.exists(path.posix.join(target.madRoot, model.scripts)))) {
          throw new Error(
            `model ${model.name}: its scripts path ${model.scripts} does not exist in the MAD root ${target.madRoot}${target.name === "local" ? "" : ` on ${target.name}`}`,
          );
        }
        const data = await planData(model, dataConfig, target, options.forceMirrorLocal);
        const args = splitShellWords(runtime.context.model_args ?? model.args);
        // on a node (possibly sharing a daemon with others) the node's name keeps container names apart
        const name =
          target.name === "local" ? containerName(image) : `${containerName(image)}.${target.name}`;
        const script = inContainerScript({
          modelDir: layout.modelDir,
          scriptsDir: layout.scriptsDir,
          script: layout.script,
          args,
          commandPrefix: composition.commandPrefix.join(" "),
          ...(model.url ? { gitUrl: model.url } : {}),
          preScripts: composition.preScripts.map((step) => ({
            path: step.path,
            args: splitShellWords(step.args),
          })),
          dataSteps: data?.steps ?? [],
          postScripts: composition.postScripts.map((step) => ({
            path: step.path,
            args: splitShellWords(step.args),
          })),
          skipModelRun: options.skipModelRun,
          keepAlive: options.keepAlive,
        });
        const spec = buildContainerSpec({
          image: resolved.reference,
          containerName: name,
          model,
          context: runtime.context,
          vendor: runtime.vendor,
          gpuIds: gpus.ids,
          systemFacts: runtime.facts,
          madRootHostPath: target.madRoot,
          cmd: ["sh", "-c", script, "madengine-run"],
          env: { ...(data?.env ?? {}), ...credentialEnv(model, credentials), ...composition.env },
          labels: {
            "org.madengine.model": model.name,
            "org.madengine.image": image,
            ...(options.runId ? { "org.madengine.run-id": options.runId } : {}),
          },
          mounts: data?.mounts ?? [],
          buildNumber: env.BUILD_NUMBER ?? "0",
          hostDevicesPresent: (device) => devices.has(device),
        });
        prepared = {
          spec: { ...spec, name },
          timeoutSec: effectiveTimeout(model, options.timeoutSec),
          layout,
          data,
        };
        rowInput.dataname = data?.dataname ?? "";
        rowInput.providerType = data?.providerType ?? "";
      } catch (error) {
        await finishFailed(redactor.redact(error instanceof Error ? error.message : String(error)));
        continue;
      }

      if (model.multiple_results && !resume) {
        // a results file left by an earlier run must not pass for this run's results
        for (const stale of [
          path.posix.join(target.madRoot, prepared.layout.modelDir, model.multiple_results),
          path.posix.join(target.madRoot, model.multiple_results),
        ]) {
          await target.fs.remove(stale);
        }
      }
      const log = new RunLogWriter(logFile, redactor);
      log.line(
        `::madengine:: model ${model.name}, image ${prepared.spec.Image}, container ${prepared.spec.name}`,
      );
      emit({ type: "run:start", model: model.name, image, logFile, timeoutSec: prepared.timeoutSec });
      let result: Awaited<ReturnType<typeof runModelContainer>>;
      const containerStarted = performance.now();
      try {
        result = await runModelContainer({
          endpoint: target.endpoint,
          spec: prepared.spec,
          log,
          timeoutSec: prepared.timeoutSec,
          keepAlive: options.keepAlive,
          onOutput: options.onOutput ? (chunk) => options.onOutput!(model.name, chunk) : undefined,
          signal: options.signal,
          abandon: options.abandon,
          resume,
          deferRemoval: journal !== undefined,
          onCreated: (containerId) =>
            journal?.started(target.name, image, model.name, {
              name: prepared.spec.name,
              id: containerId,
              startedAt: new Date().toISOString(),
              ...(prepared.timeoutSec !== undefined ? { timeoutSec: prepared.timeoutSec } : {}),
            }),
        });
      } catch (error) {
        await log.close().catch(() => {});
        const reason = redactor.redact(error instanceof Error ? error.message : String(error));
        if (options.isTargetLost?.()) {
          reportLost(model.name, image, reason, logFile);
          break;
        }
        await finishFailed(reason, logFile);
        if (!(error instanceof ContainerNameInUseError) && /cannot reach the Docker daemon/.test(reason))
          break;
        continue;
      }
      await log.close().catch(() => {});
      trace(`${target.name} ${model.name} container`, containerStarted);
      if (options.isTargetLost?.()) {
        // the container may well still be running there: leave it (and its journal entry) for --resume
        reportLost(model.name, image, result.daemonError ?? "connection lost", logFile);
        break;
      }
      rowInput.durationSec = result.modelSeconds;
      rowInput.gitCommit = result.gitCommit ?? "";
      if (result.interrupted) interrupted = true;

      let status: RunStatus = "SUCCESS";
      let reason: string | undefined;
      const modelExit = result.modelExitCode ?? result.exitCode;
      if (result.daemonError)
        [status, reason] = ["FAILURE", `Docker daemon failed during the run: ${result.daemonError}`];
      else if (result.timedOut) [status, reason] = ["FAILURE", `timeout after ${prepared.timeoutSec} s`];
      else if (result.interrupted) {
        const why = options.signal?.reason;
        [status, reason] = ["FAILURE", typeof why === "string" ? why : "interrupted"];
      } else if (modelExit !== 0 && modelExit !== undefined)
        [status, reason] = ["FAILURE", `exit code ${modelExit}`];

      let rows: PerfRow[] = [];
      let performanceText = "";
      let metric = "";
      if (options.skipModelRun) {
        status = "SKIPPED";
        reason = "--skip-model-run";
      } else if (model.multiple_results) {
        const candidates = [
          path.posix.join(target.madRoot, prepared.layout.modelDir, model.multiple_results),
          path.posix.join(target.madRoot, model.multiple_results),
        ];
        let file: string | undefined;
        for (const candidate of candidates) {
          if (await target.fs.exists(candidate)) {
            file = candidate;
            break;
          }
        }
        if (status === "SUCCESS" && !file)
          [status, reason] = ["FAILURE", `multiple results file ${model.multiple_results} was not written`];
        if (file && status === "SUCCESS") {
          try {
            const parsed = parseMultipleResults(await target.fs.readText(file), model.multiple_results);
            rows = parsed.rows.map((row) =>
              perfRow(
                rowInput,
                `${model.name}_${row.model}`,
                row.performance,
                row.metric,
                isNumericPerformance(row.performance) ? "SUCCESS" : "FAILURE",
              ),
            );
            if (rows.length === 0)
              [status, reason] = ["FAILURE", `${model.multiple_results} has no result rows`];
            else if (parsed.problems.length > 0) [status, reason] = ["FAILURE", parsed.problems.join("; ")];
            performanceText = model.multiple_results;
          } catch (error) {
            [status, reason] = ["FAILURE", (error as Error).message];
          }
        }
      } else if (status === "SUCCESS") {
        if (!result.performance)
          [status, reason] = ["FAILURE", "no performance line (expected 'performance: <value> <metric>')"];
        else [performanceText, metric] = [result.performance.value, result.performance.metric];
      } else if (result.performance) {
        [performanceText, metric] = [result.performance.value, result.performance.metric];
      }
      if (rows.length === 0 && status !== "SKIPPED")
        rows = [perfRow(rowInput, model.name, performanceText, metric, status)];

      if (options.keepAlive && !result.timedOut && !result.interrupted) {
        emit({
          type: "run:kept",
          model: model.name,
          containerId: result.containerId,
          commands: [
            `docker exec -it ${prepared.spec.name} sh`,
            `docker stop ${prepared.spec.name}`,
            `docker rm -f ${prepared.spec.name}`,
          ],
        });
      }
      // the run directory goes while the results are recorded (the next model's container reuses it,
      // so it is awaited before this iteration ends)
      const modelDirRemoved =
        (options.keepAlive && !result.timedOut && !result.interrupted) || options.keepModelDir
          ? undefined
          : target.fs.remove(path.posix.join(target.madRoot, prepared.layout.modelDir)).catch(() => {});
      const finishStarted = performance.now();
      try {
        await finish(
          {
            model: model.name,
            image,
            status,
            performance: performanceText,
            metric,
            durationSec: result.modelSeconds,
            ...(reason ? { reason } : {}),
            logFile,
          },
          rows,
        );
      } finally {
        // removed once its results are recorded (or recording failed for good, e.g. a refused perf.csv)
        if (journal && result.removable) removeContainer(result.containerId);
        await modelDirRemoved;
      }
      trace(`${target.name} ${model.name} finish+remove`, finishStarted);
      if (interrupted) break;
    }
  } finally {
    await Promise.all(removals);
  }

  if (skipped.length > 0) (summary as Record<string, unknown>).skipped_runs = skipped;
  (summary as Record<string, unknown>).wall_time = Number(((performance.now() - started) / 1000).toFixed(3));
  if (interrupted) (summary as Record<string, unknown>).interrupted = true;
  if (options.summaryOutput) await writeJsonAtomic(options.summaryOutput, summary, executionSummarySchema);
  const failed = summary.failed_runs.length > 0;
  return {
    summary,
    outcomes,
    interrupted,
    exitCode: interrupted ? ExitCode.FAILURE : failed ? ExitCode.RUN_FAILURE : ExitCode.SUCCESS,
  };
}
