/**
 * Smoke tests of the local testbed (bash test/env/testbed-up.sh): the dockerd, the registry and the
 * ssh nodes answer the way the engine will use them. Each test fails, never skips, when the testbed is
 * not running.
 */
import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { Client, type ConnectConfig } from "ssh2";
import { beforeEach, describe, expect, it } from "vitest";
import {
  knownFingerprints,
  loadTestbed,
  sshFingerprint,
  type Testbed,
  type TestbedNode,
} from "../helpers/testbed.js";

const LABEL = "org.madengine.testbed.test";

let tb: Testbed;
let docker: Docker;
let knownHostsText: string;
let privateKey: Buffer;

// beforeEach, not beforeAll: without a testbed every test then FAILS with loadTestbed's message
// (a failing beforeAll would mark the tests skipped)
beforeEach(() => {
  tb = loadTestbed();
  docker = new Docker({ socketPath: tb.dockerSocket });
  knownHostsText = readFileSync(tb.knownHostsPath, "utf8");
  privateKey = readFileSync(tb.privateKeyPath);
});

// ---- docker helpers ---------------------------------------------------------------------------

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** create -> attach (before start, so no output is lost) -> demux -> start -> wait -> remove */
async function runInBaseImage(cmd: string[]): Promise<RunResult> {
  const container = await docker.createContainer({
    Image: tb.baseImage,
    Cmd: cmd,
    Labels: { [LABEL]: "testbed.test.ts" },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: { NetworkMode: "none" },
  });
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const out = new PassThrough().on("data", (chunk: Buffer) => stdout.push(chunk));
    const err = new PassThrough().on("data", (chunk: Buffer) => stderr.push(chunk));
    docker.modem.demuxStream(stream, out, err);
    const drained = new Promise<void>((resolve, reject) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", reject);
    });
    await container.start();
    const [result] = await Promise.all([container.wait() as Promise<{ StatusCode: number }>, drained]);
    return {
      code: result.StatusCode,
      stdout: Buffer.concat(stdout).toString("utf8"),
      stderr: Buffer.concat(stderr).toString("utf8"),
    };
  } finally {
    await container.remove({ force: true });
  }
}

interface ProgressEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

/** Pushes repo:tag and returns every progress event; followProgress itself never rejects on a failed push. */
async function pushEvents(repo: string, tag: string): Promise<ProgressEvent[]> {
  const stream = await docker.getImage(repo).push({ tag, authconfig: { serveraddress: repo.split("/")[0] } });
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, events: ProgressEvent[]) =>
      error ? reject(error) : resolve(events),
    );
  });
}

function pushFailure(events: ProgressEvent[]): string | undefined {
  const failed = events.find((event) => event.error !== undefined || event.errorDetail !== undefined);
  return failed && (failed.errorDetail?.message ?? failed.error ?? JSON.stringify(failed));
}

// ---- ssh helpers ------------------------------------------------------------------------------

/** Connects and resolves once authenticated; the 'error' listener stays for the client's whole life. */
function connect(
  node: TestbedNode,
  verify: Pick<ConnectConfig, "hostVerifier" | "hostHash">,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    client.on("error", (error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error);
    });
    client.once("ready", () => {
      settled = true;
      resolve(client);
    });
    client.connect({
      host: node.host,
      port: node.port,
      username: node.user,
      privateKey,
      readyTimeout: 10_000,
      ...verify,
    });
  });
}

function close(client: Client): Promise<void> {
  return new Promise((resolve) => {
    client.once("close", () => resolve());
    client.end();
  });
}

function exec(client: Client, command: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      const chunks: Buffer[] = [];
      let code: number | null = null;
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.stderr.resume();
      stream.on("exit", (exitCode: number | null) => {
        code = exitCode;
      });
      stream.on("close", () => resolve({ code, stdout: Buffer.concat(chunks).toString("utf8") }));
    });
  });
}

/** A synchronous verifier: accept the raw host key only if known_hosts lists its fingerprint for host:port. */
function knownHostsVerifier(host: string, port: number, seen: string[]): (key: Buffer) => boolean {
  const accepted = knownFingerprints(knownHostsText, host, port);
  return (key) => {
    const fingerprint = sshFingerprint(key);
    seen.push(fingerprint);
    return accepted.has(fingerprint);
  };
}

// ---- tests ------------------------------------------------------------------------------------

describe("testbed docker daemon", () => {
  it("answers a ping on its unix socket and has the base image", async () => {
    expect(String(await docker.ping())).toBe("OK");
    const images = await docker.listImages({ filters: JSON.stringify({ reference: [tb.baseImage] }) });
    expect(images.flatMap((image) => image.RepoTags ?? [])).toContain(tb.baseImage);
  });

  it("runs a base-image container without network and returns its output", async () => {
    const marker = `marker-${process.pid}-${Date.now()}`;
    const result = await runInBaseImage([
      "sh",
      "-c",
      `echo ${marker}; echo to-stderr >&2; ls /sys/class/net`,
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toBe(marker);
    expect(lines.slice(1)).toEqual(["lo"]); // NetworkMode none: loopback only
    expect(result.stderr).toBe("to-stderr\n");
  });
});

describe("testbed registry", () => {
  it("answers GET /v2/ with 200 on 127.0.0.1", async () => {
    expect(tb.registry).toMatch(/^127\.0\.0\.1:\d+$/);
    const response = await fetch(`http://${tb.registry}/v2/`);
    expect(response.status).toBe(200);
  });

  it("takes a push of the tagged base image and reports its digest in aux.Digest", async () => {
    const repo = `${tb.registry}/madengine-testbed/smoke`;
    const tag = `t${process.pid}-${Date.now()}`;
    await docker.getImage(tb.baseImage).tag({ repo, tag });
    try {
      const events = await pushEvents(repo, tag);
      expect(pushFailure(events)).toBeUndefined();
      const digest = events.find((event) => event.aux?.Digest)?.aux?.Digest;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const manifest = await fetch(`http://${tb.registry}/v2/madengine-testbed/smoke/manifests/${tag}`, {
        method: "HEAD",
        headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      expect(manifest.status).toBe(200);
      expect(manifest.headers.get("docker-content-digest")).toBe(digest);
    } finally {
      await docker.getImage(`${repo}:${tag}`).remove();
    }
  });

  it("reports a push to a dead registry in the progress events (followProgress does not reject)", async () => {
    const repo = "127.0.0.1:9/madengine-testbed/nowhere";
    const tag = `t${process.pid}-${Date.now()}`;
    await docker.getImage(tb.baseImage).tag({ repo, tag });
    try {
      const events = await pushEvents(repo, tag);
      expect(pushFailure(events)).toMatch(/refused|connect/i);
      expect(events.some((event) => event.aux?.Digest)).toBe(false);
    } finally {
      await docker.getImage(`${repo}:${tag}`).remove();
    }
  });
});

describe("testbed ssh nodes", () => {
  it("list the same host keys in known_hosts and testbed.json", () => {
    for (const node of tb.nodes) {
      expect([...knownFingerprints(knownHostsText, node.host, node.port)]).toEqual([node.hostKeyFingerprint]);
    }
  });

  it("each accept the client key, pass the known_hosts check and hand sessions DOCKER_HOST", async () => {
    await Promise.all(
      tb.nodes.map(async (node) => {
        const seen: string[] = [];
        const client = await connect(node, { hostVerifier: knownHostsVerifier(node.host, node.port, seen) });
        try {
          expect(seen).toEqual([node.hostKeyFingerprint]);
          const result = await exec(client, "echo $DOCKER_HOST");
          expect(result).toEqual({ code: 0, stdout: `${tb.dockerHost}\n` });
        } finally {
          await close(client);
        }
      }),
    );
  });

  it("present the host key whose sha256 hex testbed.json lists (hostHash sha256)", async () => {
    const node = tb.nodes[0]!;
    const client = await connect(node, {
      hostHash: "sha256",
      hostVerifier: (hex: string) => hex === node.hostKeySha256Hex,
    });
    await close(client);
  });

  it("are refused when the host key does not match what known_hosts expects", async () => {
    const [node, other] = tb.nodes;
    if (!node || !other) throw new Error("the testbed needs at least 2 nodes (TB_NODES)");
    const seen: string[] = [];
    // node's real key, checked against the entries known_hosts holds for another node
    const wrong = knownHostsVerifier(other.host, other.port, []);
    const verifier = (key: Buffer) => {
      seen.push(sshFingerprint(key));
      return wrong(key);
    };
    await expect(connect(node, { hostVerifier: verifier })).rejects.toMatchObject({ level: "handshake" });
    expect(seen).toEqual([node.hostKeyFingerprint]);
  });

  it("are refused by an asynchronous verifier that returns undefined and answers false", async () => {
    const node = tb.nodes[0]!;
    // an async verifier must return undefined: a returned timer would count as a synchronous "yes"
    const verifier = (_key: Buffer, verify: (valid: boolean) => void): void => {
      setImmediate(() => verify(false));
    };
    await expect(connect(node, { hostVerifier: verifier })).rejects.toMatchObject({ level: "handshake" });
  });
});
