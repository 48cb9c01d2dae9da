import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { ExitCode, MadError } from "../../../shared/errors.js";
import type { Context } from "../../../shared/schemas/context.js";
import type { BuildSummary } from "../../../shared/schemas/summaries.js";
import { workflowSummarySchema } from "../../../shared/schemas/summaries.js";
import { runBuildPhase } from "../../engine/build/buildPhase.js";
import { detectHostGpus } from "../../engine/context/gpu/detectHostGpus.js";
import { loadContext } from "../../engine/context/loadContext.js";
import { connectDocker } from "../../engine/docker/client.js";
import { loadManifest } from "../../engine/run/manifestFile.js";
import { junitXml } from "../../engine/run/results/junit.js";
import { newRunId, RunJournal, runStateFile } from "../../engine/run/runJournal.js";
import { type RunPhaseOptions, type RunPhaseResult, runRunPhase } from "../../engine/run/runPhase.js";
import { deepMerge, type JsonObject } from "../../engine/util/deepMerge.js";
import { writeJsonAtomic } from "../../engine/util/jsonFiles.js";
import { type AuditFacts, audited, newAuditFacts } from "../auditTrail.js";
import { givenOptions, tagsOf } from "../options.js";
import { BuildProgressView } from "../output/buildProgress.js";
import { ttyPassphrasePrompt } from "../output/passphrasePrompt.js";
import { RunProgressView } from "../output/runProgress.js";
import { bold, dim } from "../output/style.js";
import { renderTable } from "../output/table.js";

export interface RunCommandOptions {
  madRoot?: string;
  tags?: string[];
  manifestFile?: string;
  registry?: string;
  timeout?: string;
  additionalContext?: string;
  additionalContextFile?: string;
  keepAlive?: boolean;
  keepModelDir?: boolean;
  skipModelRun?: boolean;
  cleanDockerCache?: boolean;
  manifestOutput: string;
  summaryOutput?: string;
  liveOutput?: boolean;
  output: string;
  dataConfig?: string;
  toolsConfig?: string;
  forceMirrorLocal?: string;
  ignoreDeprecated?: boolean;
  disableSkipGpuArch?: boolean;
  junitXml?: string;
  jobs?: string;
  nodes?: string;
  node?: string[];
  label?: string[];
  strategy?: "replicate" | "distribute";
  maxParallel?: string;
  trustNewHosts?: boolean;
  knownHosts?: string;
  sshKeepalive?: string;
  resume?: string;
}

/** The options a resume repeats (saved in the run state; the context without MAD_SECRETS values). */
const RESUMED_OPTIONS = [
  "madRoot",
  "manifestFile",
  "registry",
  "timeout",
  "keepAlive",
  "keepModelDir",
  "skipModelRun",
  "output",
  "summaryOutput",
  "dataConfig",
  "toolsConfig",
  "forceMirrorLocal",
  "ignoreDeprecated",
  "disableSkipGpuArch",
  "junitXml",
  "nodes",
  "node",
  "label",
  "strategy",
  "maxParallel",
  "trustNewHosts",
  "knownHosts",
  "sshKeepalive",
  "liveOutput",
] as const;

function withoutSecrets(context: Context, secretNames: readonly string[]): Context {
  const strip = (map: Record<string, unknown> | undefined) =>
    map && Object.fromEntries(Object.entries(map).filter(([key]) => !secretNames.includes(key)));
  return {
    ...context,
    ...(context.docker_build_arg
      ? { docker_build_arg: strip(context.docker_build_arg) as Record<string, string> }
      : {}),
    ...(context.docker_env_vars
      ? { docker_env_vars: strip(context.docker_env_vars) as Record<string, string> }
      : {}),
  };
}

interface JournalChoice {
  journal: RunJournal;
  resumed: boolean;
}

async function openOrCreateJournal(
  options: RunCommandOptions,
  manifestPath: string,
  override: Context,
  secretNames: readonly string[],
): Promise<JournalChoice> {
  if (options.resume) return { journal: await RunJournal.open(process.cwd(), options.resume), resumed: true };
  const runId = newRunId();
  const saved = Object.fromEntries(
    RESUMED_OPTIONS.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]),
  );
  const journal = await RunJournal.create(runStateFile(process.cwd(), runId), runId, {
    manifestFile: manifestPath,
    madRoot: path.resolve(options.madRoot ?? process.cwd()),
    perfCsv: path.resolve(options.output),
    outputDir: process.cwd(),
    ...(options.nodes ? { nodesFile: path.resolve(options.nodes) } : {}),
    ...(options.strategy ? { strategy: options.strategy } : {}),
    options: { ...saved, manifestFile: manifestPath },
    contextOverride: withoutSecrets(override, secretNames),
  });
  process.stdout.write(
    `run ${runId} (state: ${path.relative(process.cwd(), journal.file)}; if interrupted: madengine-cli run --resume ${runId})\n`,
  );
  return { journal, resumed: false };
}

/** rocEnvTool (the original's system-environment capture) is not shipped with this madengine-cli. */
const NOT_SUPPORTED_IN_RUN = ["sysEnvDetails"];

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const timeout = Number(value);
  if (!Number.isInteger(timeout) || timeout < -1) {
    throw new MadError(
      "INVALID_ARGS",
      `--timeout ${value}: expected whole seconds, 0 for none or -1 for the default`,
      {
        hint: "e.g. --timeout 3600",
      },
    );
  }
  return timeout === -1 ? undefined : timeout;
}

/** Ctrl-C (or SIGTERM) stops the running container cleanly; a second one exits at once. */
function interruptController(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping the running container (again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

async function writeJunit(file: string, result: RunPhaseResult): Promise<void> {
  const cases = await Promise.all(
    result.outcomes.map(async (outcome) => {
      let output: string | undefined;
      if (outcome.status !== "SUCCESS" && outcome.logFile && existsSync(outcome.logFile)) {
        output = (await readFile(outcome.logFile, "utf8")).split("\n").slice(-40).join("\n");
      }
      return {
        name: outcome.model,
        className: `madengine.${outcome.image}`,
        timeSec: outcome.durationSec,
        status: outcome.status,
        ...(outcome.reason ? { message: outcome.reason } : {}),
        ...(output ? { output } : {}),
      };
    }),
  );
  await writeFile(file, junitXml("madengine", cases), "utf8");
}

function printResults(result: RunPhaseResult, perfCsv: string): void {
  const rows = result.outcomes.flatMap((outcome) =>
    outcome.rows.length > 1
      ? outcome.rows.map((row) => ({
          model: row.model,
          status: row.status,
          perf: `${row.performance} ${row.metric}`,
          secs: row.test_duration,
          reason: outcome.reason ?? "",
        }))
      : [
          {
            model: outcome.model,
            status: outcome.status,
            perf: outcome.performance ? `${outcome.performance} ${outcome.metric}` : "",
            secs: outcome.durationSec.toFixed(1),
            reason: outcome.reason ?? "",
          },
        ],
  );
  process.stdout.write(
    `\n${renderTable(
      rows,
      [
        { header: "MODEL", value: (row) => row.model },
        { header: "STATUS", value: (row) => row.status },
        { header: "PERFORMANCE", value: (row) => row.perf },
        { header: "SECONDS", value: (row) => row.secs },
        { header: "REASON", value: (row) => row.reason, shrinkable: true },
      ],
      process.stdout.isTTY ? process.stdout.columns : undefined,
    )}\n`,
  );
  const { summary } = result;
  process.stdout.write(
    `${bold(`${summary.successful_runs.length} succeeded, ${summary.failed_runs.length} failed`)}${result.interrupted ? " (interrupted)" : ""}; results appended to ${dim(perfCsv)}\n`,
  );
}

/** `run`, with an audit log entry at its end (failures included). */
export async function runRunCommand(requested: RunCommandOptions, command: Command): Promise<number> {
  const facts = newAuditFacts();
  return audited("run", facts, () => runCommand(requested, command, facts));
}

async function runCommand(
  requested: RunCommandOptions,
  command: Command,
  facts: AuditFacts,
): Promise<number> {
  let options = requested;
  let resumedOverride: Context | undefined;
  if (requested.resume) {
    // a resume repeats the original request; only the MAD_SECRETS values come from this environment
    const journal = await RunJournal.open(process.cwd(), requested.resume);
    if (journal.finished) {
      process.stdout.write(`run ${journal.runId} already finished; nothing to resume\n`);
      return ExitCode.SUCCESS;
    }
    const saved = (journal.request.options ?? {}) as Partial<RunCommandOptions>;
    options = {
      ...saved,
      manifestOutput: requested.manifestOutput,
      output: saved.output ?? requested.output,
      resume: requested.resume,
    };
    resumedOverride = journal.request.contextOverride as Context | undefined;
    process.stdout.write(
      `resuming run ${journal.runId} (started ${journal.request.manifestFile ? `from ${journal.request.manifestFile}` : ""})\n`,
    );
  }
  const timeoutSec = parseTimeout(options.timeout);
  const tags = tagsOf(options.tags);
  const madRoot = options.madRoot ?? process.cwd();
  const loaded = await loadContext({
    additionalContext: options.additionalContext,
    additionalContextFile: options.additionalContextFile,
  });
  const secretNames = loaded.secretNames;
  const override: Context = resumedOverride
    ? (deepMerge(resumedOverride as JsonObject, loaded.context as JsonObject) as Context)
    : loaded.context;
  for (const flag of givenOptions(command, NOT_SUPPORTED_IN_RUN)) {
    process.stderr.write(
      `note: ${flag} is accepted for compatibility; rocEnvTool capture is not part of this madengine-cli\n`,
    );
  }
  const endpoint = connectDocker();
  const manifestGiven = Boolean(options.manifestFile);
  const manifestExists = manifestGiven && existsSync(options.manifestFile!);
  if (manifestGiven && !manifestExists && tags.length === 0) {
    throw new MadError("FILE_NOT_FOUND", `manifest ${options.manifestFile} not found`, {
      hint: "build first (madengine-cli build), or add --tags to build and run in one go",
    });
  }

  let buildSummary: BuildSummary | undefined;
  let manifestPath: string;
  if (manifestExists) {
    if (tags.length > 0)
      process.stderr.write("note: --tags is ignored: the manifest decides which models run\n");
    for (const flag of givenOptions(command, ["cleanDockerCache", "manifestOutput", "jobs"])) {
      process.stderr.write(`note: ${flag} only applies when run also builds (no --manifest-file)\n`);
    }
    manifestPath = path.resolve(options.manifestFile!);
    facts.started = true;
  } else {
    if (manifestGiven)
      process.stderr.write(
        `warning: manifest ${options.manifestFile} not found: building and running --tags ${tags.join(" ")}\n`,
      );
    if (tags.length === 0) {
      throw new MadError("INVALID_ARGS", "nothing to run: give --manifest-file, or --tags to build and run", {
        hint: 'e.g. madengine-cli run --tags dummies -c \'{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}\'',
      });
    }
    facts.started = true;
    facts.manifestFile = path.resolve(options.manifestOutput);
    const buildContext: Context = { ...override };
    if (!buildContext.gpu_vendor) buildContext.gpu_vendor = (await detectHostGpus()).vendor;
    const view = new BuildProgressView({ liveOutput: options.liveOutput === true });
    let built: Awaited<ReturnType<typeof runBuildPhase>>;
    try {
      built = await runBuildPhase(
        {
          madRoot,
          tags,
          context: buildContext,
          contextSecretNames: secretNames,
          registry: options.registry,
          cleanDockerCache: options.cleanDockerCache === true,
          manifestOutput: path.resolve(options.manifestOutput),
          logDir: process.cwd(),
          jobs: options.jobs ? Number(options.jobs) : undefined,
          endpoint,
        },
        view.handle,
      );
    } finally {
      view.finish();
    }
    buildSummary = built.summary;
    if (built.summary.failed_builds.length > 0) {
      process.stderr.write(
        `error: ${built.summary.failed_builds.length} build(s) failed; the run phase was skipped\n`,
      );
      for (const failure of built.summary.failed_builds)
        process.stderr.write(`  ${failure.model}: ${failure.error.split("\n")[0]}\n`);
      if (options.summaryOutput) {
        await writeJsonAtomic(
          path.resolve(options.summaryOutput),
          {
            build_phase: built.summary,
            run_phase: { successful_runs: [], failed_runs: [], total_execution_time: 0 },
            overall_success: false,
          },
          workflowSummarySchema,
        );
      }
      return ExitCode.BUILD_FAILURE;
    }
    manifestPath = path.resolve(options.manifestOutput);
  }

  facts.manifestFile = manifestPath;
  facts.nodes = options.node ?? [];
  const manifest = await loadManifest(manifestPath);
  const { journal } = await openOrCreateJournal(options, manifestPath, override, secretNames);
  // the results history (SQLite) gets every model's rows as perf.csv does
  const { openRunRecorder } = await import("../../engine/store/runRecorder.js");
  const recorder = openRunRecorder(
    {
      id: journal.runId,
      manifestFile: manifestPath,
      context: withoutSecrets(override, secretNames),
      ...(options.nodes ? { nodes: { file: path.resolve(options.nodes), names: options.node ?? null } } : {}),
    },
    (message) => process.stderr.write(`warning: ${message}\n`),
  );
  const historyStatus = (code: number) =>
    code === ExitCode.SUCCESS ? "success" : code === ExitCode.FAILURE ? "interrupted" : "failure";
  if (options.nodes) {
    const code = await runOnNodes(options, {
      manifest,
      madRoot,
      override,
      secretNames,
      timeoutSec,
      buildSummary,
      journal,
      onResults: (rows, extra) => recorder.results(rows, extra),
      onNodes: (names) => {
        facts.nodes = names;
      },
    });
    if (journal.entries().every((entry) => entry.state === "done")) await journal.finish();
    recorder.finish(historyStatus(code));
    return code;
  }
  const view = new RunProgressView();
  const interrupt = interruptController();
  let result: RunPhaseResult;
  try {
    result = await runRunPhase(
      {
        madRoot,
        manifest,
        contextOverride: override,
        contextSecretNames: secretNames,
        registry: options.registry,
        timeoutSec,
        keepAlive: options.keepAlive === true,
        keepModelDir: options.keepModelDir === true,
        skipModelRun: options.skipModelRun === true,
        ignoreDeprecated: options.ignoreDeprecated === true,
        disableSkipGpuArch: options.disableSkipGpuArch === true,
        perfCsv: path.resolve(options.output),
        // the workflow summary wraps the execution summary, so only a manifest run writes it directly
        summaryOutput:
          options.summaryOutput && !buildSummary ? path.resolve(options.summaryOutput) : undefined,
        dataConfig: options.dataConfig,
        toolsConfig: options.toolsConfig,
        forceMirrorLocal: options.forceMirrorLocal,
        outputDir: process.cwd(),
        endpoint,
        onOutput: options.liveOutput ? view.output : undefined,
        signal: interrupt.signal,
        journal,
        runId: journal.runId,
        onResults: (rows, extra) => recorder.results(rows, extra),
      },
      view.handle,
    );
  } finally {
    interrupt.dispose();
    view.finish();
  }
  if (journal.entries().every((entry) => entry.state === "done")) await journal.finish();
  recorder.finish(historyStatus(result.exitCode));
  if (buildSummary && options.summaryOutput) {
    await writeJsonAtomic(
      path.resolve(options.summaryOutput),
      {
        build_phase: buildSummary,
        run_phase: result.summary,
        overall_success: result.exitCode === ExitCode.SUCCESS,
      },
      workflowSummarySchema,
    );
  }
  if (options.junitXml) await writeJunit(path.resolve(options.junitXml), result);
  printResults(result, options.output);
  return result.exitCode;
}

interface NodesRunInput {
  journal: RunJournal;
  /** The nodes selected (for the audit log). */
  onNodes(names: string[]): void;
  onResults: NonNullable<RunPhaseOptions["onResults"]>;
  manifest: Awaited<ReturnType<typeof loadManifest>>;
  madRoot: string;
  override: Context;
  secretNames: string[];
  timeoutSec: number | undefined;
  buildSummary: BuildSummary | undefined;
}

/** `run --nodes`: the manifest on GPU nodes over SSH, with one merged perf.csv. */
async function runOnNodes(options: RunCommandOptions, input: NodesRunInput): Promise<number> {
  const { selectNodes, parseLabelSelectors, readNodesFile } = await import(
    "../../engine/remote/inventory/nodesFile.js"
  );
  const { dispatchRun } = await import("../../engine/remote/dispatch.js");
  const { DispatchProgressView } = await import("../output/dispatchProgress.js");
  const labels = options.label ? parseLabelSelectors(options.label) : undefined;
  const nodes = await selectNodes(options.nodes!, options.node, labels);
  input.onNodes(nodes.map((node) => node.name));
  const all = (await readNodesFile(options.nodes!)).nodes;
  const maxParallel = options.maxParallel === undefined ? undefined : Number(options.maxParallel);
  if (maxParallel !== undefined && (!Number.isInteger(maxParallel) || maxParallel < 1)) {
    throw new MadError(
      "INVALID_ARGS",
      `--max-parallel ${options.maxParallel}: expected a whole number of at least 1`,
      {},
    );
  }
  if (options.keepAlive) process.stderr.write("note: --keep-alive keeps the containers on the nodes\n");
  const view = new DispatchProgressView();
  const interrupt = interruptController();
  let result: Awaited<ReturnType<typeof dispatchRun>>;
  try {
    result = await dispatchRun(
      {
        madRoot: input.madRoot,
        manifest: input.manifest,
        nodes,
        strategy: options.strategy ?? "replicate",
        maxParallel,
        connect: {
          policy: { knownHostsFile: options.knownHosts, trustNewHosts: options.trustNewHosts === true },
          askPassphrase: ttyPassphrasePrompt(),
          ...(options.sshKeepalive
            ? { keepaliveIntervalMs: Number(options.sshKeepalive) * 1000, keepaliveCountMax: 3 }
            : {}),
          nodesByName: new Map(all.map((node) => [node.name, node])),
        },
        contextOverride: input.override,
        contextSecretNames: input.secretNames,
        registry: options.registry,
        timeoutSec: input.timeoutSec,
        keepAlive: options.keepAlive === true,
        keepModelDir: options.keepModelDir === true,
        skipModelRun: options.skipModelRun === true,
        ignoreDeprecated: options.ignoreDeprecated === true,
        disableSkipGpuArch: options.disableSkipGpuArch === true,
        perfCsv: path.resolve(options.output),
        summaryOutput:
          options.summaryOutput && !input.buildSummary ? path.resolve(options.summaryOutput) : undefined,
        dataConfig: options.dataConfig,
        toolsConfig: options.toolsConfig,
        forceMirrorLocal: options.forceMirrorLocal,
        outputDir: process.cwd(),
        onOutput: options.liveOutput ? view.output : undefined,
        signal: interrupt.signal,
        journal: input.journal,
        runId: input.journal.runId,
        onResults: input.onResults,
      },
      view.handle,
    );
  } finally {
    interrupt.dispose();
    view.finish();
  }
  if (input.buildSummary && options.summaryOutput) {
    await writeJsonAtomic(
      path.resolve(options.summaryOutput),
      {
        build_phase: input.buildSummary,
        run_phase: result.summary,
        overall_success: result.exitCode === ExitCode.SUCCESS,
      },
      workflowSummarySchema,
    );
  }
  const merged: RunPhaseResult = {
    summary: result.summary,
    outcomes: result.results.flatMap(({ node, result: nodeResult }) =>
      nodeResult.outcomes.map((outcome) => ({ ...outcome, model: `${node}/${outcome.model}` })),
    ),
    interrupted: result.interrupted,
    exitCode: result.exitCode,
  };
  if (options.junitXml) await writeJunit(path.resolve(options.junitXml), merged);
  printResults(merged, options.output);
  const nodeLines = Object.entries(result.summary.nodes).map(
    ([name, report]) =>
      `  ${name}: ${report.status}, ${report.successful} succeeded, ${report.failed} failed${report.error ? ` (${report.error})` : ""}`,
  );
  process.stdout.write(`nodes:\n${nodeLines.join("\n")}\n`);
  return result.exitCode;
}
