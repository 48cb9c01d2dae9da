import type { nodesCalls } from "../../../shared/contract/nodes.js";
import { MadError } from "../../../shared/errors.js";
import type { Node } from "../../../shared/schemas/nodes.js";
import type { NodeConnection } from "../../engine/remote/connection.js";
import { type ConnectOptions, connectNode } from "../../engine/remote/connectNode.js";
import { HealthPoller } from "../../engine/remote/healthPoller.js";
import { readNodesFileOrEmpty, selectNodes } from "../../engine/remote/inventory/nodesFile.js";
import { preflightNodes } from "../../engine/remote/preflight.js";
import type { AppPart, AppPartContext } from "../appPart.js";
import { probeNodeHealth } from "./healthProbe.js";
import { inspectHostKey, trustHostKey } from "./hostKeys.js";
import { addNodeTo, importNodesInto, removeNodeFrom, updateNodeIn } from "./inventory.js";
import { type PollSettings, pollSettingsFrom } from "./pollSettings.js";

export type NodesCallName = keyof typeof nodesCalls;

/** The GPU nodes as the app sees them: inventory, host-key trust, live health, preflight. */
export function createNodesPart(
  context: AppPartContext,
  overrides: Partial<PollSettings> = {},
): AppPart<NodesCallName> {
  const file = context.nodesFile;
  const settings = { ...pollSettingsFrom(context.env), ...overrides };

  const connectOptions = (nodes: readonly Node[]): ConnectOptions => ({
    // the app never trusts a key on its own: nodes.trust records the key the user saw
    policy: { knownHostsFile: context.knownHostsFile, trustNewHosts: false },
    nodesByName: new Map(nodes.map((node) => [node.name, node])),
    env: context.env,
    readyTimeoutMs: settings.probeTimeoutMs,
  });
  let allNodes: Node[] = [];

  const poller = new HealthPoller<NodeConnection>({
    connect: (node) => connectNode(node, connectOptions(allNodes)),
    probe: probeNodeHealth,
    onHealth: (nodes) => context.publish({ event: "nodes.health", payload: { nodes } }),
    intervalMs: settings.intervalMs,
    probeTimeoutMs: settings.probeTimeoutMs,
    idleCloseMs: settings.idleCloseMs,
  });

  /** Re-reads the nodes file (the CLI may have changed it) and hands the nodes to the poller. */
  const refresh = async (): Promise<Node[]> => {
    allNodes = (await readNodesFileOrEmpty(file)).nodes;
    poller.setNodes(allNodes);
    return allNodes;
  };
  const nodeNamed = async (name: string): Promise<{ node: Node; all: Node[] }> => {
    const [node] = await selectNodes(file, [name]);
    return { node: node!, all: await refresh() };
  };

  return {
    handlers: {
      "nodes.list": async () => ({ file, nodes: await refresh() }),
      "nodes.add": async ({ node }) => {
        const added = await addNodeTo(file, node);
        await refresh();
        return { node: added };
      },
      "nodes.update": async ({ name, node }) => {
        const updated = await updateNodeIn(file, name, node);
        await refresh();
        return { node: updated };
      },
      "nodes.remove": async ({ name }) => {
        const removed = await removeNodeFrom(file, name);
        await refresh();
        return { removed };
      },
      "nodes.import": async (request) => {
        const result = await importNodesInto(file, request);
        await refresh();
        return result;
      },
      "nodes.hostKey": async ({ name }) => {
        const { node, all } = await nodeNamed(name);
        return inspectHostKey(node, connectOptions(all));
      },
      "nodes.trust": async ({ name, fingerprint }) => {
        const { node, all } = await nodeNamed(name);
        return trustHostKey(node, fingerprint, connectOptions(all));
      },
      "nodes.watch": async ({ watcher, leaseMs }) => {
        await refresh();
        const lease = leaseMs ?? settings.defaultLeaseMs;
        poller.watch(watcher, lease);
        return { leaseMs: lease, intervalMs: poller.intervalMs };
      },
      "nodes.unwatch": async ({ watcher }) => ({ watching: poller.unwatch(watcher) }),
      "nodes.health": async () => {
        await refresh();
        return { nodes: poller.snapshot(), polling: poller.polling, intervalMs: poller.intervalMs };
      },
      "nodes.preflight": async ({ names }) => {
        const all = await refresh();
        if (all.length === 0)
          throw new MadError("INVALID_ARGS", `${file}: no nodes to check`, {
            file,
            hint: "add a node or import nodes first",
          });
        const selected = await selectNodes(file, names);
        const started = performance.now();
        const results = await preflightNodes(selected, { connect: connectOptions(all) });
        return {
          nodes: results.map(({ node, ok, checks }) => ({ node, ok, checks })),
          seconds: (performance.now() - started) / 1000,
        };
      },
    },
    close: () => poller.close(),
  };
}
