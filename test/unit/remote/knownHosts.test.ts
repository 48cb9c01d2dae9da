import { execFileSync, spawnSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  appendKnownHost,
  fingerprintFromSha256Hex,
  fingerprintOf,
  formatKnownHostsLine,
  knownHostsName,
  lookupHostKeys,
  matchPattern,
  matchPatternList,
  parseKnownHosts,
  parseKnownHostsWithProblems,
  readKnownHostsFile,
  verifyHostKey,
} from "../../../src-main/engine/remote/inventory/knownHosts.js";
import { rejection, thrown } from "../../helpers/errors.js";
import { tempTree } from "../../helpers/tempDir.js";
import { makeKey, type TestKey } from "./sshKeys.js";

/** An OpenSSH hashed host field, computed here independently of the code under test. */
function opensshHash(name: string, salt = randomBytes(20)): string {
  const hash = createHmac("sha1", salt).update(name).digest();
  return `|1|${salt.toString("base64")}|${hash.toString("base64")}`;
}

let keyDir: string;
let a: TestKey;
let b: TestKey;
let c: TestKey;
let ecdsa: TestKey;

beforeAll(() => {
  // tempTree's cleanup runs after each test; keep the keys in a directory of our own.
  keyDir = mkdtempSync(path.join(tmpdir(), "madengine-keys-"));
  a = makeKey(keyDir, "a");
  b = makeKey(keyDir, "b");
  c = makeKey(keyDir, "c");
  ecdsa = makeKey(keyDir, "e", "ecdsa");
  return () => {
    rmSync(keyDir, { recursive: true, force: true });
  };
});

const line = (hosts: string, key: TestKey, extra = "") => `${hosts} ${key.keyType} ${key.base64}${extra}`;

describe("fingerprints", () => {
  it("fingerprintOf gives what ssh-keygen -l -E sha256 prints", () => {
    for (const key of [a, b, ecdsa]) expect(fingerprintOf(key.raw)).toBe(key.fingerprint);
  });

  it("converts ssh2's hex sha256 host hash to the OpenSSH form", () => {
    const hex = createHash("sha256").update(a.raw).digest("hex");
    expect(fingerprintFromSha256Hex(hex)).toBe(a.fingerprint);
    expect(fingerprintFromSha256Hex(hex.toUpperCase())).toBe(a.fingerprint);
    expect(thrown(() => fingerprintFromSha256Hex("abc")).code).toBe("INVALID_ARGS");
  });

  it("names hosts like OpenSSH: bare on port 22, [host]:port otherwise", () => {
    expect(knownHostsName("h", 22)).toBe("h");
    expect(knownHostsName("h", 2222)).toBe("[h]:2222");
    expect(knownHostsName("::1", 2222)).toBe("[::1]:2222");
  });
});

describe("parseKnownHosts", () => {
  it("reads plain entries, skipping comments and blank lines, keeping line numbers and comments", () => {
    const text = [
      "# a comment",
      "",
      "   ",
      line("host1,10.0.0.1", a, " alice@laptop  extra words"),
      `  ${line("[host2]:2222", b)}\r`,
      "\t# indented comment",
    ].join("\n");
    const entries = parseKnownHosts(text);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      lineNumber: 4,
      marker: undefined,
      hostField: "host1,10.0.0.1",
      hosts: { kind: "patterns", patterns: ["host1", "10.0.0.1"] },
      keyType: "ssh-ed25519",
      comment: "alice@laptop extra words",
    });
    expect(entries[0]!.key.equals(a.raw)).toBe(true);
    expect(entries[1]).toMatchObject({ lineNumber: 5, hostField: "[host2]:2222", comment: undefined });
  });

  it("reads @cert-authority and @revoked markers and hashed host fields", () => {
    const salt = randomBytes(20);
    const text = [
      `@cert-authority *.example.com ${a.keyType} ${a.base64}`,
      `@revoked * ${b.keyType} ${b.base64}`,
      line(opensshHash("host3", salt), c),
    ].join("\n");
    const [ca, revoked, hashed] = parseKnownHosts(text);
    expect(ca!.marker).toBe("cert-authority");
    expect(revoked!.marker).toBe("revoked");
    expect(hashed!.hosts.kind).toBe("hashed");
    if (hashed!.hosts.kind === "hashed") expect(hashed!.hosts.salt.equals(salt)).toBe(true);
  });

  it("reports the lines OpenSSH would skip, with reasons", () => {
    const text = [
      "@bogus host ssh-ed25519 AAAA",
      "host-only",
      "host ssh-ed25519 not*base64",
      `host ssh-rsa ${a.base64}`,
      "host ssh-ed25519 AAAAAAAA",
      "host 2048 65537 12345",
      `|2|abc|def ${a.keyType} ${a.base64}`,
      `|1|${randomBytes(8).toString("base64")}|${randomBytes(20).toString("base64")} ${a.keyType} ${a.base64}`,
      `|1|onlysalt ${a.keyType} ${a.base64}`,
      `a,,b ${a.keyType} ${a.base64}`,
      line("good", a),
    ].join("\n");
    const { entries, problems } = parseKnownHostsWithProblems(text);
    expect(entries.map((e) => e.lineNumber)).toEqual([11]);
    expect(problems.map((p) => p.lineNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(problems[0]!.reason).toContain("unknown marker @bogus");
    expect(problems[3]!.reason).toContain("ssh-rsa does not match the key data (ssh-ed25519)");
    expect(problems[4]!.reason).toContain("not an SSH public key");
    expect(problems[5]!.reason).toContain("protocol 1");
    expect(problems[7]!.reason).toContain("salt is not 20 bytes");
  });

  it("reads a missing file as holding no keys", async () => {
    const dir = tempTree();
    expect(await readKnownHostsFile(path.join(dir, "nope"))).toEqual([]);
    writeFileSync(path.join(dir, "kh"), `${line("h", a)}\n`);
    expect(await readKnownHostsFile(path.join(dir, "kh"))).toHaveLength(1);
    const error = await rejection(readKnownHostsFile(dir));
    expect(error.message).toContain("cannot read known_hosts");
  });
});

describe("pattern matching", () => {
  it("supports * and ? and is case-insensitive", () => {
    expect(matchPattern("gpu1.example.com", "*.example.com")).toBe(true);
    expect(matchPattern("example.com", "*.example.com")).toBe(false);
    expect(matchPattern("GPU1.Example.COM", "gpu?.example.com")).toBe(true);
    expect(matchPattern("gpu10.example.com", "gpu?.example.com")).toBe(false);
    expect(matchPattern("anything", "*")).toBe(true);
    expect(matchPattern("", "*")).toBe(true);
    expect(matchPattern("abc", "a*b*c")).toBe(true);
    expect(matchPattern("abxc", "a*b?")).toBe(false);
    expect(matchPattern("[10.0.0.7]:2222", "[10.0.0.*]:2222")).toBe(true);
    expect(matchPattern("[10.0.0.7]:22", "[10.0.0.*]:2222")).toBe(false);
  });

  it("lets a negated pattern veto the whole list", () => {
    expect(matchPatternList("a.example.com", ["*.example.com", "!bad.example.com"])).toBe(1);
    expect(matchPatternList("bad.example.com", ["*.example.com", "!bad.example.com"])).toBe(-1);
    expect(matchPatternList("bad.example.com", ["!bad.example.com", "*.example.com"])).toBe(-1);
    expect(matchPatternList("other.org", ["*.example.com", "!bad.example.com"])).toBe(0);
    expect(matchPatternList("x", ["!y"])).toBe(0);
  });
});

describe("lookupHostKeys", () => {
  const text = () =>
    [
      line("gpu1,10.0.0.1", a),
      line("[gpu1]:2222", b),
      line("*.cluster.local,!bad.cluster.local", c),
      `@revoked [gpu1]:2222 ${c.keyType} ${c.base64}`,
      `@cert-authority * ${ecdsa.keyType} ${ecdsa.base64}`,
      line("[10.0.0.?]:2200", ecdsa),
    ].join("\n");

  it("finds keys by name on port 22 and by [name]:port on other ports", () => {
    const entries = parseKnownHosts(text());
    expect(lookupHostKeys(entries, "gpu1", 22).map((k) => k.lineNumber)).toEqual([1]);
    expect(lookupHostKeys(entries, "10.0.0.1", 22)[0]!.fingerprint).toBe(a.fingerprint);
    const onPort = lookupHostKeys(entries, "gpu1", 2222);
    expect(onPort.map((k) => [k.lineNumber, k.revoked])).toEqual([
      [2, false],
      [4, true],
    ]);
    expect(onPort[0]!.key.equals(b.raw)).toBe(true);
    expect(lookupHostKeys(entries, "gpu1", 2200)).toEqual([]);
    expect(lookupHostKeys(entries, "GPU1", 22)).toHaveLength(1);
  });

  it("applies wildcards and negation, and leaves @cert-authority lines out", () => {
    const entries = parseKnownHosts(text());
    expect(lookupHostKeys(entries, "n7.cluster.local", 22).map((k) => k.fingerprint)).toEqual([
      c.fingerprint,
    ]);
    expect(lookupHostKeys(entries, "bad.cluster.local", 22)).toEqual([]);
    expect(lookupHostKeys(entries, "10.0.0.5", 2200).map((k) => k.lineNumber)).toEqual([6]);
    expect(lookupHostKeys(entries, "somewhere", 22)).toEqual([]);
  });

  it("matches hashed entries made exactly as OpenSSH makes them", () => {
    const entries = parseKnownHosts(
      [
        line(opensshHash("gpu1"), a),
        line(opensshHash("[gpu1]:2222"), b),
        line(opensshHash("[10.1.2.3]:22"), c),
      ].join("\n"),
    );
    expect(lookupHostKeys(entries, "gpu1", 22).map((k) => k.fingerprint)).toEqual([a.fingerprint]);
    expect(lookupHostKeys(entries, "gpu1", 2222).map((k) => k.fingerprint)).toEqual([b.fingerprint]);
    expect(lookupHostKeys(entries, "Gpu1", 22)).toHaveLength(1);
    expect(lookupHostKeys(entries, "gpu2", 22)).toEqual([]);
    // OpenSSH never writes [host]:22; such a line does not match port 22.
    expect(lookupHostKeys(entries, "10.1.2.3", 22)).toEqual([]);
  });

  it("still finds hosts after `ssh-keygen -H` hashed a real known_hosts file", () => {
    const dir = tempTree();
    const file = path.join(dir, "known_hosts");
    writeFileSync(file, `${line("gpu1.example.com,10.9.8.7", a)}\n${line("[127.0.100.2]:2222", b)}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const hashedText = readFileSync(file, "utf8");
    expect(hashedText).not.toContain("gpu1");
    expect(hashedText).not.toContain("127.0.100.2");
    const entries = parseKnownHosts(hashedText);
    // ssh-keygen -H writes one hashed line per host name.
    expect(entries).toHaveLength(3);
    expect(entries.every((e) => e.hosts.kind === "hashed")).toBe(true);
    expect(lookupHostKeys(entries, "gpu1.example.com", 22)[0]!.fingerprint).toBe(a.fingerprint);
    expect(lookupHostKeys(entries, "10.9.8.7", 22)[0]!.fingerprint).toBe(a.fingerprint);
    expect(lookupHostKeys(entries, "127.0.100.2", 2222)[0]!.fingerprint).toBe(b.fingerprint);
    expect(lookupHostKeys(entries, "127.0.100.2", 22)).toEqual([]);
    expect(verifyHostKey(entries, "127.0.100.2", 2222, b.raw)).toEqual({ status: "known" });
    expect(verifyHostKey(entries, "127.0.100.2", 2222, a.raw)).toMatchObject({ status: "changed" });
  });
});

describe("verifyHostKey", () => {
  it("says known, unknown, changed or revoked", () => {
    const entries = parseKnownHosts(
      [
        line("gpu1", a),
        `gpu1 ${ecdsa.keyType} ${ecdsa.base64}`,
        line("gpu2", b),
        `@revoked gpu2,gpu3 ${c.keyType} ${c.base64}`,
        line("gpu3", c),
      ].join("\n"),
    );
    expect(verifyHostKey(entries, "gpu1", 22, a.raw)).toEqual({ status: "known" });
    expect(verifyHostKey(entries, "gpu1", 22, ecdsa.raw)).toEqual({ status: "known" });
    expect(verifyHostKey(entries, "new-host", 22, a.raw)).toEqual({ status: "unknown" });
    expect(verifyHostKey(entries, "gpu1", 22, b.raw)).toEqual({
      status: "changed",
      expected: [a.fingerprint, ecdsa.fingerprint],
      presented: b.fingerprint,
    });
    expect(verifyHostKey(entries, "gpu2", 22, c.raw)).toEqual({
      status: "revoked",
      presented: c.fingerprint,
    });
    // revoked wins over the same key listed as trusted
    expect(verifyHostKey(entries, "gpu3", 22, c.raw)).toEqual({
      status: "revoked",
      presented: c.fingerprint,
    });
    // a @revoked line only applies to the hosts it names
    expect(verifyHostKey(entries, "gpu4", 22, c.raw)).toEqual({ status: "unknown" });
  });

  it("treats a host with only revoked keys as unknown for another key", () => {
    const entries = parseKnownHosts(`@revoked gpu9 ${a.keyType} ${a.base64}`);
    expect(verifyHostKey(entries, "gpu9", 22, b.raw)).toEqual({ status: "unknown" });
    expect(verifyHostKey(entries, "gpu9", 22, a.raw).status).toBe("revoked");
  });

  it("ignores @cert-authority lines for plain host keys", () => {
    const entries = parseKnownHosts(`@cert-authority gpu1 ${a.keyType} ${a.base64}`);
    expect(verifyHostKey(entries, "gpu1", 22, a.raw)).toEqual({ status: "unknown" });
  });
});

describe("formatKnownHostsLine", () => {
  it("writes plain lines that parse back and that ssh-keygen -F finds", () => {
    const dir = tempTree();
    const file = path.join(dir, "known_hosts");
    const plain = formatKnownHostsLine("Gpu1.Example.com", 22, a.keyType, a.raw, {
      comment: "added\nby test",
    });
    expect(plain).toBe(`gpu1.example.com ${a.keyType} ${a.base64} added by test`);
    const ported = formatKnownHostsLine("127.0.100.3", 2222, b.keyType, b.raw);
    expect(ported).toBe(`[127.0.100.3]:2222 ${b.keyType} ${b.base64}`);
    writeFileSync(file, `${plain}\n${ported}\n`);
    const found = spawnSync("ssh-keygen", ["-F", "[127.0.100.3]:2222", "-f", file], { encoding: "utf8" });
    expect(found.status).toBe(0);
    expect(found.stdout).toContain(b.base64);
  });

  it("writes hashed lines exactly as OpenSSH does, which ssh-keygen -F finds", () => {
    const salt = randomBytes(20);
    const hashed = formatKnownHostsLine("127.0.100.4", 2222, a.keyType, a.raw, { hashed: true, salt });
    expect(hashed).toBe(`${opensshHash("[127.0.100.4]:2222", salt)} ${a.keyType} ${a.base64}`);
    const random = formatKnownHostsLine("gpu1", 22, a.keyType, a.raw, { hashed: true });
    expect(random).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 /);
    const dir = tempTree();
    const file = path.join(dir, "known_hosts");
    writeFileSync(file, `${hashed}\n${random}\n`);
    for (const name of ["[127.0.100.4]:2222", "gpu1"]) {
      const found = spawnSync("ssh-keygen", ["-F", name, "-f", file], { encoding: "utf8" });
      expect(found.status, name).toBe(0);
    }
    expect(spawnSync("ssh-keygen", ["-F", "127.0.100.4", "-f", file]).status).not.toBe(0);
    const entries = parseKnownHosts(`${hashed}\n${random}`);
    expect(verifyHostKey(entries, "127.0.100.4", 2222, a.raw)).toEqual({ status: "known" });
    expect(verifyHostKey(entries, "GPU1", 22, a.raw)).toEqual({ status: "known" });
  });

  it("refuses bad hosts, ports, salts and a key type that does not match the key", () => {
    expect(thrown(() => formatKnownHostsLine("a b", 22, a.keyType, a.raw)).code).toBe("INVALID_ARGS");
    expect(thrown(() => formatKnownHostsLine("a,b", 22, a.keyType, a.raw)).code).toBe("INVALID_ARGS");
    expect(thrown(() => formatKnownHostsLine("!a", 22, a.keyType, a.raw)).code).toBe("INVALID_ARGS");
    expect(thrown(() => formatKnownHostsLine("a", 0, a.keyType, a.raw)).message).toContain("not a port");
    expect(thrown(() => formatKnownHostsLine("a", 22, "ssh-rsa", a.raw)).message).toContain("does not match");
    expect(
      thrown(() => formatKnownHostsLine("a", 22, a.keyType, a.raw, { hashed: true, salt: randomBytes(8) }))
        .message,
    ).toContain("20 bytes");
  });
});

describe("appendKnownHost", () => {
  it("creates the directory 0700 and the file 0600, and appends a newline-terminated line", async () => {
    const dir = tempTree();
    const file = path.join(dir, "new", "ssh", "known_hosts");
    await appendKnownHost(file, formatKnownHostsLine("gpu1", 22, a.keyType, a.raw));
    await appendKnownHost(file, `${formatKnownHostsLine("gpu2", 2222, b.keyType, b.raw)}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, "new")).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, "utf8")).toBe(
      `gpu1 ${a.keyType} ${a.base64}\n[gpu2]:2222 ${b.keyType} ${b.base64}\n`,
    );
  });

  it("never rewrites existing lines and keeps an existing file's mode", async () => {
    const dir = tempTree();
    const file = path.join(dir, "known_hosts");
    const before = `# mine\n${line("old", a)}  trailing comment`; // no final newline
    writeFileSync(file, before, { mode: 0o644 });
    await appendKnownHost(file, formatKnownHostsLine("gpu3", 22, c.keyType, c.raw));
    const after = readFileSync(file, "utf8");
    expect(after.startsWith(before)).toBe(true);
    expect(after).toBe(`${before}\n${line("gpu3", c)}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(parseKnownHosts(after).map((e) => e.hostField)).toEqual(["old", "gpu3"]);
  });

  it("keeps every line whole when many appends race", async () => {
    const dir = tempTree();
    const file = path.join(dir, "known_hosts");
    const lines = Array.from({ length: 40 }, (_, i) => formatKnownHostsLine(`n${i}`, 2222, a.keyType, a.raw));
    await Promise.all(lines.map((l) => appendKnownHost(file, l)));
    const written = readFileSync(file, "utf8").split("\n");
    expect(written.pop()).toBe("");
    expect([...written].sort()).toEqual([...lines].sort());
  });

  it("refuses text that is not exactly one known_hosts entry", async () => {
    const file = path.join(tempTree(), "known_hosts");
    expect((await rejection(appendKnownHost(file, `${line("a", a)}\n${line("b", b)}`))).message).toContain(
      "single line",
    );
    expect((await rejection(appendKnownHost(file, "# comment"))).message).toContain(
      "not a known_hosts entry",
    );
    expect((await rejection(appendKnownHost(file, "host ssh-ed25519 !!!"))).message).toContain("base64");
  });

  it("names the file when it cannot write", async () => {
    const dir = tempTree({ blocker: "a file where a directory should be" });
    const file = path.join(dir, "blocker", "known_hosts");
    const error = await rejection(appendKnownHost(file, line("gpu1", a)));
    expect(error.code).toBe("INVALID_FILE");
    expect(error.message).toContain(file);
  });
});
