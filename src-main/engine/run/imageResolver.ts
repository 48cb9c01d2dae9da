import type { BuildInfo } from "../../../shared/schemas/manifest.js";
import { isDockerHub, type LoadedCredentials } from "../build/credentials.js";
import { registryAuth } from "../build/registry.js";
import { type DockerEndpoint, describeDockerError } from "../docker/client.js";
import { readProgressStream } from "../docker/progressStream.js";

export interface ResolvedImage {
  /** What the container is created from. */
  reference: string;
  imageId: string;
  /** How we got it, for the log. */
  source: "registry (by digest)" | "registry" | "local";
  warning?: string;
}

/** `host:port/repo/name:tag` -> `host:port/repo/name` (the tag after the last path segment's colon). */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf("@");
  const withoutDigest = at >= 0 ? reference.slice(0, at) : reference;
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

function registryHostOf(reference: string): string | undefined {
  const first = reference.split("/")[0]!;
  if (!reference.includes("/")) return undefined;
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : undefined;
}

/** `--registry` moves an image to another registry (a mirror): same repository path, other host. */
export function withRegistry(reference: string, registry: string): string {
  const host = registryHostOf(reference);
  const path = host ? reference.slice(host.length + 1) : reference;
  return isDockerHub(registry) ? path : `${registry.replace(/\/+$/, "")}/${path}`;
}

async function localImageId(endpoint: DockerEndpoint, reference: string): Promise<string | undefined> {
  try {
    return (await endpoint.docker.getImage(reference).inspect()).Id;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw describeDockerError(endpoint, error);
  }
}

async function pull(
  endpoint: DockerEndpoint,
  reference: string,
  credentials: LoadedCredentials,
): Promise<void> {
  const registry = registryHostOf(reference) ?? "docker.io";
  let stream: NodeJS.ReadableStream;
  try {
    stream = await endpoint.docker.pull(reference, { authconfig: registryAuth(registry, credentials) });
  } catch (error) {
    throw describeDockerError(endpoint, error);
  }
  const outcome = await readProgressStream(stream, () => {});
  if (outcome.error) throw new Error(outcome.error);
}

/**
 * Finds the image a manifest entry names ("manifest-true runs"): with a recorded digest it is pulled
 * by digest and its id checked against the build's; otherwise the registry image or the local tag is
 * used. Falls back to a matching local image when the registry cannot be reached.
 */
export async function resolveImage(
  endpoint: DockerEndpoint,
  info: BuildInfo,
  credentials: LoadedCredentials,
  registryOverride?: string,
): Promise<ResolvedImage> {
  const registryImage = info.registry_image
    ? registryOverride
      ? withRegistry(info.registry_image, registryOverride)
      : info.registry_image
    : undefined;
  const reference =
    registryImage && info.registry_digest
      ? `${repositoryOf(registryImage)}@${info.registry_digest}`
      : registryImage;
  // the local tag and the pinned digest are looked up at once (one round trip to a node's daemon)
  const [local, byDigest] = await Promise.all([
    localImageId(endpoint, info.docker_image),
    reference && info.registry_digest
      ? localImageId(endpoint, reference).then(
          (id) => ({ id }),
          (error: unknown) => ({ error }),
        )
      : undefined,
  ]);
  const localMatches = local !== undefined && (info.image_id === undefined || local === info.image_id);
  if (!info.registry_image || !reference) {
    if (local === undefined) {
      throw new Error(
        `image ${info.docker_image} is not on this Docker daemon and the manifest names no registry image (build it first: madengine-cli build)`,
      );
    }
    return {
      reference: info.docker_image,
      imageId: local,
      source: "local",
      ...(localMatches
        ? {}
        : { warning: `local ${info.docker_image} is ${local}, not the built ${info.image_id}` }),
    };
  }
  try {
    if (byDigest && "error" in byDigest) throw byDigest.error;
    let pulledId = byDigest?.id;
    if (!pulledId) {
      await pull(endpoint, reference, credentials);
      pulledId = (await localImageId(endpoint, reference))!;
    }
    if (info.image_id && pulledId !== info.image_id) {
      throw new Error(`${reference} is image ${pulledId}, but the manifest recorded ${info.image_id}`);
    }
    // docker_image (no tag of its own: :latest) already naming this very image needs no re-tag
    if (!(local === pulledId && repositoryOf(info.docker_image) === info.docker_image))
      await endpoint.docker.getImage(reference).tag({ repo: info.docker_image, tag: "latest" });
    return {
      reference,
      imageId: pulledId,
      source: info.registry_digest ? "registry (by digest)" : "registry",
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (localMatches) {
      return {
        reference: info.docker_image,
        imageId: local!,
        source: "local",
        warning: `could not pull ${reference} (${reason}); using the identical local image ${info.docker_image}`,
      };
    }
    throw new Error(
      `image ${info.docker_image} is neither on this Docker daemon nor pullable as ${reference}: ${reason}`,
    );
  }
}
