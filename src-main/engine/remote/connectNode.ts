import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import ssh2 from "ssh2";
import { MadError } from "../../../shared/errors.js";
import type { Node } from "../../../shared/schemas/nodes.js";
import { type HostKeyDecision, NodeConnection } from "./connection.js";
import {
  appendKnownHost,
  fingerprintOf,
  formatKnownHostsLine,
  type KnownHostsEntry,
  readKnownHostsFile,
  verifyHostKey,
} from "./inventory/knownHosts.js";

export interface HostKeyPolicy {
  /** known_hosts file used when a node names none (default ~/.ssh/known_hosts). */
  knownHostsFile?: string | undefined;
  /** Accept and record keys of hosts not yet in known_hosts (automation); a changed key is still refused. */
  trustNewHosts: boolean;
}

export interface ConnectOptions {
  policy: HostKeyPolicy;
  /** Other nodes, for ProxyJump hops named by node name. */
  nodesByName?: ReadonlyMap<string, Node>;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Called when a new host key was accepted and recorded (trust on first use). */
  onTrusted?: (node: string, fingerprint: string, file: string) => void;
  /** Sees every host key presented, before the decision (used to show it for explicit trust). */
  onHostKey?: (node: string, rawKey: Buffer) => void;
  /** Asks for the passphrase of an encrypted key that has no passphrase variable (a TTY prompt). */
  askPassphrase?: (node: string, keyFile: string) => Promise<string | undefined>;
}

export function knownHostsFileFor(node: Pick<Node, "knownHostsFile">, policy: HostKeyPolicy): string {
  return node.knownHostsFile ?? policy.knownHostsFile ?? path.join(homedir(), ".ssh", "known_hosts");
}

/** The key type named inside an SSH wire-format public key (`ssh-ed25519`, `ssh-rsa`, ...). */
export function keyTypeOf(rawKey: Buffer): string {
  const length = rawKey.readUInt32BE(0);
  return rawKey.subarray(4, 4 + length).toString("ascii");
}

/** Whether a private key file is encrypted (ssh2 refuses to parse it without a passphrase). */
export function keyNeedsPassphrase(file: string): boolean {
  try {
    const parsed = ssh2.utils.parseKey(readFileSync(file));
    return parsed instanceof Error && /passphrase/i.test(parsed.message);
  } catch {
    return false;
  }
}

function expandHome(file: string): string {
  return file.startsWith("~/") ? path.join(homedir(), file.slice(2)) : file;
}

/**
 * The host-key decision for one host: known keys pass; an unknown host passes only with
 * trustNewHosts (and is then recorded); a changed or revoked key is always refused, with the
 * fingerprints shown.
 */
export function hostKeyDecider(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  name: string,
  file: string,
  policy: HostKeyPolicy,
  accepted: { key?: Buffer },
): (rawKey: Buffer) => HostKeyDecision {
  return (rawKey) => {
    const verdict = verifyHostKey(entries, host, port, rawKey);
    switch (verdict.status) {
      case "known":
        return { accept: true };
      case "unknown":
        if (policy.trustNewHosts) {
          accepted.key = rawKey;
          return { accept: true };
        }
        return {
          accept: false,
          reason: `host key of ${host}:${port} is not in ${file} (fingerprint ${fingerprintOf(rawKey)})`,
          hint: `check the fingerprint, then trust it: madengine-cli nodes trust ${name} (or pass --trust-new-hosts)`,
        };
      case "changed":
        return {
          accept: false,
          reason: `HOST KEY CHANGED for ${host}:${port}: ${file} has ${verdict.expected.join(", ")}, the host presented ${verdict.presented}`,
          hint: `this may be an attack; if the node was reinstalled, remove its old line from ${file} and trust it again`,
        };
      case "revoked":
        return {
          accept: false,
          reason: `host key ${verdict.presented} of ${host}:${port} is marked @revoked in ${file}`,
          hint: "the node's key was revoked: give it a new host key",
        };
    }
  };
}

function parseHop(
  hop: string,
  nodesByName: ReadonlyMap<string, Node> | undefined,
  fallbackUser: string,
): Node {
  const named = nodesByName?.get(hop);
  if (named) return named;
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop);
  if (!match)
    throw new MadError(
      "INVALID_ARGS",
      `ProxyJump hop ${JSON.stringify(hop)} is not user@host:port or a node name`,
      {},
    );
  return {
    name: hop,
    host: match[2]!.replace(/^\[|\]$/g, ""),
    port: match[3] ? Number(match[3]) : 22,
    user: match[1] ?? fallbackUser,
    labels: {},
    dockerSocket: "/var/run/docker.sock",
    workDir: "~/madengine",
  };
}

/**
 * Opens the node's SSH connection: key file (with its passphrase from the named environment
 * variable) or ssh-agent, host key checked against known_hosts, through ProxyJump hops if any.
 * Returns the connection and the jump connections it depends on (closed together).
 */
export async function connectNode(node: Node, options: ConnectOptions): Promise<NodeConnection> {
  const env = options.env ?? process.env;
  const hops = node.proxyJump
    ? node.proxyJump.split(",").map((hop) => parseHop(hop.trim(), options.nodesByName, node.user))
    : [];
  const chain = [...hops, node];
  let previous: NodeConnection | undefined;
  const opened: NodeConnection[] = [];
  try {
    for (const hop of chain) {
      const file = expandHome(knownHostsFileFor(hop, options.policy));
      const entries = await readKnownHostsFile(file);
      const accepted: { key?: Buffer } = {};
      let passphrase: string | undefined;
      if (hop.identityPassphraseEnv) {
        passphrase = env[hop.identityPassphraseEnv];
        if (passphrase === undefined) {
          throw new MadError(
            "INVALID_ARGS",
            `${hop.name}: the key passphrase variable ${hop.identityPassphraseEnv} is not set`,
            {
              hint: `export ${hop.identityPassphraseEnv}=... (or use ssh-agent)`,
            },
          );
        }
      }
      if (
        passphrase === undefined &&
        hop.identityFile &&
        options.askPassphrase &&
        keyNeedsPassphrase(expandHome(hop.identityFile))
      ) {
        passphrase = await options.askPassphrase(hop.name, expandHome(hop.identityFile));
      }
      const sock = previous ? await previous.forwardTo(hop.host, hop.port) : undefined;
      const connection = await NodeConnection.connect({
        name: hop.name,
        host: hop.host,
        port: hop.port,
        user: hop.user,
        identityFile: hop.identityFile ? expandHome(hop.identityFile) : undefined,
        passphrase,
        checkHostKey: (rawKey) => {
          options.onHostKey?.(hop.name, rawKey);
          return hostKeyDecider(
            entries,
            hop.host,
            hop.port,
            hop.name,
            file,
            options.policy,
            accepted,
          )(rawKey);
        },
        ...(sock ? { sock } : {}),
        ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
        ...(options.keepaliveIntervalMs !== undefined
          ? { keepaliveIntervalMs: options.keepaliveIntervalMs }
          : {}),
        ...(options.keepaliveCountMax !== undefined ? { keepaliveCountMax: options.keepaliveCountMax } : {}),
      });
      opened.push(connection);
      if (accepted.key) {
        await appendKnownHost(
          file,
          formatKnownHostsLine(hop.host, hop.port, keyTypeOf(accepted.key), accepted.key),
        );
        options.onTrusted?.(hop.name, fingerprintOf(accepted.key), file);
      }
      previous = connection;
    }
  } catch (error) {
    for (const connection of opened) connection.close();
    throw error;
  }
  const target = opened.at(-1)!;
  // closing the node's connection closes the hops it rides on
  target.onClose(() => {
    for (const connection of opened.slice(0, -1)) connection.close();
  });
  return target;
}
