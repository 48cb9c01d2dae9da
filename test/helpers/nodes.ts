import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Testbed } from "./testbed.js";

export interface TestNode {
  name: string;
  host: string;
  port: number;
  user: string;
  identityFile: string;
  dockerSocket: string;
  knownHostsFile: string;
  labels: Record<string, string>;
}

/** The testbed's sshd nodes as a madengine nodes file (with the testbed's known_hosts). */
export function testbedNodes(
  testbed: Testbed,
  options: { count?: number; knownHostsFile?: string } = {},
): TestNode[] {
  return testbed.nodes.slice(0, options.count ?? testbed.nodes.length).map((node, index) => ({
    name: node.name,
    host: node.host,
    port: node.port,
    user: node.user,
    identityFile: node.privateKeyPath,
    dockerSocket: testbed.dockerSocket,
    knownHostsFile: options.knownHostsFile ?? testbed.knownHostsPath,
    labels: { rack: index % 2 === 0 ? "a" : "b" },
  }));
}

export function writeNodesFile(dir: string, nodes: object[], name = "nodes.json"): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify({ version: 1, nodes }, null, 2));
  return file;
}
