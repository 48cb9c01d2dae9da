import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ExitCode, MadError } from "../../../shared/errors.js";
import type { BuildEventListener } from "../../../shared/events.js";
import type { Context } from "../../../shared/schemas/context.js";
import {
  type BuildInfo,
  type BuildManifest,
  buildManifestSchema,
  MANIFEST_SCHEMA_VERSION,
} from "../../../shared/schemas/manifest.js";
import type { ModelEntry } from "../../../shared/schemas/model.js";
import { type BuildSummary, buildSummarySchema } from "../../../shared/schemas/summaries.js";
import { selectModels } from "../discovery/selectModels.js";
import { discoverModels } from "../discovery/zoo.js";
import { type DockerEndpoint, ensureDockerReachable } from "../docker/client.js";
import { writeJsonAtomic } from "../util/jsonFiles.js";
import { LiveLogFile } from "../util/logFile.js";
import { mapWithConcurrency } from "../util/pool.js";
import { Redactor } from "../util/redact.js";
import { trace } from "../util/trace.js";
import { buildImage, ImageBuildError } from "./buildImage.js";
import { credentialEntry, type LoadedCredentials, loadCredentials } from "./credentials.js";
import { selectDockerfiles } from "./dockerfiles.js";
import { buildLogName, localImageName } from "./names.js";
import { pushImage } from "./pushImage.js";
import { probeRegistry, registryAuth, registryTarget } from "./registry.js";

export interface BuildPhaseOptions {
  madRoot: string;
  tags: readonly string[];
  context: Context;
  /** `MAD_SECRETS*` names in the context: kept out of the manifest and logs. */
  contextSecretNames: readonly string[];
  registry?: string | undefined;
  cleanDockerCache: boolean;
  manifestOutput: string;
  summaryOutput?: string | undefined;
  /** Where build logs are written (the original: the working directory). */
  logDir: string;
  jobs?: number | undefined;
  endpoint: DockerEndpoint;
  env?: NodeJS.ProcessEnv;
  /** Cancels the build between images: images already building finish, the rest are reported cancelled. */
  signal?: AbortSignal | undefined;
}

export interface BuildPhaseResult {
  manifest: BuildManifest;
  summary: BuildSummary;
  exitCode: ExitCode;
}

interface BuildJob {
  model: ModelEntry;
  dockerfile: string;
  image: string;
  logFile: string;
}

/** A sensible parallelism: builds are CPU and I/O bound in the daemon, so a few at a time. */
export function defaultBuildJobs(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

function credentialBuildArgs(
  model: ModelEntry,
  credentials: LoadedCredentials,
): { args: Record<string, string>; error?: string } {
  if (!model.cred) return { args: {} };
  const entry = credentialEntry(credentials, model.cred);
  if (!entry) {
    if (!credentials.fromFile) return { args: {} };
    return { args: {}, error: `credential "${model.cred}" (model ${model.name}) is not in credential.json` };
  }
  const args: Record<string, string> = {};
  for (const [field, value] of Object.entries(entry)) {
    if (typeof value === "string") args[`${model.cred}_${field.toUpperCase()}`] = value;
  }
  return { args };
}

function manifestContext(context: Context, secretNames: readonly string[]): Context {
  const withoutSecrets = <V>(map: Record<string, V> | undefined) =>
    Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => !secretNames.includes(key))) as Record<
      string,
      V
    >;
  const out: Context = {
    docker_env_vars: withoutSecrets(context.docker_env_vars),
    docker_mounts: context.docker_mounts ?? {},
    docker_build_arg: withoutSecrets(context.docker_build_arg),
  };
  for (const key of ["gpu_vendor", "guest_os", "docker_gpus", "multi_node_args"] as const) {
    if (context[key] !== undefined) (out as Record<string, unknown>)[key] = context[key];
  }
  return out;
}

/**
 * The build phase (spec §4): select models, pick each one's Dockerfiles, build them (several at
 * once), push to the registry if one is given, and write build_manifest.json (after every image, so
 * a crash keeps what was built) and the build summary.
 */
export async function runBuildPhase(
  options: BuildPhaseOptions,
  emit: BuildEventListener,
): Promise<BuildPhaseResult> {
  const started = performance.now();
  const env = options.env ?? process.env;
  // discovery (python3 subprocesses) and the daemon check overlap
  const discovery = discoverModels(options.madRoot);
  const daemon = ensureDockerReachable(options.endpoint);
  daemon.catch(() => {}); // a zoo error is reported first; this keeps the other from going unhandled
  const zoo = await discovery;
  trace("build: models discovered");
  const selected = selectModels(zoo, options.tags);
  if (selected.length === 0) {
    throw new MadError("INVALID_ARGS", "no models selected", {
      hint: "pass --tags with model names or tags (e.g. --tags dummies, or --tags all)",
    });
  }
  await daemon;
  trace("build: daemon reachable");
  const credentials = await loadCredentials(zoo.root, env);
  const contextSecrets = options.contextSecretNames.map((name) => env[name] ?? "").filter(Boolean);
  const redactor = new Redactor([...credentials.secretValues, ...contextSecrets]);

  const summary: BuildSummary = { successful_builds: [], failed_builds: [], total_build_time: 0 };
  const manifest: BuildManifest = {
    schema_version: MANIFEST_SCHEMA_VERSION,
    built_images: {},
    built_models: {},
    context: manifestContext(options.context, options.contextSecretNames),
    credentials_required: [
      ...new Set(selected.map((s) => s.model.cred).filter((c): c is string => Boolean(c))),
    ],
  };
  if (options.registry) manifest.registry = options.registry;

  if (
    options.context.gpu_vendor &&
    options.context.gpu_vendor !== "NONE" &&
    !options.context.docker_build_arg?.MAD_SYSTEM_GPU_ARCHITECTURE
  ) {
    emit({
      type: "log",
      level: "warn",
      message:
        'docker_build_arg.MAD_SYSTEM_GPU_ARCHITECTURE is not set: Dockerfiles that need it get an empty value (e.g. -c \'{"docker_build_arg": {"MAD_SYSTEM_GPU_ARCHITECTURE": "gfx942"}}\')',
    });
  }

  const jobs: BuildJob[] = [];
  const planned = new Set<string>();
  for (const { model } of selected) {
    const selection = await selectDockerfiles(zoo.root, model.dockerfile, options.context);
    if (!selection.ok) {
      summary.failed_builds.push({ model: model.name, error: `${selection.error} (${selection.hint})` });
      continue;
    }
    for (const candidate of selection.matching) {
      const image = localImageName(model.name, candidate.file);
      if (planned.has(image)) continue;
      planned.add(image);
      jobs.push({
        model,
        dockerfile: candidate.file,
        image,
        logFile: path.join(options.logDir, buildLogName(model.name, candidate.file)),
      });
    }
  }
  trace("build: dockerfiles selected");
  emit({
    type: "build:planned",
    images: jobs.map((job) => ({ image: job.image, model: job.model.name, dockerfile: job.dockerfile })),
    failures: summary.failed_builds.map((failure) => ({ model: failure.model, error: failure.error })),
  });
  for (const failure of summary.failed_builds)
    emit({ type: "build:failed", model: failure.model, error: failure.error });

  let registryProblem: string | undefined;
  if (options.registry) {
    const probe = await probeRegistry(options.registry);
    if (!probe.ok) {
      registryProblem = `registry ${options.registry} is unreachable: ${probe.reason}`;
      emit({ type: "log", level: "warn", message: `${registryProblem}; images are built but not pushed` });
    }
  }

  await mkdir(options.logDir, { recursive: true });
  let manifestWrites = Promise.resolve();
  const saveManifest = () => {
    manifestWrites = manifestWrites.then(() =>
      writeJsonAtomic(options.manifestOutput, manifest, buildManifestSchema),
    );
    return manifestWrites;
  };

  await mapWithConcurrency(jobs, options.jobs ?? defaultBuildJobs(), async (job) => {
    if (options.signal?.aborted) {
      const reason = typeof options.signal.reason === "string" ? options.signal.reason : "cancelled";
      summary.failed_builds.push({ model: job.model.name, dockerfile: job.dockerfile, error: reason });
      emit({ type: "build:failed", image: job.image, model: job.model.name, error: reason });
      return;
    }
    const log = new LiveLogFile(job.logFile, redactor);
    emit({
      type: "build:start",
      image: job.image,
      model: job.model.name,
      dockerfile: job.dockerfile,
      logFile: job.logFile,
    });
    try {
      const credentialArgs = credentialBuildArgs(job.model, credentials);
      if (credentialArgs.error) throw new ImageBuildError(credentialArgs.error, undefined, []);
      if (Object.keys(credentialArgs.args).length > 0) {
        emit({
          type: "log",
          level: "warn",
          message: `model ${job.model.name}: credential "${job.model.cred}" is passed as build args, which stay visible in the image history`,
        });
      }
      const buildArgs = { ...(options.context.docker_build_arg ?? {}), ...credentialArgs.args };
      const secretBuildArgs = new Set([...Object.keys(credentialArgs.args), ...options.contextSecretNames]);
      const result = await buildImage(
        options.endpoint,
        {
          madRoot: zoo.root,
          model: job.model.name,
          dockerfile: job.dockerfile,
          contextDir: job.model.dockercontext || "./docker",
          image: job.image,
          buildArgs,
          secretBuildArgs,
          noCache: options.cleanDockerCache,
          log,
        },
        emit,
      );
      const info: BuildInfo = {
        docker_image: job.image,
        dockerfile: job.dockerfile,
        base_docker: result.baseDocker,
        docker_sha: result.dockerSha,
        build_duration: Number(result.durationSec.toFixed(3)),
        build_command: result.buildCommand,
        log_file: path.basename(job.logFile),
        image_id: result.imageId,
      };
      if (!result.skipped)
        emit({
          type: "build:done",
          image: job.image,
          durationSec: result.durationSec,
          imageId: result.imageId,
        });

      if (options.registry) {
        const target = registryTarget(job.image, options.registry, credentials);
        info.registry_image = target.reference;
        emit({ type: "push:start", image: job.image, registryImage: target.reference });
        try {
          if (registryProblem) throw new Error(registryProblem);
          const pushed = await pushImage(
            options.endpoint,
            job.image,
            target,
            registryAuth(options.registry, credentials),
            log,
            emit,
          );
          info.registry_digest = pushed.digest;
        } catch (error) {
          const message = redactor.redact((error as Error).message);
          info.push_failed = true;
          info.push_error = message;
          manifest.push_failures = [
            ...(manifest.push_failures ?? []),
            { image: job.image, intended_registry_image: target.reference, error: message },
          ];
          log.line(`push failed: ${message}`);
          emit({ type: "push:failed", image: job.image, registryImage: target.reference, error: message });
        }
      }
      manifest.built_images[job.image] = info;
      manifest.built_models[job.image] = job.model;
      summary.successful_builds.push({
        model: job.model.name,
        dockerfile: job.dockerfile,
        build_info: info,
        ...(result.skipped ? { up_to_date: true } : {}),
      });
      await saveManifest();
    } catch (error) {
      const message = redactor.redact(error instanceof Error ? error.message : String(error));
      const tail = error instanceof ImageBuildError && error.lastLines.length > 0 ? error.lastLines : [];
      summary.failed_builds.push({ model: job.model.name, dockerfile: job.dockerfile, error: message });
      emit({
        type: "build:failed",
        image: job.image,
        model: job.model.name,
        error: tail.length > 0 ? `${message}\n${tail.map((line) => `  | ${line}`).join("\n")}` : message,
      });
      if (error instanceof MadError && error.code === "DOCKER_UNAVAILABLE") throw error;
    } finally {
      await log.close().catch(() => {});
    }
  });

  summary.total_build_time = Number(((performance.now() - started) / 1000).toFixed(3));
  // keep the order users expect: as selected, not as finished
  const order = new Map(jobs.map((job, index) => [job.image, index]));
  summary.successful_builds.sort(
    (a, b) => order.get(a.build_info.docker_image)! - order.get(b.build_info.docker_image)!,
  );
  const byOrder = <V>(map: Record<string, V>) =>
    Object.fromEntries(Object.entries(map).sort(([a], [b]) => order.get(a)! - order.get(b)!));
  manifest.built_images = byOrder(manifest.built_images);
  manifest.built_models = byOrder(manifest.built_models);
  await saveManifest();
  trace("build: manifest written");
  if (options.summaryOutput) await writeJsonAtomic(options.summaryOutput, summary, buildSummarySchema);
  const failed = summary.failed_builds.length > 0 || (manifest.push_failures?.length ?? 0) > 0;
  return { manifest, summary, exitCode: failed ? ExitCode.BUILD_FAILURE : ExitCode.SUCCESS };
}
