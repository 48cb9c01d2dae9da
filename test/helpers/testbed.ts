/**
 * The local testbed that test/env/testbed-up.sh starts: one dockerd on a unix socket, one registry on
 * 127.0.0.1, N sshd "nodes" on 127.0.100.i. Integration tests call `loadTestbed()`; when the testbed
 * is not running it throws, so those tests fail (they never skip silently).
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";

export const TESTBED_NOT_RUNNING = "testbed not running: start it with bash test/env/testbed-up.sh";

export interface TestbedNode {
  /** node1, node2, ... */
  name: string;
  /** 127.0.100.i */
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** OpenSSH form: "SHA256:" + unpadded base64 of sha256(raw host key) */
  hostKeyFingerprint: string;
  /** lowercase hex sha256 of the raw host key (what ssh2's hostVerifier gets with hostHash "sha256") */
  hostKeySha256Hex: string;
}

export interface Testbed {
  version: 1;
  /** the testbed's state folder (TB_DIR) */
  dir: string;
  /** unix:///.../docker.sock */
  dockerHost: string;
  dockerSocket: string;
  /** 127.0.0.1:PORT */
  registry: string;
  /** madengine-testbed/busybox:latest, FROM scratch with a static busybox */
  baseImage: string;
  /** A second registry that requires htpasswd auth (for credential tests); its test password. */
  authRegistry: { address: string; username: string; password: string };
  user: string;
  privateKeyPath: string;
  knownHostsPath: string;
  sshConfigPath: string;
  inventoryIniPath: string;
  nodes: TestbedNode[];
}

/** The folder that holds testbed.json: $MADENGINE_TESTBED, else /tmp/madengine-testbed. */
export function testbedDir(): string {
  return process.env.MADENGINE_TESTBED ?? "/tmp/madengine-testbed";
}

type Json = Record<string, unknown>;

function field<T extends "string" | "number">(obj: Json, key: string, type: T, where: string, file: string) {
  const value = obj[key];
  if (typeof value !== type || (type === "string" && value === "")) {
    throw new Error(
      `${file}: ${where}${key} must be a ${type === "string" ? "non-empty string" : "number"}; ` +
        "re-run bash test/env/testbed-up.sh",
    );
  }
  return value as T extends "string" ? string : number;
}

/**
 * Reads and checks `<testbedDir()>/testbed.json`. Throws `TESTBED_NOT_RUNNING` (with the reason) when
 * the file is missing or the docker socket is absent, and a pointed error when a field is missing.
 */
export function loadTestbed(): Testbed {
  const file = path.join(testbedDir(), "testbed.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`${TESTBED_NOT_RUNNING} (${file}: ${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${file} is not valid JSON (${(error as Error).message}); re-run bash test/env/testbed-up.sh`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${file} must hold a JSON object; re-run bash test/env/testbed-up.sh`);
  }
  const obj = raw as Json;
  if (obj.version !== 1) {
    throw new Error(`${file}: unsupported version ${JSON.stringify(obj.version)} (expected 1)`);
  }
  const s = (key: string) => field(obj, key, "string", "", file);
  const testbed: Testbed = {
    version: 1,
    dir: typeof obj.dir === "string" && obj.dir !== "" ? obj.dir : path.dirname(file),
    dockerHost: s("dockerHost"),
    dockerSocket: s("dockerSocket"),
    registry: s("registry"),
    baseImage: s("baseImage"),
    authRegistry: {
      address: field((obj.authRegistry ?? {}) as Json, "address", "string", "authRegistry.", file),
      username: field((obj.authRegistry ?? {}) as Json, "username", "string", "authRegistry.", file),
      password: field((obj.authRegistry ?? {}) as Json, "password", "string", "authRegistry.", file),
    },
    user: s("user"),
    privateKeyPath: s("privateKeyPath"),
    knownHostsPath: s("knownHostsPath"),
    sshConfigPath: s("sshConfigPath"),
    inventoryIniPath: s("inventoryIniPath"),
    nodes: [],
  };
  if (!Array.isArray(obj.nodes) || obj.nodes.length === 0) {
    throw new Error(`${file}: nodes must be a non-empty array; re-run bash test/env/testbed-up.sh`);
  }
  testbed.nodes = obj.nodes.map((entry: unknown, i: number): TestbedNode => {
    if (typeof entry !== "object" || entry === null) {
      throw new Error(`${file}: nodes[${i}] must be an object`);
    }
    const node = entry as Json;
    const where = `nodes[${i}].`;
    return {
      name: field(node, "name", "string", where, file),
      host: field(node, "host", "string", where, file),
      port: field(node, "port", "number", where, file),
      user: field(node, "user", "string", where, file),
      privateKeyPath: field(node, "privateKeyPath", "string", where, file),
      hostKeyFingerprint: field(node, "hostKeyFingerprint", "string", where, file),
      hostKeySha256Hex: field(node, "hostKeySha256Hex", "string", where, file),
    };
  });
  if (!/^127\.\d+\.\d+\.\d+:\d+$/.test(testbed.registry)) {
    throw new Error(`${file}: registry must be on 127.0.0.0/8 (got ${testbed.registry})`);
  }
  let isSocket = false;
  try {
    isSocket = statSync(testbed.dockerSocket).isSocket();
  } catch {
    isSocket = false;
  }
  if (!isSocket) {
    throw new Error(`${TESTBED_NOT_RUNNING} (no docker socket at ${testbed.dockerSocket})`);
  }
  return testbed;
}

/** OpenSSH fingerprint of a raw (wire-format) public key: "SHA256:" + unpadded base64 of its sha256. */
export function sshFingerprint(rawKey: Buffer): string {
  return `SHA256:${createHash("sha256").update(rawKey).digest("base64").replace(/=+$/, "")}`;
}

export interface KnownHost {
  /** the host patterns as written: "[127.0.100.1]:2222" or "host" */
  hosts: string[];
  keyType: string;
  /** raw (wire-format) key */
  key: Buffer;
  fingerprint: string;
}

/** Parses plain (unhashed) OpenSSH known_hosts text; skips comments, markers and hashed entries. */
export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith("@") || trimmed.startsWith("|")) {
      continue;
    }
    const [hostsField, keyType, b64] = trimmed.split(/\s+/);
    if (!hostsField || !keyType || !b64) continue;
    const key = Buffer.from(b64, "base64");
    out.push({ hosts: hostsField.split(","), keyType, key, fingerprint: sshFingerprint(key) });
  }
  return out;
}

/** The known_hosts pattern OpenSSH uses for a host and port: "host" on 22, else "[host]:port". */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The fingerprints that known_hosts text accepts for host:port. */
export function knownFingerprints(text: string, host: string, port: number): Set<string> {
  const name = knownHostsName(host, port);
  return new Set(
    parseKnownHosts(text)
      .filter((entry) => entry.hosts.includes(name))
      .map((entry) => entry.fingerprint),
  );
}

/** The known_hosts text that testbed.json points at. */
export function readKnownHosts(testbed: Testbed): string {
  return readFileSync(testbed.knownHostsPath, "utf8");
}
