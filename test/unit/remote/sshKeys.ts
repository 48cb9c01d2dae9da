/** Real OpenSSH keys for tests, made with ssh-keygen in a temporary directory. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

export interface TestKey {
  /** e.g. ssh-ed25519 */
  keyType: string;
  /** Raw (wire-format) public key. */
  raw: Buffer;
  /** The base64 field of the .pub line. */
  base64: string;
  /** `ssh-keygen -l -E sha256` of the public key. */
  fingerprint: string;
  publicKeyPath: string;
  privateKeyPath: string;
}

/** `ssh-keygen -t <type> -N '' -f <dir>/<name>`; the fingerprint comes from ssh-keygen itself. */
export function makeKey(dir: string, name: string, type: "ed25519" | "ecdsa" = "ed25519"): TestKey {
  const privateKeyPath = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", name, "-f", privateKeyPath]);
  const publicKeyPath = `${privateKeyPath}.pub`;
  const [keyType, base64] = readFileSync(publicKeyPath, "utf8").trim().split(/\s+/) as [string, string];
  const listed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyPath], {
    encoding: "utf8",
  });
  const fingerprint = listed.split(/\s+/)[1]!;
  return { keyType, raw: Buffer.from(base64, "base64"), base64, fingerprint, publicKeyPath, privateKeyPath };
}
