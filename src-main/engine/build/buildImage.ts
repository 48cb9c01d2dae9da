import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import type { BuildEventListener } from "../../../shared/events.js";
import { type DockerEndpoint, describeDockerError } from "../docker/client.js";
import { readProgressStream } from "../docker/progressStream.js";
import type { LiveLogFile } from "../util/logFile.js";
import { shellJoin } from "../util/shellQuote.js";
import { trace } from "../util/trace.js";
import { contextTarStream, readBuildContext } from "./buildContext.js";
import { ensureLocalBaseImage, isLocallyMadeBase } from "./localBaseImage.js";

/** Label holding the hash of everything a build depends on; equal hash => no rebuild needed. */
export const INPUTS_HASH_LABEL = "org.madengine.inputs-hash";
/** Bumped when the way we build changes, so old images are rebuilt once. */
const BUILD_RECIPE_VERSION = "1";

export interface ImageBuildRequest {
  madRoot: string;
  model: string;
  /** Dockerfile path relative to the MAD root. */
  dockerfile: string;
  /** Build context directory as written in the model (`dockercontext`, default `./docker`). */
  contextDir: string;
  image: string;
  buildArgs: Record<string, string>;
  /** Build-arg names whose values are secret: masked in the recorded build command. */
  secretBuildArgs: ReadonlySet<string>;
  noCache: boolean;
  log: LiveLogFile;
}

export interface ImageBuildResult {
  imageId: string;
  baseDocker: string;
  dockerSha: string;
  buildCommand: string;
  durationSec: number;
  /** True when the image was up to date and no build ran. */
  skipped: boolean;
}

export class ImageBuildError extends Error {
  constructor(
    message: string,
    readonly failedStep: string | undefined,
    readonly lastLines: string[],
  ) {
    super(message);
  }
}

function baseDockerOf(dockerfileText: string, buildArgs: Record<string, string>): string {
  if (buildArgs.BASE_DOCKER) return buildArgs.BASE_DOCKER;
  const line = /^\s*ARG\s+BASE_DOCKER=(\S+)/m.exec(dockerfileText);
  if (line) return line[1]!.replace(/^["']|["']$/g, "");
  const from = /^\s*FROM\s+(\S+)/im.exec(dockerfileText);
  return from && !from[1]!.startsWith("$") ? from[1]! : "";
}

function describeBuildCommand(request: ImageBuildRequest): string {
  const words = ["docker", "build"];
  if (request.noCache) words.push("--no-cache");
  words.push("--network=host", "-t", request.image, "-f", request.dockerfile);
  for (const [key, value] of Object.entries(request.buildArgs)) {
    words.push("--build-arg", `${key}=${request.secretBuildArgs.has(key) ? "***" : value}`);
  }
  words.push(request.contextDir);
  return shellJoin(words);
}

/** The base image's facts; the zoo's locally made base is made first when the daemon lacks it. */
async function resolveBaseImage(
  docker: Docker,
  reference: string,
  log: (line: string) => void,
): Promise<{ id: string; digest: string }> {
  const facts = await baseImageFacts(docker, reference);
  if (facts.id !== "" || !reference || !isLocallyMadeBase(reference)) return facts;
  await ensureLocalBaseImage(docker, reference, log);
  return baseImageFacts(docker, reference);
}

async function baseImageFacts(docker: Docker, reference: string): Promise<{ id: string; digest: string }> {
  if (reference === "" || reference === "scratch") return { id: "", digest: "" };
  try {
    const info = await docker.getImage(reference).inspect();
    const repoDigest = info.RepoDigests?.[0];
    return { id: info.Id, digest: repoDigest ? repoDigest.slice(repoDigest.indexOf("@") + 1) : info.Id };
  } catch {
    return { id: "", digest: "" };
  }
}

const STEP_LINE = /^Step (\d+)\/(\d+) : (.*)$/;

/**
 * Builds one image through the Docker API: the context is sent as a tar (honouring .dockerignore),
 * output goes to the log as it arrives, and failure is read from the event stream. An image whose
 * inputs hash label matches is not rebuilt (unless noCache).
 */
export async function buildImage(
  endpoint: DockerEndpoint,
  request: ImageBuildRequest,
  emit: BuildEventListener,
): Promise<ImageBuildResult> {
  const { docker } = endpoint;
  const started = performance.now();
  const dockerfilePath = path.resolve(request.madRoot, request.dockerfile);
  const contextPath = path.resolve(request.madRoot, request.contextDir);
  const contextInfo = await stat(contextPath).catch(() => undefined);
  if (!contextInfo?.isDirectory()) {
    throw new ImageBuildError(
      `build context directory ${request.contextDir} does not exist (model ${request.model}, resolved to ${contextPath})`,
      undefined,
      [],
    );
  }
  const dockerfileText = await readFile(dockerfilePath, "utf8");
  const baseDocker = baseDockerOf(dockerfileText, request.buildArgs);
  const buildCommand = describeBuildCommand(request);
  const { log } = request;
  log.line(`MAD_CONTAINER_IMAGE is ${request.image}`);
  log.line(`BASE DOCKER is ${baseDocker}`);
  log.line(`> ${buildCommand}`);

  // the base image's facts, the context and our image's current label are independent: ask at once
  const [base, context, existing] = await Promise.all([
    resolveBaseImage(docker, baseDocker, (line) => {
      log.line(line);
      emit({ type: "build:output", image: request.image, text: `${line}\n` });
    }),
    readBuildContext(contextPath, dockerfilePath),
    request.noCache
      ? undefined
      : docker
          .getImage(request.image)
          .inspect()
          .catch(() => undefined),
  ]);
  trace(`build ${request.image}: base image, context and image inspected`);
  log.line(`BASE DOCKER SHA is ${base.digest}`);
  const inputsHash = createHash("sha256")
    .update(
      JSON.stringify({
        recipe: BUILD_RECIPE_VERSION,
        image: request.image,
        dockerfile: context.dockerfileInContext,
        context: context.digest,
        buildArgs: Object.entries(request.buildArgs).sort(([a], [b]) => a.localeCompare(b)),
        baseImageId: base.id,
      }),
    )
    .digest("hex");

  if (existing?.Config?.Labels?.[INPUTS_HASH_LABEL] === inputsHash) {
    const durationSec = (performance.now() - started) / 1000;
    log.line(`${request.image} is up to date (inputs unchanged): build skipped`);
    emit({ type: "build:skipped", image: request.image, reason: "inputs unchanged since the last build" });
    return {
      imageId: existing.Id,
      baseDocker,
      dockerSha: base.digest,
      buildCommand,
      durationSec,
      skipped: true,
    };
  }

  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(contextTarStream(context) as unknown as NodeJS.ReadableStream, {
      t: request.image,
      dockerfile: context.dockerfileInContext,
      buildargs: request.buildArgs,
      nocache: request.noCache,
      networkmode: "host",
      rm: true,
      forcerm: true,
      // one label: the classic builder turns each into a LABEL step of its own, which costs a container
      // create + commit whenever that layer is not cached (e.g. after the image was removed)
      labels: { [INPUTS_HASH_LABEL]: inputsHash },
    });
  } catch (error) {
    throw describeDockerError(endpoint, error);
  }
  let failedStep: string | undefined;
  let currentStep: string | undefined;
  let builtId: string | undefined;
  const outcome = await readProgressStream(stream, (event) => {
    // the classic builder names the image it made: no inspect needed afterwards
    if (event.aux?.ID) builtId = event.aux.ID;
    if (event.stream) {
      const text = log.write(event.stream);
      for (const line of text.split("\n")) {
        const step = STEP_LINE.exec(line);
        if (step) {
          currentStep = line;
          emit({
            type: "build:step",
            image: request.image,
            step: Number(step[1]),
            totalSteps: Number(step[2]),
            instruction: step[3]!,
          });
        }
      }
      emit({ type: "build:output", image: request.image, text });
    }
    if (event.error || event.errorDetail) {
      failedStep = currentStep;
      const message = log.line(`ERROR: ${event.errorDetail?.message ?? event.error}`);
      emit({ type: "build:output", image: request.image, text: message });
    }
  });
  trace(`build ${request.image}: daemon build ended`);
  const durationSec = (performance.now() - started) / 1000;
  log.line(`Build Duration: ${durationSec.toFixed(3)}`);
  if (outcome.error) {
    throw new ImageBuildError(
      `${failedStep ? `${failedStep}: ` : ""}${outcome.error}`,
      failedStep,
      log.lastLines(10),
    );
  }
  const imageId = builtId ?? (await docker.getImage(request.image).inspect()).Id;
  return { imageId, baseDocker, dockerSha: base.digest, buildCommand, durationSec, skipped: false };
}
