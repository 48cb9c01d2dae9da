import path from "node:path";
import { createInterface } from "node:readline/promises";
import { MadError } from "../../../shared/errors.js";
import type { Node, NodeInput } from "../../../shared/schemas/nodes.js";
import { loadCredentials } from "../../engine/build/credentials.js";
import type { NodeConnection } from "../../engine/remote/connection.js";
import {
  connectNode,
  type HostKeyPolicy,
  keyTypeOf,
  knownHostsFileFor,
} from "../../engine/remote/connectNode.js";
import { nodesFromAnsibleInventory } from "../../engine/remote/inventory/ansibleInventory.js";
import {
  appendKnownHost,
  fingerprintOf,
  formatKnownHostsLine,
} from "../../engine/remote/inventory/knownHosts.js";
import {
  addNode,
  mergeImportedNodes,
  parseLabelSelectors,
  readNodesFile,
  readNodesFileOrEmpty,
  removeNode,
  selectNodes,
  writeNodesFile,
} from "../../engine/remote/inventory/nodesFile.js";
import { nodesFromSshConfig } from "../../engine/remote/inventory/sshConfig.js";
import { type NodeStatus, nodeStatus } from "../../engine/remote/nodeProbe.js";
import { preflightNodes } from "../../engine/remote/preflight.js";
import { loadManifest } from "../../engine/run/manifestFile.js";
import { mapWithConcurrency } from "../../engine/util/pool.js";
import { ttyPassphrasePrompt } from "../output/passphrasePrompt.js";
import { bold, dim, green, red } from "../output/style.js";
import { renderTable } from "../output/table.js";

export interface NodesCommonOptions {
  nodes: string;
  knownHosts?: string;
  trustNewHosts?: boolean;
  json?: boolean;
}

function policyOf(options: NodesCommonOptions): HostKeyPolicy {
  return { knownHostsFile: options.knownHosts, trustNewHosts: options.trustNewHosts === true };
}

function width(): number | undefined {
  return process.stdout.isTTY ? process.stdout.columns : undefined;
}

export async function nodesList(options: NodesCommonOptions): Promise<number> {
  const { nodes } = await readNodesFileOrEmpty(options.nodes);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
    return 0;
  }
  if (nodes.length === 0) {
    process.stdout.write(
      `no nodes in ${options.nodes}: add one with 'madengine-cli nodes add NAME --host HOST' or 'nodes import'\n`,
    );
    return 0;
  }
  process.stdout.write(
    `${renderTable(
      nodes,
      [
        { header: "NODE", value: (n) => n.name },
        { header: "ADDRESS", value: (n) => `${n.user}@${n.host}:${n.port}` },
        {
          header: "LABELS",
          value: (n) =>
            Object.entries(n.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(","),
          shrinkable: true,
        },
        { header: "KEY", value: (n) => n.identityFile ?? "(ssh-agent)", shrinkable: true },
        { header: "VIA", value: (n) => n.proxyJump ?? "" },
        { header: "DOCKER", value: (n) => n.dockerSocket, shrinkable: true },
      ],
      width(),
    )}\n`,
  );
  return 0;
}

export interface NodesAddOptions extends NodesCommonOptions {
  host: string;
  port?: string;
  user?: string;
  identityFile?: string;
  identityPassphraseEnv?: string;
  proxyJump?: string;
  label?: string[];
  dockerSocket?: string;
  workDir?: string;
  nodeKnownHosts?: string;
  replace?: boolean;
}

export async function nodesAdd(name: string, options: NodesAddOptions): Promise<number> {
  const node: NodeInput = {
    name,
    host: options.host,
    ...(options.port ? { port: Number(options.port) } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.identityFile ? { identityFile: path.resolve(options.identityFile) } : {}),
    ...(options.identityPassphraseEnv ? { identityPassphraseEnv: options.identityPassphraseEnv } : {}),
    ...(options.proxyJump ? { proxyJump: options.proxyJump } : {}),
    ...(options.label ? { labels: parseLabelSelectors(options.label) } : {}),
    ...(options.dockerSocket ? { dockerSocket: options.dockerSocket } : {}),
    ...(options.workDir ? { workDir: options.workDir } : {}),
    ...(options.nodeKnownHosts ? { knownHostsFile: path.resolve(options.nodeKnownHosts) } : {}),
  };
  const added = await addNode(options.nodes, node, { replace: options.replace === true });
  process.stdout.write(
    `${options.replace ? "saved" : "added"} ${added.name} (${added.user}@${added.host}:${added.port}) to ${options.nodes}\n`,
  );
  process.stdout.write(`${dim(`next: madengine-cli nodes trust ${added.name} --nodes ${options.nodes}`)}\n`);
  return 0;
}

export async function nodesRemove(name: string, options: NodesCommonOptions): Promise<number> {
  const removed = await removeNode(options.nodes, name);
  process.stdout.write(`removed ${removed.name} from ${options.nodes}\n`);
  return 0;
}

export interface NodesImportOptions extends NodesCommonOptions {
  sshConfig?: string;
  host?: string[];
  ansibleInventory?: string;
  group?: string;
  replace?: boolean;
}

export async function nodesImport(options: NodesImportOptions): Promise<number> {
  if (Boolean(options.sshConfig) === Boolean(options.ansibleInventory)) {
    throw new MadError("INVALID_ARGS", "give exactly one of --ssh-config FILE and --ansible-inventory FILE", {
      hint: "e.g. madengine-cli nodes import --ansible-inventory inventory.ini --group gpu_nodes",
    });
  }
  let imported: Node[];
  let warnings: string[] = [];
  if (options.sshConfig) imported = await nodesFromSshConfig(options.sshConfig, options.host);
  else
    ({ nodes: imported, warnings } = await nodesFromAnsibleInventory(
      options.ansibleInventory!,
      options.group ?? "gpu_nodes",
    ));
  const merged = mergeImportedNodes(await readNodesFileOrEmpty(options.nodes), imported, {
    replace: options.replace === true,
  });
  await writeNodesFile(options.nodes, merged);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(
    `imported ${imported.length} node(s) into ${options.nodes}: ${imported.map((node) => node.name).join(", ")}\n`,
  );
  return 0;
}

/**
 * Trust on first use, done with care: the host key is fetched and refused (nothing authenticates
 * against an untrusted host), its fingerprint shown, and exactly that key is recorded once the user
 * confirms (or passes --yes); a second connection then proves it.
 */
export async function nodesTrust(
  name: string,
  options: NodesCommonOptions & { yes?: boolean },
): Promise<number> {
  const [node] = await selectNodes(options.nodes, [name]);
  const nodesByName = new Map((await readNodesFile(options.nodes)).nodes.map((n) => [n.name, n]));
  const policy: HostKeyPolicy = { knownHostsFile: options.knownHosts, trustNewHosts: false };
  const file = knownHostsFileFor(node!, policy);
  let presented: Buffer | undefined;
  try {
    const connection = await connectNode(node!, {
      policy,
      nodesByName,
      onHostKey: (hop, rawKey) => {
        if (hop === node!.name) presented = rawKey;
      },
    });
    connection.close();
    process.stdout.write(`${node!.name}: host key already trusted in ${file}\n`);
    return 0;
  } catch (error) {
    const unknown = error instanceof MadError && presented !== undefined && / is not in /.test(error.message);
    if (!unknown) throw error;
  }
  const fingerprint = fingerprintOf(presented!);
  process.stdout.write(
    `${node!.name} (${node!.host}:${node!.port}) presents ${keyTypeOf(presented!)} host key ${bold(fingerprint)}\n`,
  );
  if (!options.yes) {
    if (!process.stdin.isTTY) {
      throw new MadError("INVALID_ARGS", `${node!.name}: refusing to trust a host key without confirmation`, {
        hint: "compare the fingerprint with the node's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then pass --yes",
      });
    }
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question("Trust this host key? [y/N] ");
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stdout.write("not trusted\n");
      return 1;
    }
  }
  await appendKnownHost(
    file,
    formatKnownHostsLine(node!.host, node!.port, keyTypeOf(presented!), presented!),
  );
  const connection = await connectNode(node!, { policy, nodesByName });
  connection.close();
  process.stdout.write(
    `${green("trusted", process.stdout)} ${node!.name} ${fingerprint} (added to ${file})\n`,
  );
  return 0;
}

export interface NodesCheckOptions extends NodesCommonOptions {
  node?: string[];
  label?: string[];
  manifestFile?: string;
  madRoot?: string;
}

export async function nodesCheck(options: NodesCheckOptions): Promise<number> {
  const nodes = await selectNodes(
    options.nodes,
    options.node,
    options.label ? parseLabelSelectors(options.label) : undefined,
  );
  const all = (await readNodesFile(options.nodes)).nodes;
  const manifest = options.manifestFile ? await loadManifest(options.manifestFile) : undefined;
  const credentials = await loadCredentials(path.resolve(options.madRoot ?? process.cwd()));
  const started = performance.now();
  const results = await preflightNodes(nodes, {
    connect: {
      policy: policyOf(options),
      nodesByName: new Map(all.map((n) => [n.name, n])),
      askPassphrase: ttyPassphrasePrompt(),
    },
    manifest,
    credentials,
  });
  const seconds = (performance.now() - started) / 1000;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ seconds, nodes: results.map(({ connection: _c, ...rest }) => rest) }, null, 2)}\n`,
    );
  } else {
    const rows = results.flatMap((result) => result.checks.map((check) => ({ node: result.node, ...check })));
    process.stdout.write(
      `${renderTable(
        rows,
        [
          { header: "NODE", value: (row) => row.node },
          { header: "CHECK", value: (row) => row.check },
          {
            header: "RESULT",
            value: (row) => (row.ok ? green("pass", process.stdout) : red("FAIL", process.stdout)),
          },
          { header: "DETAIL", value: (row) => row.detail, shrinkable: true },
          { header: "FIX", value: (row) => row.fix ?? "", shrinkable: true },
        ],
        width(),
      )}\n`,
    );
    const passed = results.filter((result) => result.ok).length;
    process.stdout.write(
      `${bold(`${passed} of ${results.length} node(s) ready`)} (checked in ${seconds.toFixed(2)} s)\n`,
    );
  }
  return results.every((result) => result.ok) ? 0 : 3;
}

function formatStatus(status: NodeStatus): Record<string, string> {
  const facts = status.facts;
  const gpus = facts?.gpus;
  const gpuText = !gpus
    ? ""
    : gpus.devices.length === 0
      ? `no GPU${gpus.problems.length ? ` (${gpus.problems[0]})` : ""}`
      : gpus.devices
          .map(
            (d) =>
              `${d.index}:${d.name}${d.utilizationPercent !== undefined ? ` ${d.utilizationPercent}%` : ""}${d.memoryUsedMiB !== undefined && d.memoryTotalMiB ? ` ${Math.round(d.memoryUsedMiB / 1024)}/${Math.round(d.memoryTotalMiB / 1024)}GiB` : ""}${d.temperatureC !== undefined ? ` ${d.temperatureC}C` : ""}`,
          )
          .join("; ");
  return {
    node: status.node,
    state: status.reachable ? (facts?.dockerError ? "docker down" : "up") : "unreachable",
    docker: facts?.dockerVersion ?? facts?.dockerError ?? status.error ?? "",
    running: facts ? String(facts.runningContainers.filter((c) => c.state === "running").length) : "",
    gpus: gpuText,
    disk: facts?.disk ? `${(facts.disk.freeBytes / 1024 ** 3).toFixed(1)} GiB free` : "",
    load: facts?.load ? facts.load.map((value) => value.toFixed(2)).join(" ") : "",
  };
}

export async function nodesStatus(
  options: NodesCheckOptions & { watch?: string | boolean },
): Promise<number> {
  const nodes = await selectNodes(
    options.nodes,
    options.node,
    options.label ? parseLabelSelectors(options.label) : undefined,
  );
  const all = (await readNodesFile(options.nodes)).nodes;
  const connect = {
    policy: policyOf(options),
    nodesByName: new Map(all.map((n) => [n.name, n])),
    askPassphrase: ttyPassphrasePrompt(),
  };
  const interval =
    options.watch === undefined || options.watch === false
      ? 0
      : Number(options.watch === true ? 5 : options.watch);
  const connections = new Map<string, NodeConnection>();
  const once = async () => {
    const statuses = await mapWithConcurrency(nodes, 16, async (node) => {
      let connection = connections.get(node.name);
      if (interval > 0 && (!connection || connection.isClosed)) {
        connection = await connectNode(node, connect).catch(() => undefined);
        if (connection) connections.set(node.name, connection);
      }
      return nodeStatus(node, connect, interval > 0 ? connection : undefined);
    });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), nodes: statuses })}\n`);
    } else {
      if (interval > 0 && process.stdout.isTTY) process.stdout.write("\u001b[2J\u001b[H");
      const rows = statuses.map(formatStatus);
      process.stdout.write(
        `${renderTable(
          rows,
          [
            { header: "NODE", value: (row) => row.node! },
            {
              header: "STATE",
              value: (row) =>
                row.state === "up" ? green("up", process.stdout) : red(row.state!, process.stdout),
            },
            { header: "DOCKER", value: (row) => row.docker!, shrinkable: true },
            { header: "RUNNING", value: (row) => row.running! },
            { header: "GPUS", value: (row) => row.gpus!, shrinkable: true },
            { header: "DISK", value: (row) => row.disk! },
            { header: "LOAD", value: (row) => row.load! },
          ],
          width(),
        )}\n`,
      );
    }
    return statuses;
  };
  if (interval <= 0) {
    const statuses = await once();
    return statuses.every((status) => status.reachable) ? 0 : 3;
  }
  let stop = false;
  process.once("SIGINT", () => {
    stop = true;
  });
  while (!stop) {
    await once();
    for (let waited = 0; waited < interval * 1000 && !stop; waited += 200)
      await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (const connection of connections.values()) connection.close();
  return 0;
}
