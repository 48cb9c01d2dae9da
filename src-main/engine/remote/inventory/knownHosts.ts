/**
 * OpenSSH known_hosts: parsing (markers, pattern lists, `[host]:port`, hashed names, wildcards and
 * negation), lookup and verification of a presented host key, and appending a trusted key.
 * Behaviour follows OpenSSH's hostfile.c / match.c; see sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT".
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { constants } from "node:fs";
import { chmod, type FileHandle, mkdir, open, readFile } from "node:fs/promises";
import path from "node:path";
import { MadError } from "../../../../shared/errors.js";

export type KnownHostsMarker = "cert-authority" | "revoked";

/** The host field of a line: a plain pattern list, or one hashed name (`|1|salt|hash`). */
export type KnownHostsHosts =
  | { kind: "patterns"; patterns: string[] }
  | { kind: "hashed"; salt: Buffer; hash: Buffer };

export interface KnownHostsEntry {
  /** 1-based line number in the file. */
  lineNumber: number;
  marker: KnownHostsMarker | undefined;
  /** The host field as written. */
  hostField: string;
  hosts: KnownHostsHosts;
  keyType: string;
  /** Raw (wire-format) public key. */
  key: Buffer;
  /** Text after the key, if any. */
  comment: string | undefined;
}

export interface KnownHostsProblem {
  lineNumber: number;
  reason: string;
}

export interface KnownHostKey {
  keyType: string;
  key: Buffer;
  fingerprint: string;
  revoked: boolean;
  lineNumber: number;
}

export type HostKeyVerdict =
  | { status: "known" }
  | { status: "unknown" }
  | { status: "changed"; expected: string[]; presented: string }
  | { status: "revoked"; presented: string };

const HASH_MAGIC = "|1|";
const SHA1_LENGTH = 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** OpenSSH fingerprint of a raw public key: "SHA256:" + unpadded base64 of its sha256. */
export function fingerprintOf(rawKey: Buffer): string {
  return `SHA256:${createHash("sha256").update(rawKey).digest("base64").replace(/=+$/, "")}`;
}

/** The OpenSSH fingerprint for the hex sha256 digest that ssh2's hostVerifier gets with hostHash "sha256". */
export function fingerprintFromSha256Hex(hex: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new MadError("INVALID_ARGS", `not a sha256 hex digest: ${JSON.stringify(hex)}`, {
      hint: "pass the 64-character hex digest ssh2 gives with hostHash: 'sha256'",
    });
  }
  return `SHA256:${Buffer.from(hex, "hex").toString("base64").replace(/=+$/, "")}`;
}

/** The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** HMAC-SHA1 of a host name with a salt, as in `|1|salt|hash` entries. */
export function hashHostName(name: string, salt: Buffer): Buffer {
  return createHmac("sha1", salt).update(name).digest();
}

/** The key type named inside a wire-format key blob (its first SSH string), or undefined if malformed. */
function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const buffer = Buffer.from(text, "base64");
  return buffer.length > 0 ? buffer : undefined;
}

function parseHostField(field: string): KnownHostsHosts | string {
  if (field.startsWith("|")) {
    if (!field.startsWith(HASH_MAGIC)) return "unsupported hashed host format (only |1| is known)";
    const [saltText, hashText, extra] = field.slice(HASH_MAGIC.length).split("|");
    if (saltText === undefined || hashText === undefined || extra !== undefined) {
      return "malformed hashed host (expected |1|salt|hash)";
    }
    const salt = decodeBase64(saltText);
    const hash = decodeBase64(hashText);
    if (!salt || salt.length !== SHA1_LENGTH) return "hashed host salt is not 20 bytes of base64";
    if (!hash || hash.length !== SHA1_LENGTH) return "hashed host hash is not 20 bytes of base64";
    return { kind: "hashed", salt, hash };
  }
  const patterns = field.split(",");
  if (patterns.some((pattern) => pattern === "" || pattern === "!")) return "empty host pattern";
  return { kind: "patterns", patterns };
}

/** Parses known_hosts text; lines OpenSSH would skip are reported in `problems` (with their reason). */
export function parseKnownHostsWithProblems(text: string): {
  entries: KnownHostsEntry[];
  problems: KnownHostsProblem[];
} {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split("\n");
  lines.forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/[ \t]+/);
    let marker: KnownHostsMarker | undefined;
    if (fields[0]!.startsWith("@")) {
      const word = fields.shift()!;
      if (word === "@cert-authority") marker = "cert-authority";
      else if (word === "@revoked") marker = "revoked";
      else {
        problems.push({ lineNumber, reason: `unknown marker ${word}` });
        return;
      }
    }
    const [hostField, keyType, keyText, ...rest] = fields;
    if (hostField === undefined || keyType === undefined || keyText === undefined) {
      problems.push({ lineNumber, reason: "expected: [marker] hosts key-type base64-key [comment]" });
      return;
    }
    if (/^\d+$/.test(keyType)) {
      problems.push({ lineNumber, reason: "SSH protocol 1 RSA keys are not supported" });
      return;
    }
    const hosts = parseHostField(hostField);
    if (typeof hosts === "string") {
      problems.push({ lineNumber, reason: hosts });
      return;
    }
    const key = decodeBase64(keyText);
    if (!key) {
      problems.push({ lineNumber, reason: "the key is not valid base64" });
      return;
    }
    const inner = blobKeyType(key);
    if (inner !== keyType) {
      problems.push({
        lineNumber,
        reason:
          inner === undefined
            ? `the key data is not an SSH public key`
            : `key type ${keyType} does not match the key data (${inner})`,
      });
      return;
    }
    const comment = rest.length > 0 ? rest.join(" ") : undefined;
    entries.push({ lineNumber, marker, hostField, hosts, keyType, key, comment });
  });
  return { entries, problems };
}

/** Parses known_hosts text, skipping comments, blank lines and lines OpenSSH would not accept. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  return parseKnownHostsWithProblems(text).entries;
}

/** Reads and parses a known_hosts file; a missing file holds no keys (as for OpenSSH). */
export async function readKnownHostsFile(file: string): Promise<KnownHostsEntry[]> {
  try {
    return parseKnownHosts(await readFile(file, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new MadError("INVALID_FILE", `${file}: cannot read known_hosts: ${(error as Error).message}`, {
      file,
      hint: "check the file's permissions",
      cause: error,
    });
  }
}

/**
 * OpenSSH glob match (`*` any run, `?` one character). Case-insensitive by default, as known_hosts
 * matching is; ssh_config `Host` matching is case-sensitive.
 */
export function matchPattern(name: string, pattern: string, ignoreCase = true): boolean {
  const s = ignoreCase ? name.toLowerCase() : name;
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = p[pi];
    if (pc === "*") {
      starP = pi++;
      starS = si;
    } else if (pc !== undefined && (pc === "?" || pc === s[si])) {
      pi++;
      si++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else return false;
  }
  while (p[pi] === "*") pi++;
  return pi === p.length;
}

/**
 * OpenSSH match_pattern_list: 1 when a positive pattern matches and no negated one does, -1 when a
 * negated pattern matches (that vetoes the whole list), 0 when nothing matches.
 */
export function matchPatternList(name: string, patterns: readonly string[]): -1 | 0 | 1 {
  let matched: 0 | 1 = 0;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = negated ? raw.slice(1) : raw;
    if (matchPattern(name, pattern)) {
      if (negated) return -1;
      matched = 1;
    }
  }
  return matched;
}

function hostsMatch(hosts: KnownHostsHosts, name: string): boolean {
  if (hosts.kind === "patterns") return matchPatternList(name, hosts.patterns) === 1;
  return timingSafeEqual(hashHostName(name, hosts.salt), hosts.hash);
}

/**
 * The keys known for host:port, in file order. `@cert-authority` lines are left out (they sign host
 * certificates; we verify plain host keys). `@revoked` lines are included with `revoked: true`.
 */
export function lookupHostKeys(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
): KnownHostKey[] {
  const name = knownHostsName(host.toLowerCase(), port);
  return entries
    .filter((entry) => entry.marker !== "cert-authority" && hostsMatch(entry.hosts, name))
    .map((entry) => ({
      keyType: entry.keyType,
      key: entry.key,
      fingerprint: fingerprintOf(entry.key),
      revoked: entry.marker === "revoked",
      lineNumber: entry.lineNumber,
    }));
}

/**
 * Checks the key a host presented against known_hosts. A key on a matching `@revoked` line is
 * revoked even if also listed as trusted; a host with known keys none of which is the presented one
 * has changed its key (whatever the key types); a host with no keys is unknown.
 */
export function verifyHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  presentedKey: Buffer,
): HostKeyVerdict {
  const keys = lookupHostKeys(entries, host, port);
  const presented = fingerprintOf(presentedKey);
  if (keys.some((k) => k.revoked && k.key.equals(presentedKey))) return { status: "revoked", presented };
  const trusted = keys.filter((k) => !k.revoked);
  if (trusted.some((k) => k.key.equals(presentedKey))) return { status: "known" };
  if (trusted.length === 0) return { status: "unknown" };
  return { status: "changed", expected: [...new Set(trusted.map((k) => k.fingerprint))], presented };
}

export interface FormatKnownHostsOptions {
  /** Write the host name hashed (`|1|salt|hash`), as `HashKnownHosts yes` does. */
  hashed?: boolean;
  /** Salt for a hashed name (20 bytes); random when not given. */
  salt?: Buffer;
  comment?: string;
}

/** One known_hosts line (no newline) for host:port and a raw public key. */
export function formatKnownHostsLine(
  host: string,
  port: number,
  keyType: string,
  rawKey: Buffer,
  options: FormatKnownHostsOptions = {},
): string {
  if (host === "" || /[\s,]/.test(host) || host.startsWith("!") || host.startsWith("|")) {
    throw new MadError("INVALID_ARGS", `not a host name for known_hosts: ${JSON.stringify(host)}`, {
      hint: "pass a plain host name or IP address",
    });
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MadError("INVALID_ARGS", `not a port: ${port}`, { hint: "pass a port from 1 to 65535" });
  }
  if (blobKeyType(rawKey) !== keyType) {
    throw new MadError(
      "INVALID_ARGS",
      `key type ${JSON.stringify(keyType)} does not match the key data (${blobKeyType(rawKey) ?? "not an SSH key"})`,
      { hint: "pass the raw wire-format key and the type it names" },
    );
  }
  const name = knownHostsName(host.toLowerCase(), port);
  let hostField = name;
  if (options.hashed) {
    const salt = options.salt ?? randomBytes(SHA1_LENGTH);
    if (salt.length !== SHA1_LENGTH) {
      throw new MadError("INVALID_ARGS", `a known_hosts salt must be ${SHA1_LENGTH} bytes`, {
        hint: "leave the salt out to get a random one",
      });
    }
    hostField = `${HASH_MAGIC}${salt.toString("base64")}|${hashHostName(name, salt).toString("base64")}`;
  }
  const comment = options.comment?.replace(/[\r\n]+/g, " ").trim();
  return `${hostField} ${keyType} ${rawKey.toString("base64")}${comment ? ` ${comment}` : ""}`;
}

/**
 * Appends one line to a known_hosts file. Creates the file (0600) and its directory (0700) when
 * missing; existing lines are never rewritten. The line goes out in one O_APPEND write, so
 * concurrent appenders cannot interleave inside it; a file without a final newline gets one first.
 */
export async function appendKnownHost(file: string, line: string): Promise<void> {
  const text = line.replace(/\r?\n$/, "");
  if (/[\r\n]/.test(text)) {
    throw new MadError("INVALID_ARGS", "a known_hosts line must be a single line", {
      hint: "append one entry at a time",
    });
  }
  const { entries, problems } = parseKnownHostsWithProblems(text);
  if (entries.length !== 1) {
    throw new MadError(
      "INVALID_ARGS",
      `not a known_hosts entry: ${problems[0]?.reason ?? "empty or comment line"}`,
      { hint: "build the line with formatKnownHostsLine" },
    );
  }
  const dir = path.dirname(path.resolve(file));
  try {
    const firstCreated = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (firstCreated !== undefined) {
      // chmod every directory we created: mkdir's mode is subject to the umask.
      for (let current = dir; ; current = path.dirname(current)) {
        await chmod(current, 0o700);
        if (current === firstCreated || current === path.dirname(current)) break;
      }
    }
    let handle: FileHandle;
    let created = true;
    try {
      handle = await open(
        file,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      created = false;
      handle = await open(file, constants.O_RDWR | constants.O_APPEND);
    }
    try {
      let prefix = "";
      if (created) await handle.chmod(0o600);
      else {
        const { size } = await handle.stat();
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          if (last[0] !== 0x0a) prefix = "\n";
        }
      }
      await handle.write(`${prefix}${text}\n`);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof MadError) throw error;
    throw new MadError("INVALID_FILE", `${file}: cannot append to known_hosts: ${(error as Error).message}`, {
      file,
      hint: `check that ${file} and its directory are writable`,
      cause: error,
    });
  }
}
