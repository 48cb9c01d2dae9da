import { z } from "zod";
import { gpuReportSchema } from "../schemas/gpu.js";
import { nodeSchema } from "../schemas/nodes.js";
import { call } from "./primitives.js";

/**
 * The GPU nodes part of the contract (inventory, host-key trust, health, preflight). Spread into
 * the contract's tables by shared/contract.ts.
 */

const nodeNameSchema = z.string().min(1, "a node name");

/** Where a node's host key stands against its known_hosts file. */
export const hostKeyStatusSchema = z.enum(["known", "unknown", "changed", "revoked"]);
export type HostKeyStatus = z.output<typeof hostKeyStatusSchema>;

export const hostKeyInfoSchema = z.object({
  node: z.string(),
  host: z.string(),
  port: z.number().int(),
  /** OpenSSH form: "SHA256:" + unpadded base64. */
  fingerprint: z.string().startsWith("SHA256:"),
  keyType: z.string(),
  status: hostKeyStatusSchema,
  knownHostsFile: z.string(),
  /** For a changed key: the fingerprints known_hosts has for this host. */
  expected: z.array(z.string()).optional(),
  /** What the status means for the user (a loud refusal for changed and revoked keys). */
  message: z.string(),
});
export type HostKeyInfo = z.output<typeof hostKeyInfoSchema>;

/**
 * A node's health as the poller last saw it. `pending`: not probed yet (or paused before the first
 * answer); `healthy`: SSH and Docker answer; `degraded`: SSH answers but Docker does not;
 * `unreachable`: no connection, or the probe failed or timed out (`error` and `hint` say why).
 */
export const nodeHealthStateSchema = z.enum(["pending", "healthy", "degraded", "unreachable"]);
export type NodeHealthState = z.output<typeof nodeHealthStateSchema>;

export const nodeHealthSchema = z.object({
  node: z.string(),
  address: z.string(),
  state: nodeHealthStateSchema,
  /** When this health was measured (ISO time); absent while pending. */
  checkedAt: z.string().optional(),
  /** Round trip of one command on the node's open connection. */
  latencyMs: z.number().nonnegative().optional(),
  error: z.string().optional(),
  hint: z.string().optional(),
  /** After a failed connection: when the next attempt is due (backoff). */
  retryInMs: z.number().int().nonnegative().optional(),
  dockerVersion: z.string().optional(),
  dockerError: z.string().optional(),
  runningContainers: z.number().int().nonnegative().optional(),
  gpus: gpuReportSchema.optional(),
  disk: z
    .object({ path: z.string(), freeBytes: z.number().nonnegative(), totalBytes: z.number().nonnegative() })
    .optional(),
  load: z.tuple([z.number(), z.number(), z.number()]).optional(),
  cpus: z.number().int().positive().optional(),
});
export type NodeHealth = z.output<typeof nodeHealthSchema>;

export const preflightCheckSchema = z.object({
  check: z.enum(["ssh", "docker", "gpus", "disk", "images"]),
  ok: z.boolean(),
  detail: z.string(),
  fix: z.string().optional(),
});

export const nodePreflightSchema = z.object({
  node: z.string(),
  ok: z.boolean(),
  checks: z.array(preflightCheckSchema),
});
export type NodePreflightResult = z.output<typeof nodePreflightSchema>;

const importRequestSchema = z.discriminatedUnion("source", [
  z.object({
    source: z.literal("ssh-config"),
    /** Default ~/.ssh/config. */
    file: z.string().min(1, "a path to an ssh config file").optional(),
    /** Host patterns (`gpu-*`, `!gpu-old`) choosing among the config's hosts; default: all. */
    hosts: z.array(z.string().min(1, "a non-empty host pattern")).optional(),
    replace: z.boolean().optional(),
  }),
  z.object({
    source: z.literal("ansible"),
    file: z.string().min(1, "a path to an Ansible INI inventory"),
    /** Default gpu_nodes. */
    group: z.string().min(1, "a non-empty group name").optional(),
    replace: z.boolean().optional(),
  }),
]);

/** Lease bounds: long enough to survive a slow renewal, short enough that a closed tab stops polling soon. */
export const WATCH_LEASE_MIN_MS = 1_000;
export const WATCH_LEASE_MAX_MS = 120_000;

export const nodesCalls = {
  /** The nodes file and its nodes (an empty list when there is no file yet). */
  "nodes.list": call(z.object({}), z.object({ file: z.string(), nodes: z.array(nodeSchema) })),
  /** Adds a node (an existing name is an error). */
  "nodes.add": call(z.object({ node: nodeSchema }), z.object({ node: nodeSchema })),
  /** Replaces the node named `name` with `node` (which may carry a new name). */
  "nodes.update": call(z.object({ name: nodeNameSchema, node: nodeSchema }), z.object({ node: nodeSchema })),
  "nodes.remove": call(z.object({ name: nodeNameSchema }), z.object({ removed: nodeSchema })),
  /** Imports nodes from an ssh config or an Ansible inventory group into the nodes file. */
  "nodes.import": call(
    importRequestSchema,
    z.object({ imported: z.array(nodeSchema), warnings: z.array(z.string()) }),
  ),
  /** Connects far enough to see the node's host key; never trusts anything. */
  "nodes.hostKey": call(z.object({ name: nodeNameSchema }), hostKeyInfoSchema),
  /**
   * Records the node's host key in its known_hosts, only if the key it presents now is the one the
   * user saw (`fingerprint`, from nodes.hostKey). Unknown keys only: a changed key is refused.
   */
  "nodes.trust": call(
    z.object({
      name: nodeNameSchema,
      fingerprint: z
        .string()
        .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, "a fingerprint SHA256:... from nodes.hostKey"),
    }),
    z.object({
      trusted: z.boolean(),
      fingerprint: z.string(),
      knownHostsFile: z.string(),
      message: z.string(),
    }),
  ),
  /**
   * Takes or renews a lease on live health (`nodes.health` events). Polling runs while any lease is
   * alive; renew before `leaseMs` runs out.
   */
  "nodes.watch": call(
    z.object({
      /** Chosen by the watcher (one per screen), so each watcher's lease is its own. */
      watcher: z.string().min(1, "a watcher id").max(100, "a watcher id of at most 100 characters"),
      leaseMs: z
        .number()
        .int()
        .min(WATCH_LEASE_MIN_MS, `a lease of at least ${WATCH_LEASE_MIN_MS} ms`)
        .max(WATCH_LEASE_MAX_MS, `a lease of at most ${WATCH_LEASE_MAX_MS} ms`)
        .optional(),
    }),
    z.object({ leaseMs: z.number().int(), intervalMs: z.number().int() }),
  ),
  /** Ends a watcher's lease at once (the screen was hidden). */
  "nodes.unwatch": call(
    z.object({ watcher: z.string().min(1, "a watcher id") }),
    z.object({ watching: z.boolean() }),
  ),
  /** The latest health of every node (for the first paint). */
  "nodes.health": call(
    z.object({}),
    z.object({ nodes: z.array(nodeHealthSchema), polling: z.boolean(), intervalMs: z.number().int() }),
  ),
  /** Checks the nodes (all when none are named) before a run: SSH, Docker, GPUs, disk. */
  "nodes.preflight": call(
    z.object({ names: z.array(nodeNameSchema).optional() }),
    z.object({ nodes: z.array(nodePreflightSchema), seconds: z.number() }),
  ),
} as const;

export const nodesEvents = {
  /** Health of the nodes that changed since the last event (batched). */
  "nodes.health": z.object({ nodes: z.array(nodeHealthSchema) }),
} as const;
