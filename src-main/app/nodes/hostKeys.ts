import type { HostKeyInfo } from "../../../shared/contract/nodes.js";
import { MadError } from "../../../shared/errors.js";
import type { Node } from "../../../shared/schemas/nodes.js";
import {
  type ConnectOptions,
  connectNode,
  keyTypeOf,
  knownHostsFileFor,
} from "../../engine/remote/connectNode.js";
import {
  appendKnownHost,
  fingerprintOf,
  formatKnownHostsLine,
  readKnownHostsFile,
  verifyHostKey,
} from "../../engine/remote/inventory/knownHosts.js";
import { expandHome } from "./paths.js";

/**
 * Trust on first use, done in two explicit steps: `inspectHostKey` connects far enough to see the
 * key the node presents (an untrusted key is refused before any authentication), and `trustHostKey`
 * records exactly the key the user saw, checking that the node still presents it. The app never
 * trusts on its own: connections everywhere else refuse unknown keys.
 */

interface PresentedKey {
  rawKey: Buffer;
  file: string;
}

/** Connects (the key is checked before anything else happens) and answers the key the node presented. */
async function presentedKey(node: Node, connect: ConnectOptions): Promise<PresentedKey> {
  const policy = { ...connect.policy, trustNewHosts: false };
  let rawKey: Buffer | undefined;
  let failure: unknown;
  try {
    const connection = await connectNode(node, {
      ...connect,
      policy,
      onHostKey: (hop, key) => {
        if (hop === node.name) rawKey = key;
      },
    });
    connection.close();
  } catch (error) {
    failure = error;
  }
  // an authentication failure after the key was seen still answers the question asked here
  if (!rawKey) {
    if (failure) throw failure;
    throw new MadError("INTERNAL", `${node.name}: the connection opened without showing a host key`, {
      hint: "this is a bug in madengine Control Center; please report it",
    });
  }
  return { rawKey, file: expandHome(knownHostsFileFor(node, policy)) };
}

export async function inspectHostKey(node: Node, connect: ConnectOptions): Promise<HostKeyInfo> {
  return (await inspect(node, connect)).info;
}

async function inspect(node: Node, connect: ConnectOptions): Promise<{ info: HostKeyInfo; rawKey: Buffer }> {
  const { rawKey, file } = await presentedKey(node, connect);
  return { info: describeKey(node, rawKey, file, await readKnownHostsFile(file)), rawKey };
}

function describeKey(
  node: Node,
  rawKey: Buffer,
  file: string,
  entries: Awaited<ReturnType<typeof readKnownHostsFile>>,
): HostKeyInfo {
  const verdict = verifyHostKey(entries, node.host, node.port, rawKey);
  const fingerprint = fingerprintOf(rawKey);
  const base = {
    node: node.name,
    host: node.host,
    port: node.port,
    fingerprint,
    keyType: keyTypeOf(rawKey),
    status: verdict.status,
    knownHostsFile: file,
  };
  switch (verdict.status) {
    case "known":
      return { ...base, message: `${node.name}'s host key is trusted (in ${file})` };
    case "unknown":
      return {
        ...base,
        message: `${node.name} (${node.host}:${node.port}) presents a host key that ${file} does not have. Compare its fingerprint with the node's own (ssh-keygen -lf /etc/ssh/ssh_host_${keyTypeOf(rawKey).replace(/^ssh-/, "")}_key.pub on the node) before trusting it.`,
      };
    case "changed":
      return {
        ...base,
        expected: verdict.expected,
        message: `HOST KEY CHANGED: ${node.name} (${node.host}:${node.port}) now presents ${fingerprint}, but ${file} has ${verdict.expected.join(", ")} for it. Someone may be intercepting the connection (a man-in-the-middle attack), or the node was reinstalled. Nothing will connect to it until this is resolved: if you know the node was reinstalled, remove its old line from ${file} and trust it again.`,
      };
    case "revoked":
      return {
        ...base,
        message: `${node.name}'s host key ${fingerprint} is marked @revoked in ${file}: it must never be trusted again. Give the node a new host key.`,
      };
  }
}

export async function trustHostKey(
  node: Node,
  seenFingerprint: string,
  connect: ConnectOptions,
): Promise<{ trusted: boolean; fingerprint: string; knownHostsFile: string; message: string }> {
  const { info, rawKey } = await inspect(node, connect);
  if (info.status === "known") {
    return {
      trusted: true,
      fingerprint: info.fingerprint,
      knownHostsFile: info.knownHostsFile,
      message: `${node.name}'s host key was already trusted`,
    };
  }
  if (info.status !== "unknown") {
    throw new MadError("INVALID_ARGS", `refusing to trust ${node.name}: ${info.message}`, {
      hint: `resolve the ${info.status} key in ${info.knownHostsFile} first`,
      file: info.knownHostsFile,
    });
  }
  if (info.fingerprint !== seenFingerprint) {
    throw new MadError(
      "INVALID_ARGS",
      `refusing to trust ${node.name}: it now presents ${info.fingerprint}, not the key you saw (${seenFingerprint})`,
      {
        path: "fingerprint",
        hint: "the key changed between looking and trusting; look at the key again and compare it with the node's own",
      },
    );
  }
  await appendKnownHost(
    info.knownHostsFile,
    formatKnownHostsLine(node.host, node.port, keyTypeOf(rawKey), rawKey),
  );
  return {
    trusted: true,
    fingerprint: seenFingerprint,
    knownHostsFile: info.knownHostsFile,
    message: `trusted ${node.name} ${seenFingerprint} (added to ${info.knownHostsFile})`,
  };
}
