import { z } from "zod";

/**
 * `nodes.json`: the GPU nodes that runs are dispatched to over SSH. Secrets never live here: a key
 * passphrase is named by the environment variable that holds it (`identityPassphraseEnv`).
 */

/** Node names: letters, digits, `.`, `_` and `-` (they appear in container labels and file names). */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** One ProxyJump hop: `[user@]host[:port]`, `[user@][ipv6]:port`, `ssh://[user@]host[:port]`, or a node name. */
const PROXY_HOP_PATTERN =
  /^(?:ssh:\/\/)?(?:[^@\s,/]+@)?(?:\[[0-9A-Za-z:.%]+\]|[^@\s,:[\]/]+)(?::(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?\/?$/;

/** The hops of a ProxyJump value, in order (`a,b` reaches `b` through `a`). */
export function proxyJumpHops(value: string): string[] {
  return value.split(",").map((hop) => hop.trim());
}

const noWhitespace = (what: string) =>
  z
    .string()
    .min(1, `a non-empty ${what}`)
    .refine((value) => !/\s/.test(value), `a ${what} without spaces`);

export const nodeSchema = z.strictObject({
  name: z
    .string()
    .min(1, "a non-empty node name")
    .regex(NODE_NAME_PATTERN, "a node name made of letters, digits, '.', '_' and '-'"),
  host: noWhitespace("host name or IP address").refine(
    (host) => !host.includes("@"),
    "a host without 'user@' (put the user in the user field)",
  ),
  port: z
    .number()
    .int("a whole port number")
    .min(1, "a port from 1 to 65535")
    .max(65535, "a port from 1 to 65535")
    .default(22),
  user: noWhitespace("user name").default("root"),
  identityFile: z.string().min(1, "a non-empty path to a private key").optional(),
  identityPassphraseEnv: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      "the NAME of an environment variable holding the key passphrase (never the passphrase itself)",
    )
    .optional(),
  proxyJump: z
    .string()
    .min(1, "a non-empty ProxyJump value")
    .refine(
      (value) => proxyJumpHops(value).every((hop) => PROXY_HOP_PATTERN.test(hop)),
      "a ProxyJump chain of user@host:port or node names, separated by commas",
    )
    .optional(),
  labels: z
    .record(z.string(), z.string())
    .refine(
      (labels) => Object.keys(labels).every((key) => /^[^\s=,]+$/.test(key)),
      "non-empty label keys without spaces, '=' or ',' (they are selected as key=value)",
    )
    .default({}),
  dockerSocket: z
    .string()
    .startsWith("/", "an absolute path to the Docker socket on the node, e.g. /var/run/docker.sock")
    .default("/var/run/docker.sock"),
  workDir: z.string().min(1, "a non-empty working directory on the node").default("~/madengine"),
  knownHostsFile: z.string().min(1, "a non-empty path to a known_hosts file").optional(),
});
export type Node = z.output<typeof nodeSchema>;
/** A node as written by a person: defaults may be left out. */
export type NodeInput = z.input<typeof nodeSchema>;

/** The node names a ProxyJump chain goes through (hops that name a node of `names`). */
function jumpTargets(node: { proxyJump?: string | undefined }, names: ReadonlySet<string>): string[] {
  if (node.proxyJump === undefined) return [];
  return proxyJumpHops(node.proxyJump).filter((hop) => names.has(hop));
}

export const nodesFileSchema = z
  .strictObject({
    version: z.literal(1, "version 1"),
    nodes: z.array(nodeSchema).default([]),
  })
  .superRefine((file, ctx) => {
    const firstIndex = new Map<string, number>();
    file.nodes.forEach((node, index) => {
      const earlier = firstIndex.get(node.name);
      if (earlier === undefined) firstIndex.set(node.name, index);
      else {
        ctx.addIssue({
          code: "custom",
          path: ["nodes", index, "name"],
          message: `node name "${node.name}" is used twice (also nodes[${earlier}].name); node names must be unique`,
        });
      }
    });
    // A ProxyJump chain that comes back to its own node can never connect.
    const names = new Set(firstIndex.keys());
    const byName = new Map(file.nodes.map((node) => [node.name, node]));
    const loopFrom = (start: string): string[] | undefined => {
      const visited = new Set<string>();
      const walk = (chain: string[]): string[] | undefined => {
        for (const hop of jumpTargets(byName.get(chain.at(-1)!) ?? {}, names)) {
          if (hop === start) return [...chain, hop];
          if (visited.has(hop)) continue;
          visited.add(hop);
          const loop = walk([...chain, hop]);
          if (loop) return loop;
        }
        return undefined;
      };
      return walk([start]);
    };
    file.nodes.forEach((node, index) => {
      if (firstIndex.get(node.name) !== index) return;
      const loop = loopFrom(node.name);
      if (loop) {
        ctx.addIssue({
          code: "custom",
          path: ["nodes", index, "proxyJump"],
          message: `the ProxyJump chain of node "${node.name}" loops back to it (${loop.join(" -> ")})`,
        });
      }
    });
  });
export type NodesFile = z.output<typeof nodesFileSchema>;
export type NodesFileInput = z.input<typeof nodesFileSchema>;

/** A nodes file with no nodes, as written before the first `nodes add`. */
export function emptyNodesFile(): NodesFile {
  return { version: 1, nodes: [] };
}
