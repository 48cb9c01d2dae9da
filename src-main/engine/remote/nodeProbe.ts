import { toErrorInfo } from "../../../shared/errors.js";
import type { GpuReport } from "../../../shared/schemas/gpu.js";
import type { Node } from "../../../shared/schemas/nodes.js";
import { detectHostGpus } from "../context/gpu/detectHostGpus.js";
import { shellQuote } from "../util/shellQuote.js";
import type { NodeConnection } from "./connection.js";
import { type ConnectOptions, connectNode } from "./connectNode.js";
import { remoteDockerEndpoint } from "./remoteDocker.js";
import { remoteCommandRunner } from "./remoteTarget.js";
import { resolveRemotePath } from "./syncMadRoot.js";

export interface DiskFacts {
  path: string;
  freeBytes: number;
  totalBytes: number;
}

/** `df -Pk PATH` -> free and total bytes of the filesystem holding PATH. */
export function parseDf(text: string, path: string): DiskFacts | undefined {
  const line = text.trim().split("\n").at(-1);
  const fields = line?.split(/\s+/);
  if (!fields || fields.length < 6 || !/^\d+$/.test(fields[1]!)) return undefined;
  return { path, totalBytes: Number(fields[1]) * 1024, freeBytes: Number(fields[3]) * 1024 };
}

/** `/proc/loadavg` -> the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] | undefined {
  const fields = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return fields.length === 3 && fields.every(Number.isFinite)
    ? (fields as [number, number, number])
    : undefined;
}

export interface NodeFacts {
  dockerVersion?: string;
  dockerApiVersion?: string;
  dockerError?: string;
  runningContainers: { name: string; model: string; state: string }[];
  gpus: GpuReport;
  disk?: DiskFacts;
  load?: [number, number, number];
  cpus?: number;
  workDir: string;
}

/**
 * What a node looks like right now, over its open connection: Docker version and madengine
 * containers, GPUs (nvidia-smi / rocm-smi / amd-smi run on the node, same parsers as locally), disk
 * of the work directory, load. A node without GPUs is reported as vendor NONE, truthfully.
 */
export async function probeNode(
  node: Node,
  connection: NodeConnection,
  options: { detectGpus?: boolean } = {},
): Promise<NodeFacts> {
  const endpoint = remoteDockerEndpoint(connection, node.dockerSocket);
  const dockerFacts = (async () => {
    try {
      const [version, containers] = await Promise.all([
        endpoint.docker.version(),
        endpoint.docker.listContainers({
          all: true,
          filters: { label: ["org.madengine.model"] },
        }),
      ]);
      return {
        dockerVersion: version.Version,
        dockerApiVersion: version.ApiVersion,
        runningContainers: containers.map((container) => ({
          name: (container.Names[0] ?? container.Id).replace(/^\//, ""),
          model: container.Labels["org.madengine.model"] ?? "",
          state: container.State,
        })),
      };
    } catch (error) {
      return { dockerError: toErrorInfo(error).message, runningContainers: [] };
    }
  })();
  const workDirPath = resolveRemotePath(connection, node.workDir);
  const system = workDirPath.then((workDir) =>
    connection.exec(
      `mkdir -p ${shellQuote(workDir)} 2>/dev/null; df -Pk ${shellQuote(workDir)} 2>/dev/null | tail -1; echo ---; cat /proc/loadavg 2>/dev/null; echo ---; getconf _NPROCESSORS_ONLN 2>/dev/null || nproc`,
    ),
  );
  const [docker, gpus, systemResult, workDir] = await Promise.all([
    dockerFacts,
    options.detectGpus === false
      ? Promise.resolve<GpuReport>({
          vendor: "NONE",
          devices: [],
          problems: ["not queried (the manifest needs no GPU)"],
        })
      : detectHostGpus(remoteCommandRunner(connection)),
    system,
    workDirPath,
  ]);
  const [dfText = "", loadText = "", cpuText = ""] = systemResult.stdout.split("---\n");
  const disk = parseDf(dfText, workDir);
  const load = parseLoadavg(loadText);
  const cpus = Number(cpuText.trim());
  return {
    ...docker,
    gpus,
    ...(disk ? { disk } : {}),
    ...(load ? { load } : {}),
    ...(Number.isFinite(cpus) && cpus > 0 ? { cpus } : {}),
    workDir,
  };
}

export interface NodeStatus {
  node: string;
  address: string;
  reachable: boolean;
  error?: string;
  hint?: string;
  latencyMs?: number;
  facts?: NodeFacts;
}

/** Connects (or reuses a connection) and probes one node; never throws. */
export async function nodeStatus(
  node: Node,
  connect: ConnectOptions,
  existing?: NodeConnection,
): Promise<NodeStatus> {
  const address = `${node.user}@${node.host}:${node.port}`;
  const started = performance.now();
  let connection = existing;
  try {
    connection ??= await connectNode(node, connect);
    const latencyMs = Math.round(performance.now() - started);
    const facts = await probeNode(node, connection);
    return { node: node.name, address, reachable: true, latencyMs, facts };
  } catch (error) {
    const info = toErrorInfo(error);
    return {
      node: node.name,
      address,
      reachable: false,
      error: info.message,
      ...(info.hint ? { hint: info.hint } : {}),
    };
  } finally {
    if (!existing) connection?.close();
  }
}
