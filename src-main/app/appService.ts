import { randomBytes } from "node:crypto";
import { existsSync, type FSWatcher, readFileSync, watch } from "node:fs";
import { cp, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CallArgs, CallName, CallResult, JobItem, JobSummary } from "../../shared/contract.js";
import { contractEvents } from "../../shared/contract.js";
import { ExitCode, MadError, toErrorInfo } from "../../shared/errors.js";
import type { BuildEvent, DispatchEvent, RunEvent } from "../../shared/events.js";
import type { Context } from "../../shared/schemas/context.js";
import type { JobRecord, JobResumeInfo } from "../../shared/schemas/jobRecord.js";
import type { Node } from "../../shared/schemas/nodes.js";
import { PERF_CSV_COLUMNS, type PerfRow, perfRowSchema } from "../../shared/schemas/perf.js";
import { validateWithSchema } from "../../shared/schemas/validate.js";
import { type BuildPhaseResult, runBuildPhase } from "../engine/build/buildPhase.js";
import { detectHostGpus } from "../engine/context/gpu/detectHostGpus.js";
import { loadContext, redactContext, requireBuildTarget } from "../engine/context/loadContext.js";
import { selectModels } from "../engine/discovery/selectModels.js";
import { discoverModels } from "../engine/discovery/zoo.js";
import { connectDocker, type DockerEndpoint } from "../engine/docker/client.js";
import { type DispatchStrategy, dispatchRun } from "../engine/remote/dispatch.js";
import { parseLabelSelectors, readNodesFile, selectNodes } from "../engine/remote/inventory/nodesFile.js";
import { loadManifest } from "../engine/run/manifestFile.js";
import { readPerfCsv } from "../engine/run/results/perfCsv.js";
import { newRunId, RunJournal, runStateFile } from "../engine/run/runJournal.js";
import { runRunPhase } from "../engine/run/runPhase.js";
import { appendAudit, auditEntryFor } from "../engine/store/audit.js";
import { defaultDataDir, defaultResultsDbPath } from "../engine/store/paths.js";
import { openRunRecorder, type RunRecorder } from "../engine/store/runRecorder.js";
import { bundledZooPath, packageRoot } from "../engine/util/packagePaths.js";
import type { AppPart, AppPartContext } from "./appPart.js";
import {
  type CallHandlers,
  type CallResponse,
  ContractFailure,
  invokeCall,
  type ParsedCallArgs,
  toContractError,
} from "./contractCalls.js";
import { DispatchProgress } from "./dispatchProgress.js";
import {
  EventHub,
  type EventMessage,
  type EventSink,
  type EventSubscription,
  type SubscriberLimits,
} from "./eventHub.js";
import { previewExport, saveExport } from "./exportFiles.js";
import { ALL_NODES_LOG_SOURCE, InterleavedLog } from "./interleavedLog.js";
import { JobLog } from "./jobLog.js";
import { JOB_LOG_SOURCE, JobProgress, type ProgressTable } from "./jobProgress.js";
import { JOB_RECORD_FILE, JobRecordWriter, readJobRecords } from "./jobRecords.js";
import { readLogLines } from "./logRead.js";
import { LogTail } from "./logTail.js";
import { createNodesPart } from "./nodes/nodesPart.js";
import { createResultsPart } from "./results/resultsPart.js";

export interface AppServiceOptions {
  /**
   * Where jobs write: `<workspaceDir>/jobs/<job id>/` (manifest, summaries, perf.csv, logs).
   * Default `<os tmpdir>/madengine-control-center`; the desktop app passes its user data directory.
   */
  workspaceDir?: string;
  /** The MAD root used when a call names none (default: the bundled example zoo). */
  defaultMadRoot?: string;
  /** Environment for the engine: DOCKER_HOST, MAD_SECRETS*, credentials (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Batch window for log lines and job updates, in ms (default 16). */
  batchMs?: number;
  /** Queue bounds for slow subscribers. */
  subscriberLimits?: SubscriberLimits;
  /**
   * The user's data: `results.db`, `nodes.json`, the audit log. Default $XDG_DATA_HOME (or
   * ~/.local/share)/madengine-control-center; the desktop app passes its user data directory.
   */
  dataDir?: string;
  /** The results history (default `<dataDir>/results.db`; $MADENGINE_RESULTS_DB when no dataDir is given). */
  resultsDbFile?: string;
  /** The node inventory (default `<dataDir>/nodes.json`). */
  nodesFile?: string;
  /** known_hosts for nodes that name none (default ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /**
   * Runs still going when the service closes are left running (their containers too) and picked
   * up where they are by the next service on the same workspace (default true). False: they are
   * cancelled, as a user's cancel would.
   */
  resumeRuns?: boolean;
}

type JobState = JobSummary["state"];

interface JobRuntime {
  summary: JobSummary;
  /** The rows and log sources the job shows (`progress`, or `dispatch` for a run on GPU nodes). */
  table: ProgressTable;
  /** Rows of a build, or of a run on this machine. */
  progress: JobProgress;
  /** Rows of a run on GPU nodes. */
  dispatch: DispatchProgress | undefined;
  /** Leaves the run going (containers stay, the journal says running) for the next service. */
  detach: AbortController;
  /** The job ended by detaching: its record still says running, so the next service resumes it. */
  detached: boolean;
  /** One per node of a run on GPU nodes: cancels that node only. */
  nodeCancels: Map<string, AbortController>;
  /** Node -> log source of the model running there now. */
  nodeRunning: Map<string, string>;
  record: JobRecordWriter;
  /** What a resume repeats, once the run phase has a journal. */
  resume: JobResumeInfo | undefined;
  /** Rows as the job showed them before the app restarted: finished rows keep their outcome. */
  restoredItems: Map<string, JobItem> | undefined;
  abort: AbortController;
  cancelRequested: boolean;
  ended: boolean;
  log: JobLog;
  /** Log source -> its tail. */
  tails: Map<string, LogTail>;
  /** File name in the output directory -> tail (file-system events name files). */
  tailsByFile: Map<string, LogTail>;
  watcher: FSWatcher | undefined;
  pollTimer: NodeJS.Timeout | undefined;
  updateTimer: NodeJS.Timeout | undefined;
  /** Log source of the model now running (its output callback names only the model). */
  runningSource: string | undefined;
  done: Promise<void>;
}

interface RunInput {
  madRoot: string;
  manifestPath: string;
  override: Context;
  secretNames: readonly string[];
  timeoutSec: number | undefined;
  keepAlive: boolean;
  /** The journal of a run picked up again after a restart. */
  journal: RunJournal | undefined;
}

interface RemoteRunInput {
  nodes: Node[];
  strategy: DispatchStrategy;
  maxParallel: number | undefined;
}

/** Thrown into the build phase (through its event listener) to stop it between images. */
class JobCancelled extends Error {
  constructor() {
    super("cancelled by the user");
  }
}

const MANIFEST_FILE = "build_manifest.json";
const CANCEL_REASON = "cancelled by the user";
/** After the last image of a cancelled build reports, its worker still saves the manifest and closes its log. */
const DOCKER_PING_TIMEOUT_MS = 5000;
const DEFAULT_LOG_READ_LINES = 10_000;
/** Ended jobs kept in the table (their files stay on disk); older ones are forgotten first. */
const MAX_ENDED_JOBS = 500;

function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as {
      version?: string;
    };
    return manifest.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

function notFound(message: string, hint: string): ContractFailure {
  return new ContractFailure({ code: "NOT_FOUND", message, hint });
}

/**
 * The application service: every call of the contract (shared/contract.ts) over the engine, a table
 * of jobs (builds and runs started from the app, in memory), and the events of those jobs. Plain
 * Node: the web bridge and the Electron IPC layer are thin adapters over `call` and `subscribe`.
 */
export class AppService {
  readonly workspaceDir: string;
  readonly defaultMadRoot: string;
  readonly dataDir: string;
  private readonly parts: AppPart<CallName>[];
  private readonly jobsDir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly batchMs: number;
  private readonly hub: EventHub;
  private readonly jobs = new Map<string, JobRuntime>();
  private readonly handlers: CallHandlers;
  private readonly version = packageVersion();
  private endpointCache: DockerEndpoint | undefined;
  private zooCopy: Promise<string> | undefined;
  private closed = false;
  private readonly resultsDbFile: string;
  private readonly nodesFile: string;
  private readonly knownHostsFile: string | undefined;
  private readonly resumeRuns: boolean;
  /** Jobs of earlier services on this workspace: listed, and runs picked up again. */
  private readonly restored: Promise<void>;

  constructor(options: AppServiceOptions = {}) {
    this.workspaceDir = path.resolve(
      options.workspaceDir ?? path.join(os.tmpdir(), "madengine-control-center"),
    );
    this.jobsDir = path.join(this.workspaceDir, "jobs");
    this.defaultMadRoot = path.resolve(options.defaultMadRoot ?? bundledZooPath());
    this.env = options.env ?? process.env;
    this.batchMs = options.batchMs ?? 16;
    this.hub = new EventHub(options.subscriberLimits);
    this.dataDir = path.resolve(options.dataDir ?? defaultDataDir(this.env));
    const partContext: AppPartContext = {
      env: this.env,
      workspaceDir: this.workspaceDir,
      dataDir: this.dataDir,
      resultsDbFile: path.resolve(
        options.resultsDbFile ??
          (options.dataDir ? path.join(this.dataDir, "results.db") : defaultResultsDbPath(this.env)),
      ),
      nodesFile: path.resolve(options.nodesFile ?? path.join(this.dataDir, "nodes.json")),
      knownHostsFile: options.knownHostsFile,
      publish: (message) => this.publish(message),
    };
    this.resultsDbFile = partContext.resultsDbFile;
    this.nodesFile = partContext.nodesFile;
    this.knownHostsFile = options.knownHostsFile;
    this.resumeRuns = options.resumeRuns ?? true;
    const results = createResultsPart(partContext);
    const nodes = createNodesPart(partContext);
    this.parts = [results, nodes] as AppPart<CallName>[];
    this.handlers = {
      ...results.handlers,
      ...nodes.handlers,
      "engine.status": () => this.engineStatus(),
      "zoo.discover": (args) => this.discover(args),
      "zoo.select": (args) => this.select(args),
      "context.validate": (args) => this.validateContext(args),
      "build.start": (args) => this.startBuild(args),
      "run.start": (args) => this.startRun(args),
      "jobs.list": async () => ({
        jobs: [...this.jobs.values()].reverse().map((job) => this.snapshot(job).job),
      }),
      "jobs.get": async ({ id }) => this.snapshot(this.job(id)),
      "jobs.cancel": async ({ id }) => ({ cancelled: this.cancel(this.job(id)) }),
      "jobs.cancelNode": async ({ id, node }) => ({ cancelled: this.cancelNode(this.job(id), node) }),
      "logs.read": (args) => this.readLog(args),
      "manifest.read": async ({ file }) => ({ manifest: await loadManifest(path.resolve(file)) }),
      "results.forJob": (args) => this.resultsForJob(args),
      // only the desktop app has a native folder picker (its Electron layer answers this call itself)
      "dialog.pickDirectory": async () => ({ supported: false }),
      "export.preview": (args) => previewExport(args, this.exportEnvironment()),
      "export.save": (args) => saveExport(args, this.exportEnvironment()),
    };
    this.restored = this.restoreJobs().catch((error: unknown) => {
      console.error("madengine Control Center: cannot restore the jobs of", this.jobsDir, error);
    });
  }

  /**
   * Runs one contract call: validates `args` with the call's schema, runs it, checks the result.
   * Never throws: failures are `{ ok: false, error }` (unknown name: UNKNOWN_CALL; bad arguments:
   * INVALID_ARGS with the JSON path; engine errors with their code and hint).
   */
  async call(name: string, args: unknown): Promise<CallResponse> {
    await this.restored;
    return invokeCall(this.handlers, name, args);
  }

  /** Resolves once the jobs of earlier services on this workspace are listed (and runs resumed). */
  whenRestored(): Promise<void> {
    return this.restored;
  }

  /** A typed call for in-process callers; throws ContractFailure with the error value. */
  async invoke<N extends CallName>(name: N, args: CallArgs<N>): Promise<CallResult<N>> {
    const response = await this.call(name, args);
    if (!response.ok) throw new ContractFailure(response.error);
    return response.result as CallResult<N>;
  }

  /** Receives every event from now on (nothing is replayed), through a bounded per-subscriber queue. */
  subscribe(sink: EventSink, limits?: SubscriberLimits): EventSubscription {
    return this.hub.subscribe(sink, limits);
  }

  /** Resolves when the job has ended (all its logs read and its last job.updated sent). */
  async whenJobEnds(id: string): Promise<JobSummary> {
    const job = this.job(id);
    await job.done;
    return this.snapshot(job).job;
  }

  /**
   * Cancels running jobs and waits for them to wind down (a run's container is killed at once; a
   * build finishes the images it has started), at most `timeoutMs`; then stops following logs.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.restored;
    const running = [...this.jobs.values()].filter((job) => !job.ended);
    for (const job of running) {
      // a run that reached its run phase has a journal: it can be left going and picked up again
      if (this.resumeRuns && job.resume && !job.cancelRequested) {
        job.log.line("the app is closing: the run goes on and is picked up when the app starts again");
        job.detach.abort("the app is closing");
      } else this.cancel(job);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running.map((job) => job.done)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const job of this.jobs.values()) {
      this.stopWatching(job);
      for (const tail of job.tails.values()) tail.stop();
      if (job.updateTimer) clearTimeout(job.updateTimer);
    }
    await Promise.allSettled(this.parts.map((part) => part.close()));
    this.hub.close();
  }

  // ---- calls -------------------------------------------------------------------------------

  private endpoint(): DockerEndpoint {
    this.endpointCache ??= connectDocker(this.env.DOCKER_HOST);
    return this.endpointCache;
  }

  private exportEnvironment() {
    return { defaultMadRoot: this.defaultMadRoot, env: this.env };
  }

  private async engineStatus(): Promise<CallResult<"engine.status">> {
    const base = { version: this.version, defaultMadRoot: this.defaultMadRoot };
    const dockerHost = this.env.DOCKER_HOST;
    const hint = `start Docker (e.g. 'sudo systemctl start docker'), or set DOCKER_HOST to the daemon's socket before starting madengine Control Center (now ${
      dockerHost ? `DOCKER_HOST=${dockerHost}` : "DOCKER_HOST is unset: /var/run/docker.sock"
    })`;
    let endpoint: DockerEndpoint;
    try {
      endpoint = this.endpoint();
    } catch (error) {
      const info = toErrorInfo(error);
      return {
        ...base,
        docker: {
          ok: false,
          endpoint: dockerHost ?? "",
          error: info.message,
          ...(info.hint ? { hint: info.hint } : {}),
        },
      };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const version = (await Promise.race([
        endpoint.docker.version(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${DOCKER_PING_TIMEOUT_MS / 1000} s`)),
            DOCKER_PING_TIMEOUT_MS,
          );
        }),
      ])) as { Version?: string };
      return {
        ...base,
        docker: {
          ok: true,
          endpoint: endpoint.description,
          ...(version.Version ? { version: version.Version } : {}),
        },
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        ...base,
        docker: {
          ok: false,
          endpoint: endpoint.description,
          error: `cannot reach the Docker daemon at ${endpoint.description}: ${reason}`,
          hint,
        },
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private async discover({ madRoot }: ParsedCallArgs<"zoo.discover">): Promise<CallResult<"zoo.discover">> {
    const zoo = await discoverModels(madRoot ?? this.defaultMadRoot);
    return { root: zoo.root, models: zoo.models.map(({ model, source }) => ({ model, source })) };
  }

  private async select({ madRoot, tags }: ParsedCallArgs<"zoo.select">): Promise<CallResult<"zoo.select">> {
    const zoo = await discoverModels(madRoot ?? this.defaultMadRoot);
    return { models: selectModels(zoo, tags).map((entry) => entry.model) };
  }

  private async validateContext({
    json,
    requireBuildTarget: needsTarget,
  }: ParsedCallArgs<"context.validate">): Promise<CallResult<"context.validate">> {
    try {
      const { context, secretNames } = await loadContext({ additionalContext: json, env: this.env });
      if (needsTarget) requireBuildTarget(context);
      // MAD_SECRETS* values are merged into the context by the engine: they never leave the process
      return { ok: true, context: redactContext(context, secretNames) };
    } catch (error) {
      return { ok: false, error: toContractError(error) };
    }
  }

  private async readLog(args: ParsedCallArgs<"logs.read">): Promise<CallResult<"logs.read">> {
    const job = this.job(args.jobId);
    const tail = job.tails.get(args.source);
    const ended = job.ended ? job.summary.logs.find((log) => log.source === args.source) : undefined;
    if (!tail && ended) {
      // a job of an earlier service: its logs are complete files
      const read = await readLogLines(ended.file, args.fromLine, args.maxLines ?? DEFAULT_LOG_READ_LINES, {
        includePartialLastLine: true,
      });
      return { lines: read.lines, nextLine: read.nextLine, complete: read.atEnd };
    }
    if (!tail) {
      throw notFound(
        `job ${job.summary.id} has no log "${args.source}"`,
        `its logs are: ${[...job.tails.keys()].join(", ")}`,
      );
    }
    const complete = tail.complete;
    const read = await readLogLines(tail.file, args.fromLine, args.maxLines ?? DEFAULT_LOG_READ_LINES, {
      checkpoints: tail.checkpoints,
      includePartialLastLine: complete,
    });
    return { lines: read.lines, nextLine: read.nextLine, complete: complete && read.atEnd };
  }

  private async resultsForJob({
    jobId,
  }: ParsedCallArgs<"results.forJob">): Promise<CallResult<"results.forJob">> {
    const job = this.job(jobId);
    // every job has its own perf.csv: all of its rows are this job's
    const file = path.join(job.summary.outputDir, "perf.csv");
    if (!existsSync(file)) return { rows: [] };
    const { rows } = await readPerfCsv(file);
    return {
      rows: rows.map((row, index) =>
        validateWithSchema(
          perfRowSchema,
          Object.fromEntries(PERF_CSV_COLUMNS.map((column) => [column, row[column] ?? ""])),
          { file: `${file} row ${index + 1}` },
        ),
      ),
    };
  }

  // ---- jobs --------------------------------------------------------------------------------

  private job(id: string): JobRuntime {
    const job = this.jobs.get(id);
    if (!job)
      throw notFound(
        `no job ${JSON.stringify(id)}`,
        "jobs live as long as the service that started them; list them with jobs.list",
      );
    return job;
  }

  private assertOpen(): void {
    if (this.closed)
      throw new MadError("INTERNAL", "the service is shutting down", { hint: "start the app again" });
  }

  /** The MAD root a job works in. The bundled example zoo is copied first: runs write into the MAD root. */
  private async workingMadRoot(requested: string | undefined): Promise<string> {
    const root = path.resolve(requested ?? this.defaultMadRoot);
    const bundled = path.resolve(bundledZooPath());
    const isBundled = root === bundled || root === bundled.replace(/app\.asar(?=[\\/])/, "app.asar.unpacked");
    if (!isBundled) return root;
    if (!this.zooCopy) {
      const copy = path.join(this.workspaceDir, "bundled-zoo");
      this.zooCopy = (async () => {
        // refreshed in place, never removed: another service may be running a job in it
        await cp(root, copy, { recursive: true, force: true });
        return copy;
      })();
      this.zooCopy.catch(() => {
        this.zooCopy = undefined;
      });
    }
    return this.zooCopy;
  }

  /** Checks the tags before a job starts, so an unknown tag is an error of the call, with suggestions. */
  private async checkSelection(madRoot: string, tags: readonly string[]): Promise<void> {
    const selected = selectModels(await discoverModels(madRoot), tags);
    if (selected.length === 0)
      throw new MadError("INVALID_ARGS", "no models selected", { hint: "give model names, tags or 'all'" });
  }

  private async startBuild(args: ParsedCallArgs<"build.start">): Promise<CallResult<"build.start">> {
    this.assertOpen();
    const madRoot = await this.workingMadRoot(args.madRoot);
    const { context, secretNames } = await loadContext({ additionalContext: args.context, env: this.env });
    requireBuildTarget(context);
    await this.checkSelection(madRoot, args.tags);
    const job = await this.createJob("build", `build ${args.tags.join(" ")}`, Boolean(args.registry));
    job.summary.manifestFile = path.join(job.summary.outputDir, MANIFEST_FILE);
    job.log.line(`MAD root ${madRoot}; tags ${args.tags.join(" ")}`);
    this.runJob(job, async () => {
      const built = await this.buildPhase(job, {
        madRoot,
        tags: args.tags,
        context,
        secretNames,
        registry: args.registry,
        cleanDockerCache: args.cleanDockerCache === true,
      });
      return built.exitCode;
    });
    return { job: this.snapshot(job).job };
  }

  private async startRun(args: ParsedCallArgs<"run.start">): Promise<CallResult<"run.start">> {
    this.assertOpen();
    const madRoot = await this.workingMadRoot(args.madRoot);
    const loaded = await loadContext({ additionalContext: args.context, env: this.env });
    const tags = args.tags ?? [];
    let manifestFile: string | undefined;
    if (args.manifestFile) {
      const resolved = path.resolve(args.manifestFile);
      if (existsSync(resolved)) {
        await loadManifest(resolved); // a broken manifest is an error of the call
        manifestFile = resolved;
      } else if (tags.length === 0) {
        throw new MadError("FILE_NOT_FOUND", `manifest ${args.manifestFile} not found`, {
          file: args.manifestFile,
          hint: "build first (build.start), or give tags to build and run in one go",
        });
      }
    }
    if (!manifestFile) {
      if (tags.length === 0) {
        throw new MadError("INVALID_ARGS", "nothing to run: give a manifest file, or tags to build and run", {
          hint: 'e.g. tags ["dummies"] with context {"gpu_vendor": "NONE", "guest_os": "UBUNTU"}',
        });
      }
      await this.checkSelection(madRoot, tags);
    }
    const onNodes = (args.nodes?.length ?? 0) > 0 || (args.labels?.length ?? 0) > 0;
    const nodes = onNodes ? await this.nodesFor(args.nodes, args.labels) : undefined;
    const what = manifestFile ? this.displayPath(manifestFile) : tags.join(" ");
    const title = nodes ? `run ${what} on ${nodes.map((node) => node.name).join(", ")}` : `run ${what}`;
    const job = await this.createJob(
      "run",
      title,
      false,
      nodes?.map((node) => node.name),
    );
    job.summary.manifestFile = manifestFile ?? path.join(job.summary.outputDir, MANIFEST_FILE);
    job.log.line(
      `MAD root ${madRoot}; ${manifestFile ? `manifest ${manifestFile}` : `tags ${tags.join(" ")}`}`,
    );
    this.runJob(job, async () => {
      let manifestPath = manifestFile;
      if (!manifestPath) {
        const buildContext: Context = { ...loaded.context };
        if (!buildContext.gpu_vendor) buildContext.gpu_vendor = (await detectHostGpus()).vendor;
        const built = await this.buildPhase(job, {
          madRoot,
          tags,
          context: buildContext,
          secretNames: loaded.secretNames,
          registry: undefined,
          cleanDockerCache: false,
        });
        if (built.summary.failed_builds.length > 0) {
          job.log.line(
            `${built.summary.failed_builds.length} build(s) failed; the run phase was skipped`,
            "error",
          );
          return ExitCode.BUILD_FAILURE;
        }
        manifestPath = path.join(job.summary.outputDir, MANIFEST_FILE);
      }
      if (job.cancelRequested) throw new JobCancelled();
      const input = {
        madRoot,
        manifestPath,
        override: loaded.context,
        secretNames: loaded.secretNames,
        timeoutSec: args.timeoutSec,
        keepAlive: args.keepAlive === true,
        journal: undefined,
      };
      if (nodes) {
        return this.runOnNodes(job, {
          ...input,
          nodes,
          strategy: args.strategy ?? "replicate",
          maxParallel: args.maxParallel,
        });
      }
      return this.runPhase(job, input);
    });
    return { job: this.snapshot(job).job };
  }

  /** The nodes of the app's nodes file a run names (by name and/or label). */
  private async nodesFor(names: string[] | undefined, labels: string[] | undefined): Promise<Node[]> {
    if (!existsSync(this.nodesFile)) {
      throw new MadError("FILE_NOT_FOUND", `no nodes yet (${this.nodesFile} does not exist)`, {
        file: this.nodesFile,
        hint: "add GPU nodes on the Nodes screen (or with madengine-cli nodes add) first",
      });
    }
    return selectNodes(this.nodesFile, names, labels ? parseLabelSelectors(labels) : undefined);
  }

  private displayPath(file: string): string {
    const relative = path.relative(this.jobsDir, file);
    if (!relative.startsWith("..") && !path.isAbsolute(relative)) {
      const [jobId] = relative.split(path.sep);
      return `the manifest of job ${jobId}`;
    }
    return file;
  }

  private async buildPhase(
    job: JobRuntime,
    input: {
      madRoot: string;
      tags: readonly string[];
      context: Context;
      secretNames: readonly string[];
      registry: string | undefined;
      cleanDockerCache: boolean;
    },
  ): Promise<BuildPhaseResult> {
    const out = job.summary.outputDir;
    // a cancelled build stops between images: those already building finish, the rest are reported
    return await runBuildPhase(
      {
        madRoot: input.madRoot,
        tags: input.tags,
        context: input.context,
        contextSecretNames: input.secretNames,
        registry: input.registry,
        cleanDockerCache: input.cleanDockerCache,
        manifestOutput: path.join(out, MANIFEST_FILE),
        summaryOutput: path.join(out, "build_summary.json"),
        logDir: out,
        endpoint: this.endpoint(),
        env: this.env,
        signal: job.abort.signal,
      },
      (event) => this.onBuildEvent(job, event),
    );
  }

  private onBuildEvent(job: JobRuntime, event: BuildEvent): void {
    if (job.ended) return;
    // images the build never started after a cancel stay queued; they are marked skipped at the end
    if (event.type === "build:failed" && job.cancelRequested && event.error === CANCEL_REASON) return;
    switch (event.type) {
      case "log":
        this.engineMessage(job, event.level, event.message);
        return;
      case "build:output": {
        const source = job.progress.buildKey(event.image);
        if (source) job.tails.get(source)?.poke();
        return;
      }
      case "build:failed":
        job.log.line(`build of ${event.image ?? event.model} failed: ${event.error}`, "error");
        break;
      case "push:failed":
        job.log.line(`push of ${event.image} to ${event.registryImage} failed: ${event.error}`, "error");
        break;
      default:
        break;
    }
    const changed = job.progress.applyBuild(event);
    if (event.type === "build:start") {
      const source = job.progress.buildKey(event.image);
      if (source) this.followLog(job, source, event.logFile);
    }
    if (changed) this.scheduleUpdate(job);
  }

  /** The run's journal (a new one, or the one a resumed job continues) and what a resume repeats. */
  private async openJournal(job: JobRuntime, input: RunInput, nodes?: RemoteRunInput): Promise<RunJournal> {
    const out = job.summary.outputDir;
    const perfCsv = path.join(out, "perf.csv");
    const secretFree = <V>(map: Record<string, V> | undefined) =>
      map && Object.fromEntries(Object.entries(map).filter(([key]) => !input.secretNames.includes(key)));
    const contextOverride = {
      ...input.override,
      docker_build_arg: secretFree(input.override.docker_build_arg),
      docker_env_vars: secretFree(input.override.docker_env_vars),
    };
    const runId = input.journal?.runId ?? newRunId();
    const journal =
      input.journal ??
      (await RunJournal.create(runStateFile(out, runId), runId, {
        manifestFile: input.manifestPath,
        madRoot: input.madRoot,
        perfCsv,
        outputDir: out,
        ...(nodes
          ? {
              nodesFile: this.nodesFile,
              nodeNames: nodes.nodes.map((node) => node.name),
              strategy: nodes.strategy,
            }
          : {}),
        options: {
          madRoot: input.madRoot,
          manifestFile: input.manifestPath,
          output: perfCsv,
          ...(input.timeoutSec !== undefined ? { timeout: String(input.timeoutSec) } : {}),
          keepAlive: input.keepAlive,
        },
        contextOverride,
      }));
    job.summary.runId = runId;
    job.resume = {
      runId,
      madRoot: input.madRoot,
      manifestFile: input.manifestPath,
      ...(nodes
        ? {
            nodes: nodes.nodes.map((node) => node.name),
            strategy: nodes.strategy,
            ...(nodes.maxParallel !== undefined ? { maxParallel: nodes.maxParallel } : {}),
          }
        : {}),
      ...(input.timeoutSec !== undefined ? { timeoutSec: input.timeoutSec } : {}),
      keepAlive: input.keepAlive,
      contextOverride: JSON.parse(JSON.stringify(contextOverride)) as Record<string, unknown>,
    };
    this.scheduleUpdate(job);
    job.log.line(`run ${runId} (journal ${journal.file})`);
    return journal;
  }

  /** The run in the results history, as it progresses (a resumed run joins its earlier results). */
  private recorder(job: JobRuntime, input: RunInput, nodes?: readonly string[]): RunRecorder {
    return openRunRecorder(
      {
        id: job.summary.runId!,
        manifestFile: input.manifestPath,
        context: job.resume?.contextOverride,
        ...(nodes ? { nodes: { file: this.nodesFile, names: nodes } } : {}),
      },
      (message) => this.engineMessage(job, "warn", message),
      this.resultsDbFile,
    );
  }

  /** Ends the run's bookkeeping, unless it was left going for the next service. */
  private async settleRun(
    job: JobRuntime,
    journal: RunJournal,
    recorder: RunRecorder,
    exitCode: number,
  ): Promise<void> {
    if (job.detach.signal.aborted) {
      job.detached = true;
      recorder.detach();
      return;
    }
    if (journal.entries().every((entry) => entry.state === "done")) await journal.finish();
    recorder.finish(
      exitCode === ExitCode.SUCCESS ? "success" : job.cancelRequested ? "interrupted" : "failure",
    );
  }

  /** What a run on this machine and a run on nodes are both given. */
  private async runOptions(job: JobRuntime, input: RunInput, journal: RunJournal, recorder: RunRecorder) {
    const out = job.summary.outputDir;
    return {
      madRoot: input.madRoot,
      manifest: await loadManifest(input.manifestPath),
      contextOverride: input.override,
      contextSecretNames: input.secretNames,
      timeoutSec: input.timeoutSec,
      keepAlive: input.keepAlive,
      keepModelDir: false,
      skipModelRun: false,
      perfCsv: path.join(out, "perf.csv"),
      summaryOutput: path.join(out, "execution_summary.json"),
      outputDir: out,
      signal: job.abort.signal,
      journal,
      runId: journal.runId,
      env: this.env,
      onResults: (rows: PerfRow[], extra: { node?: string | undefined; logFile?: string | undefined }) =>
        recorder.results(rows, extra),
    };
  }

  private async runPhase(job: JobRuntime, input: RunInput): Promise<number> {
    const journal = await this.openJournal(job, input);
    const recorder = this.recorder(job, input);
    const options = await this.runOptions(job, input, journal, recorder);
    const result = await runRunPhase(
      {
        ...options,
        endpoint: this.endpoint(),
        onOutput: () => {
          if (job.runningSource) job.tails.get(job.runningSource)?.poke();
        },
        abandon: job.detach.signal,
        isTargetLost: () => job.detach.signal.aborted,
      },
      (event) => this.onRunEvent(job, event),
    );
    await this.settleRun(job, journal, recorder, result.exitCode);
    const { summary } = result;
    job.log.line(
      `${summary.successful_runs.length} succeeded, ${summary.failed_runs.length} failed${result.interrupted ? " (interrupted)" : ""}; rows in ${options.perfCsv}`,
    );
    return result.exitCode;
  }

  /** The manifest on GPU nodes over SSH: one merged perf.csv, per-node logs and one interleaved log. */
  private async runOnNodes(job: JobRuntime, input: RunInput & RemoteRunInput): Promise<number> {
    const out = job.summary.outputDir;
    const names = input.nodes.map((node) => node.name);
    const journal = await this.openJournal(job, input, input);
    const recorder = this.recorder(job, input, names);
    const options = await this.runOptions(job, input, journal, recorder);
    const interleaved = new InterleavedLog(path.join(out, "all-nodes.log"), names);
    if (input.journal) {
      await interleaved.countExisting();
      for (const name of names) interleaved.note(name, "the app restarted: picking this node's run up again");
    }
    this.followLog(job, ALL_NODES_LOG_SOURCE, interleaved.file);
    const all = (await readNodesFile(this.nodesFile)).nodes;
    let result: Awaited<ReturnType<typeof dispatchRun>>;
    try {
      result = await dispatchRun(
        {
          ...options,
          nodes: input.nodes,
          strategy: input.strategy,
          maxParallel: input.maxParallel,
          connect: {
            // the app never trusts a new host key by itself: the Nodes screen asks the user
            policy: { knownHostsFile: this.knownHostsFile, trustNewHosts: false },
            nodesByName: new Map(all.map((node) => [node.name, node])),
            env: this.env,
          },
          onOutput: (node, model, chunk) => {
            interleaved.output(node, model, chunk);
            const source = job.nodeRunning.get(node);
            if (source) job.tails.get(source)?.poke();
            job.tails.get(ALL_NODES_LOG_SOURCE)?.poke();
          },
          nodeSignal: (node) => job.nodeCancels.get(node)?.signal,
          detach: job.detach.signal,
        },
        (event) => this.onDispatchEvent(job, event, interleaved),
      );
    } finally {
      await interleaved.close();
      job.tails.get(ALL_NODES_LOG_SOURCE)?.poke();
    }
    const dispatch = job.dispatch!;
    for (const [name, report] of Object.entries(result.summary.nodes)) {
      const node = dispatch.node(name);
      if (!node) continue;
      if (report.status === "ok" && job.cancelRequested) node.state = "cancelled";
      else if (report.status === "ok") dispatch.nodeFinished(name);
      else if (report.status === "cancelled" || report.status === "detached") node.state = report.status;
      else if (report.status === "lost") node.state = "lost";
      if (report.error && !node.detail) node.detail = report.error;
    }
    this.scheduleUpdate(job);
    await this.settleRun(job, journal, recorder, result.exitCode);
    const { summary } = result;
    job.log.line(
      `${summary.successful_runs.length} succeeded, ${summary.failed_runs.length} failed on ${names.length} node(s)${result.interrupted ? " (interrupted)" : ""}; rows in ${options.perfCsv}`,
    );
    return result.exitCode;
  }

  private onDispatchEvent(job: JobRuntime, event: DispatchEvent, interleaved: InterleavedLog): void {
    if (job.ended) return;
    const dispatch = job.dispatch!;
    switch (event.type) {
      case "log":
        this.engineMessage(job, event.level, `${event.node}: ${event.message}`);
        return;
      case "node:connecting":
        interleaved.note(event.node, `connecting to ${event.address}`);
        break;
      case "node:ready":
        interleaved.note(event.node, `ready: ${event.docker}`);
        break;
      case "node:failed":
        interleaved.note(event.node, `failed: ${event.error}${event.hint ? ` (hint: ${event.hint})` : ""}`);
        job.log.line(`${event.node}: ${event.error}${event.hint ? `\nhint: ${event.hint}` : ""}`, "error");
        break;
      case "node:lost":
        interleaved.note(event.node, `lost: ${event.reason}`);
        job.log.line(`${event.node} lost: ${event.reason}`, "warn");
        break;
      case "run:start": {
        const progress = dispatch.of(event.node);
        const changed = dispatch.apply(event);
        const source = progress?.runKey(event.model, event.image);
        if (source) {
          job.nodeRunning.set(event.node, source);
          this.followLog(job, source, event.logFile);
        }
        interleaved.note(event.node, `${event.model}: started`);
        if (changed) this.scheduleUpdate(job);
        return;
      }
      case "run:done": {
        const source = dispatch.of(event.node)?.runKey(event.model, event.image);
        if (source && job.nodeRunning.get(event.node) === source) job.nodeRunning.delete(event.node);
        if (source) void job.tails.get(source)?.finish();
        interleaved.endOf(event.node, event.model);
        const result = event.performance ? `: ${event.performance} ${event.metric}` : "";
        interleaved.note(
          event.node,
          `${event.model}: ${event.status}${result}${event.reason ? ` (${event.reason})` : ""}`,
        );
        break;
      }
      default:
        break;
    }
    const changed = dispatch.apply(event);
    if (event.type === "run:planned") this.restoreFinishedRows(job);
    if (changed) this.scheduleUpdate(job);
  }

  /** After a restart: rows that had finished keep the outcome they showed (the journal skips them). */
  private restoreFinishedRows(job: JobRuntime): void {
    if (!job.restoredItems) return;
    for (const item of job.table.items) {
      const before = job.restoredItems.get(item.key);
      if (!before || !["succeeded", "failed", "skipped"].includes(before.state)) continue;
      Object.assign(item, { ...before, key: item.key });
    }
  }

  private onRunEvent(job: JobRuntime, event: RunEvent): void {
    if (job.ended) return;
    if (event.type === "log") {
      this.engineMessage(job, event.level, event.message);
      return;
    }
    const changed = job.progress.applyRun(event);
    if (event.type === "run:planned") this.restoreFinishedRows(job);
    if (event.type === "run:start") {
      const source = job.progress.runKey(event.model, event.image);
      if (source) {
        job.runningSource = source;
        this.followLog(job, source, event.logFile);
      }
    } else if (event.type === "run:done") {
      const source = job.progress.runKey(event.model, event.image);
      if (source === job.runningSource) job.runningSource = undefined;
      // the run log is closed before run:done: read the rest now
      if (source) void job.tails.get(source)?.finish();
      if (event.status === "FAILURE") job.log.line(`${event.model}: FAILURE: ${event.reason ?? ""}`, "warn");
    }
    if (changed) this.scheduleUpdate(job);
  }

  private engineMessage(job: JobRuntime, level: "info" | "warn", message: string): void {
    job.log.line(message, level);
    if (level === "warn")
      this.publish({
        event: "engine.notice",
        payload: { level, message: `${job.summary.title}: ${message}` },
      });
  }

  /** A new job id and its output directory (created here: two services may share a workspace). */
  private async newJobDir(): Promise<{ id: string; outputDir: string }> {
    await mkdir(this.jobsDir, { recursive: true });
    for (;;) {
      const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
      const id = `${stamp}-${randomBytes(3).toString("hex")}`;
      const outputDir = path.join(this.jobsDir, id);
      try {
        await mkdir(outputDir);
        return { id, outputDir };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
  }

  private forgetOldJobs(): void {
    const ended = [...this.jobs.values()].filter((job) => job.ended);
    for (const job of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_JOBS)))
      this.jobs.delete(job.summary.id);
  }

  private async createJob(
    kind: JobSummary["kind"],
    title: string,
    pushes: boolean,
    nodes?: readonly string[],
  ): Promise<JobRuntime> {
    const { id, outputDir } = await this.newJobDir();
    this.forgetOldJobs();
    const job = this.addRuntime(
      { id, kind, state: "running", title, startedAt: new Date().toISOString(), outputDir, logs: [] },
      pushes,
      nodes,
    );
    this.watchOutputDir(job);
    this.followLog(job, JOB_LOG_SOURCE, path.join(outputDir, "job.log"));
    job.log.line(`job ${id}: ${title}`);
    job.record.update(() => this.recordOf(job));
    return job;
  }

  /** The in-memory side of a job (new, or one of an earlier service's jobs). */
  private addRuntime(summary: JobSummary, pushes: boolean, nodes: readonly string[] | undefined): JobRuntime {
    const progress = new JobProgress(pushes);
    const dispatch = nodes ? new DispatchProgress(nodes) : undefined;
    const job: JobRuntime = {
      summary,
      table: dispatch ?? progress,
      progress: dispatch ? dispatch.build : progress,
      dispatch,
      detach: new AbortController(),
      detached: false,
      nodeCancels: new Map((nodes ?? []).map((node) => [node, new AbortController()])),
      nodeRunning: new Map(),
      record: new JobRecordWriter(path.join(summary.outputDir, JOB_RECORD_FILE)),
      resume: undefined,
      restoredItems: undefined,
      abort: new AbortController(),
      cancelRequested: false,
      ended: false,
      log: new JobLog(path.join(summary.outputDir, "job.log")),
      tails: new Map(),
      tailsByFile: new Map(),
      watcher: undefined,
      pollTimer: undefined,
      updateTimer: undefined,
      runningSource: undefined,
      done: Promise.resolve(),
    };
    this.jobs.set(summary.id, job);
    return job;
  }

  /**
   * The jobs earlier services left in this workspace: ended ones are listed again (their logs are
   * files), runs that were left going are picked up where they are (the journal re-attaches to
   * their containers), anything else that was running is marked failed, with why.
   */
  private async restoreJobs(): Promise<void> {
    const records = await readJobRecords(this.jobsDir, (message) =>
      console.error(`madengine Control Center: ${message}`),
    );
    for (const { record } of records.slice(-MAX_ENDED_JOBS)) {
      const { summary } = record;
      const resume = record.resume;
      const journalFile = resume ? runStateFile(summary.outputDir, resume.runId) : undefined;
      if (summary.state === "running" && resume && journalFile && existsSync(journalFile)) {
        try {
          await this.resumeJob(record, resume);
        } catch (error) {
          console.error(
            `madengine Control Center: cannot resume job ${summary.id}:`,
            toErrorInfo(error).message,
          );
        }
        continue;
      }
      const job = this.addRuntime(
        summary,
        false,
        summary.nodes?.map((node) => node.name),
      );
      job.ended = true;
      this.restoreRows(job, record);
      if (summary.state !== "running") continue;
      // it was running when its service stopped, and nothing can pick it up
      job.summary.state = "failed";
      job.summary.endedAt = new Date().toISOString();
      this.settleUnfinished(
        job,
        "failed",
        "the app stopped before this started",
        "the app stopped while this ran",
      );
      await job.record.flush(() => this.recordOf(job));
    }
  }

  /** Rows and node states as an earlier service showed them. */
  private restoreRows(job: JobRuntime, record: JobRecord): void {
    job.table.restoreRows(record.items);
    for (const log of record.summary.logs) job.table.addLog(log.source, log.file);
    for (const shown of record.summary.nodes ?? []) {
      const node = job.dispatch?.node(shown.name);
      if (node) Object.assign(node, shown);
    }
  }

  /** Picks a run up where an earlier service left it. */
  private async resumeJob(record: JobRecord, resume: JobResumeInfo): Promise<void> {
    const summary: JobSummary = { ...record.summary, resumedAt: new Date().toISOString() };
    const job = this.addRuntime(summary, false, resume.nodes);
    job.resume = resume;
    job.restoredItems = new Map(record.items.map((item) => [item.key, item]));
    for (const shown of record.summary.nodes ?? []) {
      const node = job.dispatch?.node(shown.name);
      // counts of models that finished before the restart (they are not run again)
      if (node) Object.assign(node, { succeeded: shown.succeeded, failed: shown.failed });
    }
    this.watchOutputDir(job);
    for (const log of record.summary.logs) this.followLog(job, log.source, log.file);
    job.log.line(`resumed after the app restarted: run ${resume.runId} goes on where it was`);
    job.record.update(() => this.recordOf(job));
    const journal = await RunJournal.open(summary.outputDir, resume.runId);
    const loaded = await loadContext({
      additionalContext: JSON.stringify(resume.contextOverride),
      env: this.env,
    });
    const input: RunInput = {
      madRoot: resume.madRoot,
      manifestPath: resume.manifestFile,
      override: loaded.context,
      secretNames: loaded.secretNames,
      timeoutSec: resume.timeoutSec,
      keepAlive: resume.keepAlive,
      journal,
    };
    this.runJob(job, async () => {
      if (!resume.nodes) return this.runPhase(job, input);
      const nodes = await this.nodesFor(resume.nodes, undefined);
      return this.runOnNodes(job, {
        ...input,
        nodes,
        strategy: resume.strategy ?? "replicate",
        maxParallel: resume.maxParallel,
      });
    });
  }

  private recordOf(job: JobRuntime): JobRecord {
    const { job: summary, items } = this.snapshot(job);
    // a job left going for the next service is still running as far as the record goes
    if (job.detached) {
      summary.state = "running";
      delete summary.endedAt;
      delete summary.exitCode;
    }
    return { version: 1, summary, items, ...(job.resume ? { resume: job.resume } : {}) };
  }

  /** One file-system watcher per job directory tells the tails when their files grow. */
  private watchOutputDir(job: JobRuntime): void {
    try {
      job.watcher = watch(job.summary.outputDir, { persistent: false }, (_event, name) => {
        if (name) job.tailsByFile.get(String(name))?.poke();
      });
      job.watcher.on("error", () => {
        this.stopWatching(job);
        this.pollInstead(job);
      });
    } catch {
      this.pollInstead(job);
    }
  }

  /** Where file-system events are not available (watch limits, exotic file systems): look every 250 ms. */
  private pollInstead(job: JobRuntime): void {
    if (job.pollTimer || job.ended) return;
    job.pollTimer = setInterval(() => {
      for (const tail of job.tails.values()) tail.poke();
    }, 250);
    job.pollTimer.unref();
  }

  private stopWatching(job: JobRuntime): void {
    job.watcher?.close();
    job.watcher = undefined;
    if (job.pollTimer) clearInterval(job.pollTimer);
    job.pollTimer = undefined;
  }

  private followLog(job: JobRuntime, source: string, file: string): void {
    if (job.tails.has(source)) return;
    const jobId = job.summary.id;
    const tail = new LogTail(file, {
      batchMs: this.batchMs,
      onLines: (firstLine, lines) =>
        this.publish({ event: "log.lines", payload: { jobId, source, firstLine, lines } }),
    });
    job.tails.set(source, tail);
    const resolved = path.resolve(file);
    if (path.dirname(resolved) === job.summary.outputDir) job.tailsByFile.set(path.basename(resolved), tail);
    else this.pollInstead(job); // outside the watched directory
    job.table.addLog(source, resolved);
    tail.poke();
    this.scheduleUpdate(job);
  }

  private runJob(job: JobRuntime, body: () => Promise<number>): void {
    job.done = (async () => {
      let state: JobState;
      let exitCode: number;
      try {
        exitCode = await body();
        state =
          job.cancelRequested && exitCode !== ExitCode.SUCCESS
            ? "cancelled"
            : exitCode === 0
              ? "succeeded"
              : "failed";
      } catch (error) {
        if (error instanceof JobCancelled || job.cancelRequested) {
          state = "cancelled";
          exitCode = ExitCode.FAILURE;
        } else {
          const info = toErrorInfo(error);
          state = "failed";
          exitCode = info.exitCode;
          job.log.line(`${info.message}${info.hint ? `\nhint: ${info.hint}` : ""}`, "error");
          this.publish({
            event: "engine.notice",
            payload: { level: "error", message: `${job.summary.title} failed: ${info.message}` },
          });
        }
      }
      await this.endJob(job, state, exitCode);
    })().catch((error: unknown) => {
      // endJob itself failed (a bug): never leave the job running, never reject unhandled
      job.ended = true;
      job.summary.state = "failed";
      job.summary.endedAt = new Date().toISOString();
      console.error("madengine Control Center: ending a job failed:", error);
    });
  }

  private async endJob(job: JobRuntime, state: JobState, exitCode: number): Promise<void> {
    if (job.detached) {
      // left going for the next service: rows stay as they are, the record says running
      job.log.line("left running; the next start of the app picks it up");
      await job.log.close();
      job.ended = true;
      this.stopWatching(job);
      await Promise.all([...job.tails.values()].map((tail) => tail.finish()));
      if (job.updateTimer) clearTimeout(job.updateTimer);
      job.updateTimer = undefined;
      await job.record.flush(() => this.recordOf(job));
      return;
    }
    const cancelled = state === "cancelled";
    this.settleUnfinished(
      job,
      cancelled ? "cancelled" : "failed",
      cancelled ? CANCEL_REASON : "not started",
      cancelled ? CANCEL_REASON : "the job ended before this finished",
    );
    job.log.line(`job ${state} (exit code ${exitCode})`);
    await job.log.close();
    job.ended = true;
    this.stopWatching(job);
    // every log is closed now: read the rest of each, so the last lines go out before the final state
    await Promise.all([...job.tails.values()].map((tail) => tail.finish()));
    // recorded before the job shows as ended: whoever sees it ended finds it in the audit log
    await this.audit(job, state, exitCode);
    job.summary.state = state;
    job.summary.exitCode = exitCode;
    job.summary.endedAt = new Date().toISOString();
    if (job.updateTimer) clearTimeout(job.updateTimer);
    job.updateTimer = undefined;
    await job.record.flush(() => this.recordOf(job));
    this.publish({ event: "job.updated", payload: this.snapshot(job) });
    if (job.summary.kind === "run") this.publish({ event: "results.changed", payload: { reason: "run" } });
  }

  /** One entry in the audit log per build or run the app started (who, manifest hash, images, nodes, outcome). */
  private async audit(job: JobRuntime, state: JobState, exitCode: number): Promise<void> {
    const { summary } = job;
    const entry = await auditEntryFor({
      kind: summary.kind,
      manifestFile: summary.manifestFile && existsSync(summary.manifestFile) ? summary.manifestFile : null,
      nodes: job.dispatch?.nodes.map((node) => node.name) ?? [],
      outcome: state === "succeeded" ? "success" : state === "cancelled" ? "interrupted" : "failure",
      detail: `app job ${summary.id}${exitCode ? `, exit code ${exitCode}` : ""}`,
    });
    appendAudit(this.resultsDbFile, entry, (message) =>
      this.publish({ event: "engine.notice", payload: { level: "warn", message } }),
    );
  }

  private cancel(job: JobRuntime): boolean {
    if (job.ended) return false;
    if (!job.cancelRequested) {
      job.cancelRequested = true;
      job.log.line(
        "cancel requested: stopping the running container, or the build after the images already started",
        "warn",
      );
      job.abort.abort(CANCEL_REASON);
    }
    return true;
  }

  /** Rows and nodes a job left unfinished: queued ones skipped, those in progress failed, with why. */
  private settleUnfinished(
    job: JobRuntime,
    nodeState: "cancelled" | "failed",
    notStarted: string,
    leftover: string,
  ): void {
    job.table.skipQueued(notStarted);
    job.dispatch?.settleNodes(nodeState, leftover);
    for (const item of job.table.items) {
      if (item.state === "building" || item.state === "running" || item.state === "pushing") {
        item.state = "failed";
        item.detail = leftover;
      }
    }
  }

  private cancelNode(job: JobRuntime, node: string): boolean {
    const control = job.nodeCancels.get(node);
    if (!control) {
      throw notFound(
        `job ${job.summary.id} runs on no node ${JSON.stringify(node)}`,
        job.nodeCancels.size > 0
          ? `its nodes are: ${[...job.nodeCancels.keys()].join(", ")}`
          : "this job runs on this machine: cancel the whole job",
      );
    }
    const shown = job.dispatch?.node(node);
    if (
      job.ended ||
      control.signal.aborted ||
      (shown && !["connecting", "ready", "running"].includes(shown.state))
    )
      return false;
    job.log.line(`cancel requested for ${node}: stopping its container; the other nodes go on`, "warn");
    control.abort(CANCEL_REASON);
    if (shown) {
      shown.state = "cancelled";
      shown.detail = CANCEL_REASON;
    }
    this.scheduleUpdate(job);
    return true;
  }

  /** A copy: events wait in subscriber queues, so they must not change afterwards. */
  private snapshot(job: JobRuntime): CallResult<"jobs.get"> {
    return {
      job: {
        ...job.summary,
        logs: job.table.logs.map((log) => ({ ...log })),
        ...(job.dispatch ? { nodes: job.dispatch.snapshotNodes() } : {}),
      },
      items: job.table.items.map((item) => ({ ...item })),
    };
  }

  private scheduleUpdate(job: JobRuntime): void {
    if (!job.ended) job.record.update(() => this.recordOf(job));
    if (job.updateTimer || job.ended) return;
    job.updateTimer = setTimeout(() => {
      job.updateTimer = undefined;
      if (!job.ended) this.publish({ event: "job.updated", payload: this.snapshot(job) });
    }, this.batchMs);
  }

  private publish(message: EventMessage): void {
    const schema = contractEvents[message.event];
    const checked = schema.safeParse(message.payload);
    if (!checked.success) {
      console.error(
        `madengine Control Center: dropped a ${message.event} event that does not match the contract`,
      );
      return;
    }
    this.hub.publish(message);
  }
}
