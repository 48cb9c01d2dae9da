import { homedir } from "node:os";
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import type { Node, NodeInput } from "../../../shared/schemas/nodes.js";
import { nodesFromAnsibleInventory } from "../../engine/remote/inventory/ansibleInventory.js";
import {
  addNode,
  mergeImportedNodes,
  readNodesFileOrEmpty,
  removeNode,
  selectNodes,
  writeNodesFile,
} from "../../engine/remote/inventory/nodesFile.js";
import {
  hostPatternsMatch,
  nodesFromSshConfig,
  parseSshConfig,
  sshConfigHosts,
} from "../../engine/remote/inventory/sshConfig.js";
import { readTextFile } from "../../engine/util/jsonFiles.js";
import type { ParsedCallArgs } from "../contractCalls.js";
import { expandHome } from "./paths.js";

/**
 * The nodes file as the app edits it. Every change goes through the engine's inventory module (the
 * same validation and atomic writes as `madengine-cli nodes`); errors name the argument at fault.
 */

export async function addNodeTo(file: string, node: NodeInput): Promise<Node> {
  const { nodes } = await readNodesFileOrEmpty(file);
  if (nodes.some((each) => each.name === node.name)) {
    throw new MadError("INVALID_ARGS", `a node named "${node.name}" already exists in ${file}`, {
      path: "node.name",
      file,
      hint: "choose another name, or edit the existing node",
    });
  }
  return addNode(file, node);
}

export async function updateNodeIn(file: string, name: string, node: Node): Promise<Node> {
  await selectNodes(file, [name]); // an unknown name: an error with the nearest names
  const current = await readNodesFileOrEmpty(file);
  if (node.name !== name && current.nodes.some((each) => each.name === node.name)) {
    throw new MadError("INVALID_ARGS", `a node named "${node.name}" already exists in ${file}`, {
      path: "node.name",
      file,
      hint: "choose another name",
    });
  }
  const dependents = current.nodes.filter((each) =>
    each.proxyJump?.split(",").some((hop) => hop.trim() === name),
  );
  if (node.name !== name && dependents.length > 0) {
    throw new MadError(
      "INVALID_ARGS",
      `node "${name}" is the ProxyJump of ${dependents.map((each) => `"${each.name}"`).join(", ")}: renaming it would cut them off`,
      { path: "node.name", file, hint: "keep the name, or change those nodes' proxyJump first" },
    );
  }
  const nodes = current.nodes.map((each) => (each.name === name ? node : each));
  const written = await writeNodesFile(file, { ...current, nodes });
  return written.nodes.find((each) => each.name === node.name)!;
}

export function removeNodeFrom(file: string, name: string): Promise<Node> {
  return removeNode(file, name);
}

/** The ssh config's hosts that the patterns choose (all concrete hosts without patterns). */
async function sshConfigAliases(
  file: string,
  patterns: readonly string[] | undefined,
): Promise<string[] | undefined> {
  if (!patterns || patterns.length === 0) return undefined;
  const text = await readTextFile(file, {
    missingHint: "pass the path of an ssh config file, e.g. ~/.ssh/config",
  });
  const hosts = sshConfigHosts(parseSshConfig(text, { file }));
  const chosen = hosts.filter((alias) => hostPatternsMatch(alias, patterns));
  if (chosen.length === 0) {
    throw new MadError("INVALID_ARGS", `${file}: no Host matches ${patterns.join(" ")}`, {
      path: "hosts",
      file,
      hint: `hosts in ${file}: ${hosts.join(", ") || "(none)"}`,
    });
  }
  return chosen;
}

export async function importNodesInto(
  file: string,
  request: ParsedCallArgs<"nodes.import">,
): Promise<{ imported: Node[]; warnings: string[] }> {
  let imported: Node[];
  let warnings: string[] = [];
  if (request.source === "ssh-config") {
    const config = path.resolve(expandHome(request.file ?? path.join(homedir(), ".ssh", "config")));
    imported = await nodesFromSshConfig(config, await sshConfigAliases(config, request.hosts));
  } else {
    ({ nodes: imported, warnings } = await nodesFromAnsibleInventory(
      path.resolve(expandHome(request.file)),
      request.group ?? "gpu_nodes",
    ));
  }
  const merged = mergeImportedNodes(await readNodesFileOrEmpty(file), imported, {
    replace: request.replace === true,
  });
  await writeNodesFile(file, merged);
  return { imported, warnings };
}
