import { mkdir } from "node:fs/promises";
import path from "node:path";
import { ExitCode, toErrorInfo } from "../../../shared/errors.js";
import type { DispatchEventListener } from "../../../shared/events.js";
import type { BuildManifest } from "../../../shared/schemas/manifest.js";
import type { Node } from "../../../shared/schemas/nodes.js";
import { type ExecutionSummary, executionSummarySchema } from "../../../shared/schemas/summaries.js";
import { loadCredentials } from "../build/credentials.js";
import { type RunPhaseOptions, type RunPhaseResult, runRunPhase } from "../run/runPhase.js";
import { writeJsonAtomic } from "../util/jsonFiles.js";
import { mapWithConcurrency } from "../util/pool.js";
import { trace, traced } from "../util/trace.js";
import type { NodeConnection } from "./connection.js";
import type { ConnectOptions } from "./connectNode.js";
import { preflightNodes } from "./preflight.js";
import { remoteTarget } from "./remoteTarget.js";
import { listMadFiles, resolveRemotePath, syncMadRoot } from "./syncMadRoot.js";

export type DispatchStrategy = "replicate" | "distribute";

export interface DispatchOptions
  extends Omit<
    RunPhaseOptions,
    "target" | "endpoint" | "onOutput" | "summaryOutput" | "outputDir" | "machineName"
  > {
  nodes: Node[];
  strategy: DispatchStrategy;
  /** Nodes running at once (default: all). */
  maxParallel?: number | undefined;
  connect: ConnectOptions;
  /** Logs go to <outputDir>/<node>/. */
  outputDir: string;
  summaryOutput?: string | undefined;
  onOutput?: ((node: string, model: string, chunk: Buffer) => void) | undefined;
  /** Cancels one node: its container is stopped; other nodes go on (with distribute, they take the images it had not started). */
  nodeSignal?: ((node: string) => AbortSignal | undefined) | undefined;
  /**
   * Stops following without stopping anything: running containers are left on their nodes and their
   * journal entries stay running, so a resume (e.g. after the app restarts) re-attaches to them.
   */
  detach?: AbortSignal | undefined;
}

export interface NodeReport {
  status: "ok" | "unreachable" | "lost" | "cancelled" | "detached";
  error?: string;
  successful: number;
  failed: number;
}

export interface DispatchResult {
  summary: ExecutionSummary & { nodes: Record<string, NodeReport> };
  results: { node: string; result: RunPhaseResult }[];
  interrupted: boolean;
  exitCode: ExitCode;
}

const HANDSHAKES_AT_ONCE = 8;

/** A manifest with only some of its images (distribute hands out one image at a time). */
function subManifest(manifest: BuildManifest, images: string[]): BuildManifest {
  const pick = <V>(map: Record<string, V>) =>
    Object.fromEntries(images.filter((image) => image in map).map((image) => [image, map[image]!]));
  return {
    ...manifest,
    built_images: pick(manifest.built_images),
    built_models: pick(manifest.built_models),
  };
}

/**
 * Runs a manifest on several nodes over SSH, agentless: per node one SSH connection carries Docker,
 * SFTP and commands; the MAD files are synced; the same run phase as a local run executes there.
 * `replicate` runs every model on every node; `distribute` hands images to whichever node is free.
 * Failures stay with their node; rows from all nodes land in one perf.csv (machine_name = node).
 */
export async function dispatchRun(
  options: DispatchOptions,
  emit: DispatchEventListener,
): Promise<DispatchResult> {
  const reports: Record<string, NodeReport> = {};
  const connections = new Map<string, NodeConnection>();
  const ready: { node: Node; connection: NodeConnection; remoteRoot: string }[] = [];

  for (const node of options.nodes)
    emit({ type: "node:connecting", node: node.name, address: `${node.user}@${node.host}:${node.port}` });
  const credentials = await loadCredentials(options.madRoot, options.env ?? process.env);
  // hashed once for all nodes, while the nodes are checked
  const localFiles = listMadFiles(options.madRoot);
  localFiles.catch(() => {});
  const preflightStarted = performance.now();
  const checked = await preflightNodes(options.nodes, {
    connect: {
      ...options.connect,
      onTrusted: (name, fingerprint, file) => emit({ type: "node:trusted", node: name, fingerprint, file }),
    },
    manifest: options.manifest,
    credentials,
    keepConnections: true,
    connectionsAtOnce: HANDSHAKES_AT_ONCE,
  });
  trace("preflight (all nodes)", preflightStarted);
  await mapWithConcurrency(checked, HANDSHAKES_AT_ONCE, async (preflight) => {
    const node = options.nodes.find((candidate) => candidate.name === preflight.node)!;
    const failed = preflight.checks.filter((check) => !check.ok);
    if (!preflight.ok || !preflight.connection) {
      const error = failed.map((check) => `${check.check}: ${check.detail}`).join("; ");
      reports[node.name] = { status: "unreachable", error, successful: 0, failed: 0 };
      emit({
        type: "node:failed",
        node: node.name,
        error: `preflight failed: ${error}`,
        ...(failed[0]?.fix ? { hint: failed[0].fix } : {}),
      });
      return;
    }
    const connection = preflight.connection;
    connections.set(node.name, connection);
    try {
      const remoteRoot = await resolveRemotePath(connection, path.posix.join(node.workDir, "mad"));
      const synced = await traced(`${node.name} sync`, () =>
        syncMadRoot(connection, options.madRoot, remoteRoot, localFiles),
      );
      reports[node.name] = { status: "ok", successful: 0, failed: 0 };
      ready.push({ node, connection, remoteRoot });
      const docker = preflight.checks.find((check) => check.check === "docker")?.detail ?? "";
      emit({
        type: "node:ready",
        node: node.name,
        docker,
        uploaded: synced.uploaded,
        unchanged: synced.unchanged,
      });
    } catch (error) {
      const info = toErrorInfo(error);
      reports[node.name] = { status: "unreachable", error: info.message, successful: 0, failed: 0 };
      emit({
        type: "node:failed",
        node: node.name,
        error: info.message,
        ...(info.hint ? { hint: info.hint } : {}),
      });
    }
  });
  ready.sort((a, b) => options.nodes.indexOf(a.node) - options.nodes.indexOf(b.node));

  const results: { node: string; result: RunPhaseResult }[] = [];
  const images = Object.keys(options.manifest.built_images);
  // on a resume, an image already begun on a node belongs to that node (its container is there)
  const journal = options.journal;
  const pinned = new Map<string, string[]>();
  const queue: string[] = [];
  for (const image of images) {
    const begun =
      journal?.entries().filter((entry) => entry.image === image && entry.state !== "pending") ?? [];
    if (begun.some((entry) => entry.state === "done") && options.strategy === "distribute") continue;
    const owner = begun.find((entry) => entry.state !== "done")?.target;
    if (owner && options.strategy === "distribute") pinned.set(owner, [...(pinned.get(owner) ?? []), image]);
    else queue.push(image);
  }
  const runOn = async (entry: (typeof ready)[number], manifest: BuildManifest) => {
    const { node, connection, remoteRoot } = entry;
    const outputDir = path.join(options.outputDir, node.name);
    await mkdir(outputDir, { recursive: true });
    const stopOnLoss = new AbortController();
    const nodeCancel = options.nodeSignal?.(node.name);
    const onDetach = () => {
      if (reports[node.name]!.status === "ok") reports[node.name]!.status = "detached";
      stopOnLoss.abort("detached");
    };
    if (options.detach?.aborted) onDetach();
    options.detach?.addEventListener("abort", onDetach, { once: true });
    const unsubscribe = connection.onClose((reason) => {
      if (reports[node.name]!.status === "ok") {
        reports[node.name]!.status = "lost";
        reports[node.name]!.error = reason;
        emit({ type: "node:lost", node: node.name, reason });
      }
      stopOnLoss.abort(`node ${node.name} lost: ${reason}`);
    });
    const signal = nodeCancel
      ? options.signal
        ? AbortSignal.any([options.signal, nodeCancel])
        : nodeCancel
      : options.signal;
    try {
      const target = remoteTarget(connection, { dockerSocket: node.dockerSocket, madRoot: remoteRoot });
      const runStarted = performance.now();
      const result = await runRunPhase(
        {
          ...options,
          manifest,
          target,
          endpoint: target.endpoint,
          outputDir,
          summaryOutput: undefined,
          machineName: node.name,
          signal,
          isTargetLost: () => connection.isClosed || options.detach?.aborted === true,
          abandon: stopOnLoss.signal,
          onOutput: options.onOutput
            ? (model, chunk) => options.onOutput!(node.name, model, chunk)
            : undefined,
          runId: options.runId,
        },
        (event) => emit({ ...event, node: node.name }),
      );
      trace(`${node.name} run phase`, runStarted);
      results.push({ node: node.name, result });
      reports[node.name]!.successful += result.summary.successful_runs.length;
      reports[node.name]!.failed += result.summary.failed_runs.length;
      return result;
    } catch (error) {
      const info = toErrorInfo(error);
      if (reports[node.name]!.status === "ok") reports[node.name]!.error = info.message;
      emit({
        type: "node:failed",
        node: node.name,
        error: info.message,
        ...(info.hint ? { hint: info.hint } : {}),
      });
      return undefined;
    } finally {
      unsubscribe();
      options.detach?.removeEventListener("abort", onDetach);
      if (nodeCancel?.aborted && reports[node.name]!.status === "ok")
        reports[node.name]!.status = "cancelled";
    }
  };
  const stopped = (name: string) =>
    options.signal?.aborted === true ||
    options.detach?.aborted === true ||
    options.nodeSignal?.(name)?.aborted === true ||
    connections.get(name)?.isClosed === true;

  const parallel = options.maxParallel ?? Math.max(1, ready.length);
  if (options.strategy === "replicate") {
    await mapWithConcurrency(ready, parallel, (entry) => runOn(entry, options.manifest));
  } else {
    await mapWithConcurrency(ready, parallel, async (entry) => {
      const mine = pinned.get(entry.node.name) ?? [];
      if (mine.length > 0) await runOn(entry, subManifest(options.manifest, mine));
      while (queue.length > 0 && !stopped(entry.node.name)) {
        const image = queue.shift()!;
        await runOn(entry, subManifest(options.manifest, [image]));
        const state = journal?.entry(entry.node.name, image)?.state;
        if (stopped(entry.node.name) && (state === undefined || state === "pending")) {
          // the node went away (or was cancelled) before this image started: give it to another node
          queue.unshift(image);
        }
      }
    });
  }
  for (const connection of connections.values()) connection.close();

  const summary: DispatchResult["summary"] = {
    successful_runs: [],
    failed_runs: [],
    total_execution_time: 0,
    nodes: Object.fromEntries(options.nodes.map((node) => [node.name, reports[node.name]!])),
  };
  for (const { result } of results) {
    summary.successful_runs.push(...result.summary.successful_runs);
    summary.failed_runs.push(...result.summary.failed_runs);
    summary.total_execution_time = Number(
      (summary.total_execution_time + result.summary.total_execution_time).toFixed(3),
    );
  }
  const interrupted = options.signal?.aborted === true || options.detach?.aborted === true;
  if (interrupted) (summary as Record<string, unknown>).interrupted = true;
  const undone = options.strategy === "distribute" ? queue.length : 0;
  if (undone > 0) (summary as Record<string, unknown>).not_run = queue;
  if (options.summaryOutput) await writeJsonAtomic(options.summaryOutput, summary, executionSummarySchema);
  const nodeProblems = Object.values(reports).some((report) => report.status !== "ok");
  const failed = summary.failed_runs.length > 0 || nodeProblems || undone > 0 || ready.length === 0;
  return {
    summary,
    results,
    interrupted,
    exitCode: interrupted ? ExitCode.FAILURE : failed ? ExitCode.RUN_FAILURE : ExitCode.SUCCESS,
  };
}
