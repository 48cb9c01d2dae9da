/**
 * An Ansible INI inventory (group `gpu_nodes`) written from a madengine nodes file, and an
 * ansible.cfg that keeps host key checking on against a given known_hosts file.
 */
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import type { Node } from "../../../shared/schemas/nodes.js";
import { proxyJumpHops } from "../../../shared/schemas/nodes.js";

export const INVENTORY_GROUP = "gpu_nodes";
const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/** An INI inventory value: bare when safe, else single-quoted (the INI parser reads it like shlex). */
function iniValue(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./~-]+$/.test(value)) return value;
  if (value.includes("'") || value.includes("\n")) {
    throw new MadError("INVALID_ARGS", `cannot write ${JSON.stringify(value)} into an INI inventory`, {
      hint: "remove quotes and line breaks from the node's fields",
    });
  }
  return `'${value}'`;
}

function sshOption(name: string, value: string): string {
  return /\s/.test(value) ? `-o ${name}="${value}"` : `-o ${name}=${value}`;
}

/** `user@host:port` of each ProxyJump hop; hops that name a node of the file are resolved. */
function proxyJump(node: Node, byName: Map<string, Node>): string | undefined {
  if (!node.proxyJump) return undefined;
  return proxyJumpHops(node.proxyJump)
    .map((hop) => {
      const jump = byName.get(hop);
      return jump ? `${jump.user}@${jump.host}:${jump.port}` : hop;
    })
    .join(",");
}

/** The inventory text: one line per node with its connection settings. */
export function inventoryFromNodes(nodes: readonly Node[], source: string): string {
  if (nodes.length === 0) {
    throw new MadError("INVALID_ARGS", `${source} has no nodes, so the inventory would be empty`, {
      hint: "add nodes with madengine-cli nodes add ..., or leave --with-inventory out",
    });
  }
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const lines = [
    `# Ansible inventory written by madengine-cli generate ansible from ${path.basename(source)}.`,
    "# Host keys are checked (see ansible.cfg); madengine_docker_host is set for nodes with a non-default Docker socket.",
  ];
  for (const node of nodes) {
    if (node.identityPassphraseEnv) {
      lines.push(
        `# ${node.name}: its key has a passphrase (in $${node.identityPassphraseEnv}); load it into ssh-agent before running ansible-playbook`,
      );
    }
  }
  lines.push(`[${INVENTORY_GROUP}]`);
  for (const node of nodes) {
    const vars: [string, string][] = [
      ["ansible_host", node.host],
      ["ansible_port", String(node.port)],
      ["ansible_user", node.user],
    ];
    if (node.identityFile) vars.push(["ansible_ssh_private_key_file", node.identityFile]);
    const ssh: string[] = [];
    const jump = proxyJump(node, byName);
    if (jump) ssh.push(sshOption("ProxyJump", jump));
    if (node.knownHostsFile) ssh.push(sshOption("UserKnownHostsFile", node.knownHostsFile));
    if (node.identityFile) ssh.push("-o IdentitiesOnly=yes");
    if (ssh.length > 0) vars.push(["ansible_ssh_common_args", ssh.join(" ")]);
    if (node.dockerSocket !== DEFAULT_DOCKER_SOCKET)
      vars.push(["madengine_docker_host", `unix://${node.dockerSocket}`]);
    lines.push(`${node.name} ${vars.map(([key, value]) => `${key}=${iniValue(value)}`).join(" ")}`);
  }
  lines.push("", `[${INVENTORY_GROUP}:vars]`, "ansible_python_interpreter=python3", "");
  return lines.join("\n");
}

export interface AnsibleCfgOptions {
  /** The inventory, relative to the ansible.cfg (or absolute). */
  inventory: string;
  /** known_hosts file that host keys are checked against. */
  knownHosts: string;
}

/** ansible.cfg: host key checking stays on (StrictHostKeyChecking=yes against the given known_hosts). */
export function ansibleCfg(options: AnsibleCfgOptions): string {
  if (/["\n]/.test(options.knownHosts)) {
    throw new MadError("INVALID_ARGS", `--known-hosts ${JSON.stringify(options.knownHosts)}: unusable path`, {
      hint: "use a path without quotes or line breaks",
    });
  }
  return [
    "# Written by madengine-cli generate ansible --with-ansible-cfg.",
    "# Host keys are checked against the known_hosts file below; an unknown or changed key fails that host.",
    "[defaults]",
    `inventory = ${options.inventory}`,
    "host_key_checking = True",
    "interpreter_python = python3",
    "retry_files_enabled = False",
    "timeout = 15",
    "",
    "[ssh_connection]",
    "pipelining = True",
    "# a node whose sshd restarts (or a busy one) gets a few more connection attempts",
    "retries = 3",
    `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=yes ${sshOption("UserKnownHostsFile", options.knownHosts)}`,
    "",
  ].join("\n");
}
