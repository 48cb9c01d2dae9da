import { execFileSync, spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeConnection, NodeLostError } from "../../src-main/engine/remote/connection.js";
import { remoteDockerEndpoint } from "../../src-main/engine/remote/remoteDocker.js";
import { runCli } from "../helpers/cli.js";
import { testbedNodes, writeNodesFile } from "../helpers/nodes.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

let testbed: Testbed;
let dir: string;
let authorizedKeys: string;
let originalKeys: string;

beforeAll(() => {
  testbed = loadTestbed();
  dir = mkdtempSync(path.join(tmpdir(), "madengine-ssh-"));
  authorizedKeys = path.join(testbed.dir, "keys", "authorized_keys");
  originalKeys = readFileSync(authorizedKeys, "utf8");
});
afterAll(() => {
  writeFileSync(authorizedKeys, originalKeys);
  rmSync(dir, { recursive: true, force: true });
});

const check = (nodesFile: string, env: NodeJS.ProcessEnv = {}) =>
  runCli(["nodes", "check", "--nodes", nodesFile, "--json"], { cwd: dir, env });

function newKey(name: string, passphrase = ""): string {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-f", file]);
  appendFileSync(authorizedKeys, readFileSync(`${file}.pub`, "utf8"));
  return file;
}

/** An SSH connection of our own to the testbed's first node (its host key taken as it is). */
async function connectFirstNode() {
  const [node] = testbedNodes(testbed, { count: 1 });
  const connection = await NodeConnection.connect({
    name: node!.name,
    host: node!.host,
    port: node!.port,
    user: node!.user,
    identityFile: node!.identityFile,
    checkHostKey: () => ({ accept: true }),
  });
  return { node: node!, connection };
}

describe("SSH authentication and routes", () => {
  it("a passphrase-protected key: passphrase from the named environment variable; missing or wrong is a clear error", async () => {
    const key = newKey("locked", "correct horse battery");
    const [node] = testbedNodes(testbed, { count: 1 });
    const nodesFile = writeNodesFile(
      dir,
      [{ ...node, identityFile: key, identityPassphraseEnv: "MADENGINE_TEST_PASSPHRASE" }],
      "locked.json",
    );
    const ok = await check(nodesFile, { MADENGINE_TEST_PASSPHRASE: "correct horse battery" });
    expect(ok.code).toBe(0);
    const missing = await check(nodesFile, { MADENGINE_TEST_PASSPHRASE: undefined });
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain("the key passphrase variable MADENGINE_TEST_PASSPHRASE is not set");
    const wrong = await check(nodesFile, { MADENGINE_TEST_PASSPHRASE: "wrong" });
    expect(wrong.code).toBe(3);
    expect(JSON.parse(wrong.stdout).nodes[0].checks[0].ok).toBe(false);
    // the passphrase never lands in output
    expect(ok.stdout + missing.stdout + wrong.stdout).not.toContain("correct horse battery");
  });

  it("ssh-agent: a node without an identity file authenticates with the agent's key", async () => {
    const socket = path.join(dir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    try {
      for (let i = 0; i < 50 && spawnSync("test", ["-S", socket]).status !== 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      const added = spawnSync("ssh-add", [testbed.privateKeyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        encoding: "utf8",
      });
      expect(added.status, added.stderr).toBe(0);
      const [node] = testbedNodes(testbed, { count: 1 });
      const { identityFile: _none, ...withoutKey } = node!;
      const nodesFile = writeNodesFile(dir, [withoutKey], "agent.json");
      const ok = await check(nodesFile, { SSH_AUTH_SOCK: socket });
      expect(ok.code).toBe(0);
      const noAgent = await check(nodesFile, { SSH_AUTH_SOCK: undefined });
      expect(noAgent.code).toBe(3);
      expect(noAgent.stdout).toContain("authentication failed");
    } finally {
      agent.kill();
    }
  });

  it("ProxyJump: a node reached through another node (by name); a dead jump host is named", async () => {
    const [jump, target] = testbedNodes(testbed, { count: 2 });
    const nodesFile = writeNodesFile(dir, [jump!, { ...target!, proxyJump: jump!.name }], "jump.json");
    const result = await runCli(["nodes", "check", "--nodes", nodesFile, "--node", target!.name, "--json"], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    const deadJump = writeNodesFile(
      dir,
      [
        { ...jump!, host: "127.0.100.250" },
        { ...target!, proxyJump: jump!.name },
      ],
      "deadjump.json",
    );
    const dead = await runCli(["nodes", "check", "--nodes", deadJump, "--node", target!.name, "--json"], {
      cwd: dir,
    });
    expect(dead.code).toBe(3);
    expect(JSON.parse(dead.stdout).nodes[0].checks[0].detail).toContain(
      "node1: cannot connect to root@127.0.100.250:2222",
    );
  });

  it("a Docker socket asked for on a closed connection fails at once, naming the node (never waits)", async () => {
    const { node, connection } = await connectFirstNode();
    const socket = await connection.openUnixSocket(testbed.dockerSocket);
    socket.end();
    const closed = new Promise<string>((resolve) => connection.onClose(resolve));
    connection.close();
    await closed;
    const started = performance.now();
    const attempt = connection.openUnixSocket(testbed.dockerSocket);
    await expect(attempt).rejects.toBeInstanceOf(NodeLostError);
    await expect(attempt).rejects.toThrow(`${node.name}: connection to ${node.name} closed`);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("a Docker call on a node whose connection was lost fails at once, kept-alive channels included", async () => {
    const { connection } = await connectFirstNode();
    const { docker } = remoteDockerEndpoint(connection, testbed.dockerSocket);
    // two calls at once: the agent keeps both channels open for reuse
    await Promise.all([docker.ping(), docker.version()]);
    const closed = new Promise<string>((resolve) => connection.onClose(resolve));
    // the connection dies under the agent (as when the node's sshd is killed)
    (connection.client as unknown as { _sock: { destroy(): void } })._sock.destroy();
    await closed;
    const started = performance.now();
    await expect(docker.ping()).rejects.toThrow();
    await expect(docker.getContainer("none").remove({ force: true })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
