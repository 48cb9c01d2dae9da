import type Docker from "dockerode";
import { type DockerEndpoint, describeDockerError } from "../docker/client.js";
import { DockerStreamDemuxer } from "./demux.js";
import { FINISHED, GIT_COMMIT, MODEL_END, MODEL_START } from "./inContainerScript.js";
import { MarkerWatcher } from "./markers.js";
import { PerformanceScanner } from "./results/performanceLine.js";
import type { RunLogWriter } from "./runLog.js";

export interface ContainerRunRequest {
  endpoint: DockerEndpoint;
  spec: Docker.ContainerCreateOptions & { name: string };
  log: RunLogWriter;
  /** Wall clock for the whole container in seconds; undefined or 0: none. */
  timeoutSec?: number | undefined;
  keepAlive: boolean;
  /** Raw output as it arrives (for --live-output). */
  onOutput?: ((chunk: Buffer) => void) | undefined;
  /** Aborted on Ctrl-C: the container is stopped. */
  signal?: AbortSignal | undefined;
  /** Aborted when the target is gone (a node's connection dropped): stop waiting at once, kill nothing. */
  abandon?: AbortSignal | undefined;
  /** Called once the container exists, before it starts (its id goes into the run journal first). */
  onCreated?: ((containerId: string) => Promise<void> | void) | undefined;
  /**
   * Re-attach to a container started by an earlier (killed or disconnected) invocation: its whole
   * output is read again from the daemon, and the wall clock continues from its start.
   */
  resume?: { containerId: string; startedAt: string } | undefined;
  /** Leave removing the finished container to the caller (see `removable` in the result). */
  deferRemoval?: boolean | undefined;
}

export interface ContainerRunResult {
  containerId: string;
  /** The container's exit status (137 after a kill); undefined when it never ended (keep-alive). */
  exitCode: number | undefined;
  /** The model command's own exit status, read from the script's marker. */
  modelExitCode: number | undefined;
  timedOut: boolean;
  interrupted: boolean;
  /** Seconds the model command ran (between the script's markers), else the container's run time. */
  modelSeconds: number;
  performance: { value: string; metric: string } | undefined;
  /** The commit of the model's cloned repository (models with a `url`). */
  gitCommit: string | undefined;
  /** Set when the daemon failed us mid-run (stopped, vanished). */
  daemonError: string | undefined;
  /** Whether the container should go once its results are recorded (not kept alive). */
  removable: boolean;
}

export class ContainerNameInUseError extends Error {}
export class ContainerLostError extends Error {}

/** Resolves when `signal` aborts (at once if it already has); never, without a signal. */
function whenAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * Runs one model container: create, attach before start (no output lost), stream output to the log
 * (pausing the container's stream when the disk is behind), kill on timeout or abort, wait, remove
 * unless kept alive.
 */
export async function runModelContainer(request: ContainerRunRequest): Promise<ContainerRunResult> {
  const { docker } = request.endpoint;
  let container: Docker.Container;
  let resume = request.resume;
  let created: Docker.Container | undefined;
  if (!resume) {
    // create straight away (one round trip); only a taken name costs a look at who holds it
    try {
      created = await docker.createContainer(request.spec);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 409)
        throw describeDockerError(request.endpoint, error);
      const existing = await docker
        .getContainer(request.spec.name)
        .inspect()
        .catch(() => undefined);
      const runId = request.spec.Labels?.["org.madengine.run-id"];
      if (existing && runId && existing.Config.Labels?.["org.madengine.run-id"] === runId) {
        // ours, from this very run (the CLI died between creating it and recording it): adopt it
        resume = {
          containerId: existing.Id,
          startedAt: existing.State.StartedAt.startsWith("0001")
            ? new Date().toISOString()
            : existing.State.StartedAt,
        };
      } else if (existing) {
        throw new ContainerNameInUseError(
          `a container named ${request.spec.name} already exists (${existing.State.Status}); remove it with: docker rm -f ${request.spec.name}`,
        );
      } else {
        throw describeDockerError(request.endpoint, error);
      }
    }
  }
  if (resume) {
    container = docker.getContainer(resume.containerId);
    const alive = await container.inspect().catch(() => undefined);
    if (!alive)
      throw new ContainerLostError(
        `container ${resume.containerId.slice(0, 12)} is gone: its results cannot be recovered`,
      );
    if (alive.State.Status === "created") {
      // created but never started before the interruption: start it now, output is replayed from the logs
      await container.start().catch((error: unknown) => {
        throw describeDockerError(request.endpoint, error);
      });
      resume = { ...resume, startedAt: new Date().toISOString() };
    }
  } else {
    container = created!;
    await request.onCreated?.(container.id);
  }
  const scanner = new PerformanceScanner();
  let modelStartedAt: number | undefined;
  let modelEndedAt: number | undefined;
  let modelExitCode: number | undefined;
  let gitCommit: string | undefined;
  let finishedResolve: (() => void) | undefined;
  const finishedMarker = new Promise<void>((resolve) => {
    finishedResolve = resolve;
  });
  const markers = new MarkerWatcher((line) => {
    if (line.startsWith(MODEL_START)) modelStartedAt = performance.now();
    else if (line.startsWith(GIT_COMMIT)) gitCommit = line.slice(GIT_COMMIT.length).trim() || undefined;
    else if (line.startsWith(MODEL_END)) {
      modelEndedAt = performance.now();
      modelExitCode = Number(line.slice(MODEL_END.length).trim());
    } else if (line.startsWith(FINISHED)) {
      if (modelExitCode === undefined) modelExitCode = Number(line.slice(FINISHED.length).trim());
      finishedResolve?.();
    }
  });

  // a new container is attached before it starts (no output lost); a resumed one replays its logs
  const attached = (resume
    ? await container.logs({ follow: true, stdout: true, stderr: true })
    : await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
      })) as unknown as NodeJS.ReadableStream & { pause(): void; resume(): void };
  const demuxer = new DockerStreamDemuxer((payload) => {
    markers.push(payload);
    scanner.push(payload);
    request.onOutput?.(payload);
    if (!request.log.write(payload)) {
      attached.pause();
      void request.log.drained().then(() => attached.resume());
    }
  });
  const streamDone = new Promise<void>((resolve) => {
    attached.on("data", (chunk: Buffer) => demuxer.push(chunk));
    attached.on("end", resolve);
    attached.on("close", resolve);
    attached.on("error", () => resolve());
  });

  let timedOut = false;
  let interrupted = false;
  let daemonError: string | undefined;
  const kill = async () => {
    await container.kill({ signal: "SIGKILL" }).catch(() => {});
  };
  const startedAt = performance.now();
  let elapsedBeforeMs = 0;
  if (resume) {
    elapsedBeforeMs = Math.max(0, Date.now() - Date.parse(resume.startedAt));
  } else {
    try {
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => {});
      throw describeDockerError(request.endpoint, error);
    }
  }
  const timer =
    request.timeoutSec && request.timeoutSec > 0
      ? setTimeout(
          () => {
            timedOut = true;
            request.log.line(`\n::madengine:: timeout after ${request.timeoutSec} s: killing the container`);
            void kill();
          },
          Math.max(0, request.timeoutSec * 1000 - elapsedBeforeMs),
        )
      : undefined;
  const onAbort = () => {
    interrupted = true;
    request.log.line("\n::madengine:: interrupted: stopping the container");
    void kill();
  };
  request.signal?.addEventListener("abort", onAbort, { once: true });
  if (request.signal?.aborted) onAbort();

  let exitCode: number | undefined;
  try {
    if (request.keepAlive) {
      // the container stays up after the model; stop listening once the script says it finished
      const waitAbort = new AbortController();
      const exited = container
        .wait({ abortSignal: waitAbort.signal })
        .then((status: { StatusCode: number }) => {
          exitCode = status.StatusCode;
        });
      exited.catch(() => {});
      await Promise.race([finishedMarker, exited, whenAborted(request.abandon)]);
      if (timedOut || interrupted) await exited.catch(() => {});
      waitAbort.abort();
      (attached as unknown as { destroy?: () => void }).destroy?.();
    } else {
      const waitAbort = new AbortController();
      const waited = container.wait({ abortSignal: waitAbort.signal }) as Promise<{ StatusCode: number }>;
      waited.catch(() => {});
      // an aborted wait() whose response had begun may never settle: stop waiting on the signal itself
      const abandoned = whenAborted(request.abandon).then(() => {
        waitAbort.abort();
        throw new Error("stopped following the container (it goes on)");
      });
      abandoned.catch(() => {});
      const status = await Promise.race([waited, abandoned]);
      exitCode = status.StatusCode;
      // the output stream normally ends before wait() returns; never hang on one that does not
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([streamDone, new Promise((resolve) => (grace = setTimeout(resolve, 2000)))]);
      clearTimeout(grace);
    }
  } catch (error) {
    daemonError = describeDockerError(request.endpoint, error).message;
  } finally {
    if (timer) clearTimeout(timer);
    request.signal?.removeEventListener("abort", onAbort);
  }
  scanner.end();
  const endedAt = performance.now();
  let modelSeconds =
    modelStartedAt !== undefined
      ? ((modelEndedAt ?? endedAt) - modelStartedAt) / 1000
      : (endedAt - startedAt) / 1000;
  if (resume) {
    // replayed output arrives all at once: take the container's own clock instead
    const state = (await container.inspect().catch(() => undefined))?.State;
    const finished =
      state?.FinishedAt && !state.FinishedAt.startsWith("0001") ? Date.parse(state.FinishedAt) : Date.now();
    if (state?.StartedAt) modelSeconds = Math.max(0, (finished - Date.parse(state.StartedAt)) / 1000);
  }
  const removable = !request.keepAlive || timedOut || interrupted || daemonError !== undefined;
  // with a journal the caller removes the container once the results are safely recorded
  if (removable && !request.deferRemoval && !request.abandon?.aborted)
    await container.remove({ force: true }).catch(() => {});
  const last = scanner.last;
  return {
    containerId: container.id,
    exitCode,
    modelExitCode,
    timedOut,
    interrupted,
    modelSeconds,
    performance: last ? { value: last.value, metric: last.metric } : undefined,
    gitCommit,
    daemonError,
    removable,
  };
}
