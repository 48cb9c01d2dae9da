import type { BuildEventListener } from "../../../shared/events.js";
import { type DockerEndpoint, describeDockerError } from "../docker/client.js";
import { readProgressStream } from "../docker/progressStream.js";
import type { LiveLogFile } from "../util/logFile.js";
import type { AuthConfig, RegistryTarget } from "./registry.js";

export interface PushResult {
  digest: string;
}

const DIGEST_IN_STATUS = /digest: (sha256:[0-9a-f]{64})/;

/**
 * Tags the local image for the registry and pushes it through the Docker API, returning the digest
 * the registry answered with. Credentials travel as the API's auth config, never in logs.
 */
export async function pushImage(
  endpoint: DockerEndpoint,
  localImage: string,
  target: RegistryTarget,
  auth: AuthConfig,
  log: LiveLogFile,
  emit: BuildEventListener,
): Promise<PushResult> {
  const { docker } = endpoint;
  log.line(`> docker push ${target.reference}`);
  let stream: NodeJS.ReadableStream;
  try {
    await docker.getImage(localImage).tag({ repo: target.repository, tag: target.tag });
    stream = await docker
      .getImage(`${target.repository}:${target.tag}`)
      .push({ tag: target.tag, authconfig: auth });
  } catch (error) {
    throw describeDockerError(endpoint, error);
  }
  let digest = "";
  const outcome = await readProgressStream(stream, (event) => {
    if (event.aux?.Digest) digest = event.aux.Digest;
    const statusDigest = event.status ? DIGEST_IN_STATUS.exec(event.status) : null;
    if (statusDigest && !digest) digest = statusDigest[1]!;
    if (event.status && !event.progress) log.line(`${event.id ? `${event.id}: ` : ""}${event.status}`);
    if (event.error) log.line(`ERROR: ${event.errorDetail?.message ?? event.error}`);
  });
  if (outcome.error) throw new Error(outcome.error);
  if (!digest) throw new Error(`the registry accepted ${target.reference} but reported no digest`);
  emit({ type: "push:done", image: localImage, registryImage: target.reference, digest });
  return { digest };
}
