import { toErrorInfo } from "../../../shared/errors.js";
import type { BuildManifest } from "../../../shared/schemas/manifest.js";
import type { Node } from "../../../shared/schemas/nodes.js";
import type { LoadedCredentials } from "../build/credentials.js";
import { registryAuth } from "../build/registry.js";
import { repositoryOf } from "../run/imageResolver.js";
import { mapWithConcurrency } from "../util/pool.js";
import { traced } from "../util/trace.js";
import type { NodeConnection } from "./connection.js";
import { type ConnectOptions, connectNode } from "./connectNode.js";
import { type NodeFacts, probeNode } from "./nodeProbe.js";
import { remoteDockerEndpoint } from "./remoteDocker.js";

export interface PreflightCheck {
  check: "ssh" | "docker" | "gpus" | "disk" | "images";
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface NodePreflight {
  node: string;
  ok: boolean;
  checks: PreflightCheck[];
  facts?: NodeFacts;
  /** Left open for the run that follows (only when ok and the caller keeps connections). */
  connection?: NodeConnection;
}

export interface PreflightOptions {
  connect: ConnectOptions;
  manifest?: BuildManifest | undefined;
  credentials?: LoadedCredentials | undefined;
  /** Free space the work directory needs (default 1 GiB). */
  minFreeBytes?: number;
  /** Keep the connections of nodes that pass (dispatch reuses them). */
  keepConnections?: boolean;
  connectionsAtOnce?: number;
}

const GIB = 1024 ** 3;

function gpusNeeded(manifest: BuildManifest | undefined): { vendor?: string; count: number } {
  if (!manifest) return { count: 0 };
  const vendor = manifest.context.gpu_vendor;
  if (!vendor || vendor === "NONE") return { count: 0 };
  const counts = Object.values(manifest.built_models).map((model) => Number(model.n_gpus));
  return { vendor, count: Math.max(1, ...counts.filter((count) => count > 0)) };
}

async function imageChecks(
  node: Node,
  connection: NodeConnection,
  manifest: BuildManifest,
  credentials?: LoadedCredentials,
): Promise<PreflightCheck> {
  const endpoint = remoteDockerEndpoint(connection, node.dockerSocket);
  const inspectId = (reference: string) =>
    endpoint.docker
      .getImage(reference)
      .inspect()
      .then((image) => image.Id as string)
      .catch(() => undefined);
  // every image is checked at once (a round trip each to the node's daemon, not one after another)
  const infos = Object.values(manifest.built_images);
  const outcomes = await Promise.all(
    infos.map(async (info): Promise<string | undefined> => {
      try {
        if (info.registry_image) {
          const reference = info.registry_digest
            ? `${repositoryOf(info.registry_image)}@${info.registry_digest}`
            : info.registry_image;
          const registry = reference.split("/")[0]!;
          const [local, localTagId] = await Promise.all([
            inspectId(reference),
            info.image_id ? inspectId(info.docker_image) : Promise.resolve(undefined),
          ]);
          // an identical image already on the node (side-loaded, or pulled earlier) needs no registry
          const sameLocal = info.image_id ? localTagId === info.image_id : false;
          if (!local && !sameLocal) {
            const auth = credentials ? registryAuth(registry, credentials) : { serveraddress: registry };
            await endpoint.docker.getImage(reference).distribution({ authconfig: auth });
          }
        } else {
          await endpoint.docker.getImage(info.docker_image).inspect();
        }
        return undefined;
      } catch (error) {
        const message =
          (error as { json?: { message?: string } }).json?.message ?? toErrorInfo(error).message;
        return `${info.registry_image ?? info.docker_image}: ${message}`;
      }
    }),
  );
  const checked = infos.length;
  const problems = outcomes.filter((problem): problem is string => problem !== undefined);
  if (problems.length === 0)
    return { check: "images", ok: true, detail: `${checked} image(s) present or pullable` };
  return {
    check: "images",
    ok: false,
    detail: problems.join("; "),
    fix: "push the images (madengine-cli build --registry ...) to a registry the node can reach, or check its network",
  };
}

/**
 * Checks one node before a run: SSH (reachable, host key, auth), Docker up, GPUs for what the
 * manifest needs, free disk in the work directory, and the manifest's images present or pullable
 * from the node's daemon (which also proves the registry is reachable from the node).
 */
export async function preflightNode(node: Node, options: PreflightOptions): Promise<NodePreflight> {
  const checks: PreflightCheck[] = [];
  let connection: NodeConnection;
  try {
    connection = await traced(`${node.name} connect`, () => connectNode(node, options.connect));
    checks.push({
      check: "ssh",
      ok: true,
      detail: `${node.user}@${node.host}:${node.port}, host key verified`,
    });
  } catch (error) {
    const info = toErrorInfo(error);
    checks.push({ check: "ssh", ok: false, detail: info.message, ...(info.hint ? { fix: info.hint } : {}) });
    return { node: node.name, ok: false, checks };
  }
  let facts: NodeFacts | undefined;
  try {
    // a CPU-only manifest needs no GPU query on every node (several commands each)
    const needsGpus = !options.manifest || gpusNeeded(options.manifest).count > 0;
    facts = await traced(`${node.name} probe`, () => probeNode(node, connection, { detectGpus: needsGpus }));
    checks.push(
      facts.dockerError
        ? {
            check: "docker",
            ok: false,
            detail: facts.dockerError,
            fix: `start Docker on ${node.name}, or set dockerSocket for the node`,
          }
        : {
            check: "docker",
            ok: true,
            detail: `Docker ${facts.dockerVersion} (API ${facts.dockerApiVersion})`,
          },
    );
    const need = gpusNeeded(options.manifest);
    const have = facts.gpus.devices.length;
    if (need.count === 0) {
      checks.push({
        check: "gpus",
        ok: true,
        detail: needsGpus
          ? have === 0
            ? "no GPU (CPU run needs none)"
            : `${have} ${facts.gpus.vendor} GPU(s)`
          : "not needed (CPU run)",
      });
    } else if (facts.gpus.vendor !== need.vendor || have < need.count) {
      checks.push({
        check: "gpus",
        ok: false,
        detail: `needs ${need.count} ${need.vendor} GPU(s), found ${have === 0 ? "no GPU" : `${have} ${facts.gpus.vendor} GPU(s)`}${facts.gpus.problems.length ? ` (${facts.gpus.problems.join("; ")})` : ""}`,
        fix: "run on nodes with the right GPUs (--node / --label), or check the GPU driver on the node",
      });
    } else {
      checks.push({ check: "gpus", ok: true, detail: `${have} ${need.vendor} GPU(s)` });
    }
    const minFree = options.minFreeBytes ?? GIB;
    if (!facts.disk)
      checks.push({
        check: "disk",
        ok: false,
        detail: `cannot read free space of ${facts.workDir}`,
        fix: "check that the work directory can be created",
      });
    else {
      const ok = facts.disk.freeBytes >= minFree;
      checks.push({
        check: "disk",
        ok,
        detail: `${(facts.disk.freeBytes / GIB).toFixed(1)} GiB free in ${facts.workDir}`,
        ...(ok
          ? {}
          : {
              fix: `free at least ${(minFree / GIB).toFixed(1)} GiB there, or set the node's workDir elsewhere`,
            }),
      });
    }
    if (options.manifest && !facts.dockerError)
      checks.push(
        await traced(`${node.name} image checks`, () =>
          imageChecks(node, connection, options.manifest!, options.credentials),
        ),
      );
  } catch (error) {
    const info = toErrorInfo(error);
    checks.push({
      check: "docker",
      ok: false,
      detail: info.message,
      ...(info.hint ? { fix: info.hint } : {}),
    });
  }
  const ok = checks.every((check) => check.ok);
  if (!ok || !options.keepConnections) connection.close();
  return {
    node: node.name,
    ok,
    checks,
    ...(facts ? { facts } : {}),
    ...(ok && options.keepConnections ? { connection } : {}),
  };
}

export function preflightNodes(nodes: readonly Node[], options: PreflightOptions): Promise<NodePreflight[]> {
  return mapWithConcurrency(nodes, options.connectionsAtOnce ?? 16, (node) => preflightNode(node, options));
}
