import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  hostPatternsMatch,
  nodesFromSshConfig,
  parseSshConfig,
  resolveSshHost,
  sshConfigDefinesHost,
  sshConfigHosts,
} from "../../../src-main/engine/remote/inventory/sshConfig.js";
import { rejection, thrown } from "../../helpers/errors.js";
import { tempTree } from "../../helpers/tempDir.js";

const HOME = "/home/alice";
const opts = { homeDir: HOME, localUser: "alice", sshDir: "/nonexistent/.ssh" };
const parse = (text: string, extra: Parameters<typeof parseSshConfig>[1] = {}) =>
  parseSshConfig(text, { ...opts, file: "config", ...extra });
const resolve = (text: string, alias: string) => resolveSshHost(parse(text), alias, opts);

describe("parseSshConfig syntax", () => {
  it("reads Key value and Key=value forms, any keyword case, quotes and comments", () => {
    const text = [
      "# leading comment",
      "Host gpu1   # trailing comment",
      "  HOSTNAME=10.0.0.1",
      "\tport = 2222",
      '  User "ad min"',
      '  IdentityFile "~/.ssh/my key"',
      "  identityfile ~/.ssh/second\\ key",
      "  ProxyJump  jump@bastion:22 #comment",
      "  UserKnownHostsFile ~/kh1 ~/kh2",
      "  IdentitiesOnly yes",
      "",
    ].join("\r\n");
    const resolved = resolve(text, "gpu1");
    expect(resolved).toEqual({
      alias: "gpu1",
      host: "10.0.0.1",
      port: 2222,
      user: "ad min",
      identityFile: `${HOME}/.ssh/my key`,
      identityFiles: [`${HOME}/.ssh/my key`, `${HOME}/.ssh/second key`],
      proxyJump: "jump@bastion:22",
      knownHostsFile: `${HOME}/kh1`,
      identitiesOnly: true,
      unsupported: [],
    });
  });

  it("defaults to the alias as host and port 22 when nothing matches", () => {
    expect(resolve("Host other\n  Port 1\n", "gpu1")).toEqual({
      alias: "gpu1",
      host: "gpu1",
      port: 22,
      identityFiles: [],
      unsupported: [],
    });
  });

  it("handles escaped quotes like OpenSSH's argv_split", () => {
    const resolved = resolve('Host h\n  User a\\"b\n  IdentityFile "/k/x \\"y\\""\n', "h");
    expect(resolved.user).toBe('a"b');
    expect(resolved.identityFile).toBe('/k/x "y"');
  });

  it("names the file and line of malformed input", () => {
    const quote = thrown(() => parse('Host h\n  User "unterminated\n'));
    expect(quote.message).toBe("config:2: unterminated quote");
    expect(quote.hint).toContain("line 2");
    expect(thrown(() => parse("Host\n")).message).toContain("config:1: Host needs at least one pattern");
    expect(thrown(() => parse("Host h\n  Port\n")).message).toContain("config:2: Port needs a value");
    expect(thrown(() => parse("Host h\n  =value\n")).message).toContain("config:2: cannot read line");
  });

  it("rejects a bad Port or yes/no value at resolve time, naming the line", () => {
    expect(thrown(() => resolve("Host h\n  Port 70000\n", "h")).message).toBe(
      'config:2: Port must be a number from 1 to 65535, found "70000"',
    );
    expect(thrown(() => resolve("Host h\n  Port 22x\n", "h")).message).toContain("config:2");
    expect(thrown(() => resolve("Host h\n  IdentitiesOnly maybe\n", "h")).message).toContain("yes or no");
    expect(resolve("Host h\n  IdentitiesOnly no\n", "h").identitiesOnly).toBe(false);
  });
});

describe("Host matching and first-obtained value", () => {
  const text = [
    "Host bastion",
    "  HostName 192.0.2.1",
    "  User jump",
    "Host gpu-* !gpu-bad",
    "  HostName %h.cluster.local",
    "  ProxyJump bastion",
    "Host gpu-1",
    "  Port 2201",
    "  HostName ignored-because-set-above",
    "Host * !bastion",
    "  User root",
    "  Port 22",
    "Host *",
    "  IdentityFile ~/.ssh/id_%h_%r",
    "  User nobody",
  ].join("\n");

  it("takes the first value obtained, so specific blocks must come before Host *", () => {
    expect(resolve(text, "gpu-1")).toMatchObject({
      host: "gpu-1.cluster.local",
      port: 2201,
      user: "root",
      proxyJump: "bastion",
      identityFile: `${HOME}/.ssh/id_gpu-1.cluster.local_root`,
    });
    expect(resolve(text, "bastion")).toMatchObject({
      host: "192.0.2.1",
      port: 22,
      user: "jump",
      identityFile: `${HOME}/.ssh/id_192.0.2.1_jump`,
    });
    expect(resolve(text, "gpu-bad")).toMatchObject({ host: "gpu-bad", user: "root" });
    expect(resolve(text, "gpu-bad").proxyJump).toBeUndefined();
  });

  it("lets an early Host * win over later specific blocks, as OpenSSH does", () => {
    const early = "Host *\n  User everyone\nHost gpu1\n  User specific\n  HostName 10.0.0.1\n";
    expect(resolve(early, "gpu1")).toMatchObject({ user: "everyone", host: "10.0.0.1" });
  });

  it("applies top-level settings before the first Host to every host", () => {
    expect(resolve("User top\nHost gpu1\n  User later\n", "gpu1").user).toBe("top");
  });

  it("matches patterns case-sensitively (as OpenSSH does) with negation", () => {
    expect(hostPatternsMatch("GPU-7", ["gpu-*"])).toBe(false);
    expect(hostPatternsMatch("GPU-7", ["GPU-*"])).toBe(true);
    expect(hostPatternsMatch("gpu-7", ["gpu-*", "!gpu-7"])).toBe(false);
    expect(hostPatternsMatch("gpu-7", ["!gpu-8"])).toBe(false);
    expect(hostPatternsMatch("a", ["b", "?"])).toBe(true);
  });

  it("lists concrete aliases only, skipping wildcards, negations and unreachable ones", () => {
    const config = parse(`${text}\nHost gpu-2 gpu-2 db?\nHost nope !nope\n`);
    expect(sshConfigHosts(config)).toEqual(["bastion", "gpu-1", "gpu-2"]);
    expect(sshConfigDefinesHost(config, "gpu-99")).toBe(true);
    expect(sshConfigDefinesHost(config, "elsewhere")).toBe(false);
  });

  it("expands %-tokens and ~ in IdentityFile and UserKnownHostsFile", () => {
    const resolved = resolve(
      "Host n\n  HostName real\n  User bob\n  Port 2200\n  IdentityFile %d/keys/%u-%r@%h:%p-%n-100%%\n  UserKnownHostsFile ~/.ssh/kh_%h\n",
      "n",
    );
    expect(resolved.identityFile).toBe(`${HOME}/keys/alice-bob@real:2200-n-100%`);
    expect(resolved.knownHostsFile).toBe(`${HOME}/.ssh/kh_real`);
    expect(thrown(() => resolve("Host n\n  IdentityFile ~/id_%Z\n", "n")).message).toContain(
      "config:2: unsupported token %Z",
    );
  });

  it("treats none values as unset and reports options we cannot honour", () => {
    const resolved = resolve(
      "Host n\n  ProxyJump none\n  IdentityFile none\n  UserKnownHostsFile none\n  ProxyCommand nc %h %p\n  HostKeyAlias other\n",
      "n",
    );
    expect(resolved.proxyJump).toBeUndefined();
    expect(resolved.identityFiles).toEqual([]);
    expect(resolved.knownHostsFile).toBeUndefined();
    expect(resolved.unsupported).toEqual(["proxycommand", "hostkeyalias"]);
  });

  it("does not evaluate Match blocks (with a warning) but honours Match all", () => {
    const config = parse(
      "Host a\n  Port 1\nMatch host a exec true\n  User matched\nMatch all\n  User everyone\n",
    );
    expect(config.warnings).toEqual(["config:3: Match blocks are not evaluated; their settings are ignored"]);
    expect(resolveSshHost(config, "a", opts)).toMatchObject({ port: 1, user: "everyone" });
  });
});

describe("Include", () => {
  it("resolves relative paths against the ssh directory, globbing the last segment in sorted order", () => {
    const sshDir = tempTree({
      "conf.d/20-gpu": "Host gpu2\n  HostName 10.0.0.2\n",
      "conf.d/10-gpu": "Host gpu1\n  HostName 10.0.0.1\n  User first\n",
      "conf.d/.hidden": "Host hidden\n",
      "conf.d/other.txt": "Host other\n",
      "extra.conf": "Host extra\n  Port 2200\n",
    });
    const config = parse("Include conf.d/*-gpu extra.conf missing.conf\nHost gpu1\n  User later\n", {
      sshDir,
    });
    expect(sshConfigHosts(config)).toEqual(["gpu1", "gpu2", "extra"]);
    expect(resolveSshHost(config, "gpu1", opts)).toMatchObject({ host: "10.0.0.1", user: "first" });
    expect(resolveSshHost(config, "extra", opts).port).toBe(2200);
  });

  it("expands ~ in Include paths and reads absolute ones", () => {
    const home = tempTree({ ".ssh/inc": "Host viahome\n  Port 2\n" });
    const abs = tempTree({ inc: "Host viaabs\n  Port 3\n" });
    const config = parseSshConfig(`Include ~/.ssh/inc ${abs}/inc\n`, { homeDir: home, localUser: "u" });
    expect(sshConfigHosts(config)).toEqual(["viahome", "viaabs"]);
    expect(resolveSshHost(config, "viaabs", { homeDir: home }).port).toBe(3);
  });

  it("makes an Include inside a Host block conditional on that block", () => {
    const sshDir = tempTree({
      inner: "User from-inner\nHost also\n  Port 2300\n",
    });
    const config = parse("Host gpu1\n  Include inner\nHost also\n  Port 2400\n", { sshDir });
    expect(resolveSshHost(config, "gpu1", opts).user).toBe("from-inner");
    // the included Host line never matches when the including block does not
    expect(resolveSshHost(config, "also", opts)).toMatchObject({ port: 2400 });
    expect(resolveSshHost(config, "also", opts).user).toBeUndefined();
    expect(sshConfigHosts(config)).toEqual(["gpu1", "also"]);
  });

  it("restores the including file's Host block after the include", () => {
    const sshDir = tempTree({ inner: "Host other\n  Port 9\n" });
    const config = parse("Host gpu1\n  Include inner\n  User still-gpu1\n", { sshDir });
    expect(resolveSshHost(config, "gpu1", opts).user).toBe("still-gpu1");
    expect(resolveSshHost(config, "other", opts).user).toBeUndefined();
  });

  it("stops an Include loop with an error naming the line", () => {
    const sshDir = tempTree({ self: "Include self\n" });
    const error = thrown(() => parse("Include self\n", { sshDir }));
    expect(error.message).toMatch(/self:1: Include nested more than 16 deep/);
  });

  it("names the included file in errors", () => {
    const sshDir = tempTree({ bad: "Host ok\n  User 'oops\n" });
    expect(thrown(() => parse("Include bad\n", { sshDir })).message).toBe(
      `${path.join(sshDir, "bad")}:2: unterminated quote`,
    );
  });
});

describe("agreement with `ssh -G`", () => {
  it("resolves hostname, port, user, identity file, ProxyJump and known_hosts like OpenSSH", () => {
    const dir = tempTree({
      "inc.conf": "Host gpu-inc\n  HostName 10.1.1.1\n  Port 2022\n",
    });
    const file = path.join(dir, "config");
    writeFileSync(
      file,
      [
        `Include ${dir}/inc.conf`,
        "Host gpu-a gpu-b",
        "  HostName %h.lab",
        "  IdentityFile /keys/gpu",
        "Host gpu-b",
        "  Port 2222",
        "  User bee",
        "  ProxyJump jump@bastion.lab:2200",
        "Host Caps",
        "  HostName MyHost.LAB",
        "Host bastion",
        "  HostName 192.0.2.9",
        "  UserKnownHostsFile /kh/bastion /kh/other",
        "Host * !bastion",
        "  User operator",
        "  UserKnownHostsFile /kh/all",
        "Host *",
        "  IdentityFile /keys/default",
        "  Port 22",
      ].join("\n"),
    );
    const config = parseSshConfig(readFileSync(file, "utf8"), { file, homeDir: HOME, localUser: "alice" });
    for (const alias of ["gpu-a", "gpu-b", "bastion", "gpu-inc", "unlisted", "GPU-A", "Caps", "caps"]) {
      const run = spawnSync("ssh", ["-G", "-F", file, alias], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const out = new Map<string, string[]>();
      for (const outLine of run.stdout.split("\n")) {
        const [key, ...rest] = outLine.split(" ");
        if (key) out.set(key, [...(out.get(key) ?? []), rest.join(" ")]);
      }
      const ours = resolveSshHost(config, alias, { homeDir: HOME, localUser: "alice" });
      expect(ours.host, alias).toBe(out.get("hostname")![0]);
      expect(String(ours.port), alias).toBe(out.get("port")![0]);
      if (ours.user !== undefined) expect(ours.user, alias).toBe(out.get("user")![0]);
      expect(ours.identityFiles, alias).toEqual(out.get("identityfile"));
      expect(ours.proxyJump, alias).toBe(out.get("proxyjump")?.[0]);
      expect(ours.knownHostsFile, alias).toBe(out.get("userknownhostsfile")![0]!.split(" ")[0]);
    }
  });
});

describe("nodesFromSshConfig", () => {
  const testbedStyle = (dir: string) =>
    [1, 2]
      .map(
        (i) =>
          `Host node${i}\n  HostName 127.0.100.${i}\n  Port 2222\n  User root\n  IdentityFile ${dir}/id\n  IdentitiesOnly yes\n  UserKnownHostsFile ${dir}/known_hosts\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n`,
      )
      .join("\n");

  it("turns the testbed's ssh_config into nodes with defaults filled", async () => {
    const dir = tempTree();
    const file = path.join(dir, "ssh_config");
    writeFileSync(file, `${testbedStyle(dir)}\nHost *\n  ServerAliveInterval 30\n`);
    const nodes = await nodesFromSshConfig(file, undefined, opts);
    expect(nodes).toEqual(
      [1, 2].map((i) => ({
        name: `node${i}`,
        host: `127.0.100.${i}`,
        port: 2222,
        user: "root",
        identityFile: `${dir}/id`,
        knownHostsFile: `${dir}/known_hosts`,
        labels: {},
        dockerSocket: "/var/run/docker.sock",
        workDir: "~/madengine",
      })),
    );
  });

  it("imports only the aliases asked for, including ones matched by a wildcard block", async () => {
    const dir = tempTree();
    const file = path.join(dir, "ssh_config");
    writeFileSync(file, `${testbedStyle(dir)}\nHost gpu-*\n  HostName %h.lab\n  ProxyJump node1\n`);
    const nodes = await nodesFromSshConfig(file, ["node2", "gpu-7"], opts);
    expect(nodes.map((n) => [n.name, n.host, n.user, n.proxyJump])).toEqual([
      ["node2", "127.0.100.2", "root", undefined],
      ["gpu-7", "gpu-7.lab", "alice", "node1"],
    ]);
  });

  it("refuses an alias no Host block (other than Host *) defines, suggesting near ones", async () => {
    const dir = tempTree();
    const file = path.join(dir, "ssh_config");
    writeFileSync(file, `${testbedStyle(dir)}\nHost *\n  User x\n`);
    const error = await rejection(nodesFromSshConfig(file, ["node3"], opts));
    expect(error.code).toBe("INVALID_ARGS");
    expect(error.message).toBe(`${file}: no Host entry matches "node3"`);
    expect(error.hint).toContain('"node1"');
  });

  it("refuses aliases that are not valid node names, and configs with no concrete hosts", async () => {
    const dir = tempTree();
    const file = path.join(dir, "ssh_config");
    writeFileSync(file, "Host bad:name\n  HostName x\n");
    expect((await rejection(nodesFromSshConfig(file, undefined, opts))).message).toContain(
      "not a valid node name",
    );
    writeFileSync(file, "Host *\n  User x\n");
    expect((await rejection(nodesFromSshConfig(file, undefined, opts))).message).toContain(
      "no concrete Host",
    );
  });

  it("reports a missing file as FILE_NOT_FOUND", async () => {
    const error = await rejection(nodesFromSshConfig(path.join(tempTree(), "none"), undefined, opts));
    expect(error.code).toBe("FILE_NOT_FOUND");
  });
});
