import type { Node } from "../../../shared/schemas/nodes.js";
import type { NodeConnection } from "../../engine/remote/connection.js";
import type { ProbedHealth } from "../../engine/remote/healthPoller.js";
import { probeNode } from "../../engine/remote/nodeProbe.js";

/**
 * One health probe over the node's open connection: the round trip of a no-op command (latency),
 * then the engine's node probe (Docker, GPUs through the same nvidia-smi/rocm-smi/amd-smi parsers,
 * disk of the work directory, load), as the contract's health fields.
 */
export async function probeNodeHealth(node: Node, connection: NodeConnection): Promise<ProbedHealth> {
  const started = performance.now();
  await connection.exec("true");
  const latencyMs = Math.round(performance.now() - started);
  const facts = await probeNode(node, connection);
  return {
    state: facts.dockerError ? "degraded" : "healthy",
    latencyMs,
    ...(facts.dockerVersion ? { dockerVersion: facts.dockerVersion } : {}),
    ...(facts.dockerError ? { dockerError: facts.dockerError } : {}),
    runningContainers: facts.runningContainers.filter((container) => container.state === "running").length,
    gpus: facts.gpus,
    ...(facts.disk ? { disk: facts.disk } : {}),
    ...(facts.load ? { load: facts.load } : {}),
    ...(facts.cpus ? { cpus: Math.round(facts.cpus) } : {}),
    ...(facts.dockerError
      ? { hint: `start Docker on ${node.name}, or set the node's Docker socket (now ${node.dockerSocket})` }
      : {}),
  };
}
