import { describe, expect, it } from "vitest";
import * as shared from "../../../shared/index.js";
import {
  emptyNodesFile,
  NODE_NAME_PATTERN,
  nodeSchema,
  nodesFileSchema,
  proxyJumpHops,
} from "../../../shared/schemas/nodes.js";

const minimal = { name: "gpu1", host: "10.0.0.1" };

function firstIssue(result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) {
  expect(result.success).toBe(false);
  return result.error!.issues[0]!;
}

describe("node schema", () => {
  it("fills the defaults", () => {
    expect(nodeSchema.parse(minimal)).toEqual({
      name: "gpu1",
      host: "10.0.0.1",
      port: 22,
      user: "root",
      labels: {},
      dockerSocket: "/var/run/docker.sock",
      workDir: "~/madengine",
    });
  });

  it("keeps every optional field", () => {
    const full = {
      name: "gpu-1.lab_a",
      host: "gpu1.example.com",
      port: 2222,
      user: "ops",
      identityFile: "~/.ssh/id_ed25519",
      identityPassphraseEnv: "GPU1_KEY_PASSPHRASE",
      proxyJump: "jump@bastion:2200,gpu0",
      labels: { gpu: "MI300X", rack: "r3" },
      dockerSocket: "/run/user/1000/docker.sock",
      workDir: "/scratch/madengine",
      knownHostsFile: "/etc/madengine/known_hosts",
    };
    expect(nodeSchema.parse(full)).toEqual(full);
  });

  it("rejects bad names, hosts, ports and users", () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ name: "gpu 1" }, "name", /letters, digits/],
      [{ name: "gpu/1" }, "name", /letters, digits/],
      [{ name: "" }, "name", /non-empty/],
      [{ host: "" }, "host", /non-empty/],
      [{ host: "a b" }, "host", /without spaces/],
      [{ host: "root@a" }, "host", /user@/],
      [{ port: 0 }, "port", /1 to 65535/],
      [{ port: 65536 }, "port", /1 to 65535/],
      [{ port: 22.5 }, "port", /whole/],
      [{ port: "22" }, "port", /.+/],
      [{ user: "a b" }, "user", /without spaces/],
      [{ dockerSocket: "var/run/docker.sock" }, "dockerSocket", /absolute path/],
      [{ workDir: "" }, "workDir", /non-empty/],
      [{ labels: { "": "x" } }, "labels", /non-empty label keys/],
      [{ labels: { "a=b": "x" } }, "labels", /without spaces, '='/],
      [{ labels: { gpu: 1 } }, "labels", /.+/],
    ];
    for (const [patch, field, message] of cases) {
      const issue = firstIssue(nodeSchema.safeParse({ ...minimal, ...patch }));
      expect(issue.path[0], JSON.stringify(patch)).toBe(field);
      expect(issue.message, JSON.stringify(patch)).toMatch(message);
    }
  });

  it("stores only the name of the passphrase variable", () => {
    expect(nodeSchema.safeParse({ ...minimal, identityPassphraseEnv: "KEY_PASS" }).success).toBe(true);
    const issue = firstIssue(nodeSchema.safeParse({ ...minimal, identityPassphraseEnv: "my secret phrase" }));
    expect(issue.message).toContain("never the passphrase itself");
  });

  it("rejects unknown keys, catching typos", () => {
    const result = nodeSchema.safeParse({ ...minimal, identityfile: "~/.ssh/id" });
    expect(firstIssue(result).message).toMatch(/identityfile/i);
  });

  it("accepts OpenSSH ProxyJump forms and node names, and rejects others", () => {
    for (const jump of [
      "bastion",
      "jump@bastion",
      "jump@bastion:2222",
      "bastion:22",
      "10.0.0.1",
      "[fe80::1]:2222",
      "user@[::1]:22",
      "ssh://jump@bastion:2222",
      "a,b , c@d:1",
    ]) {
      expect(nodeSchema.safeParse({ ...minimal, proxyJump: jump }).success, jump).toBe(true);
    }
    for (const jump of ["", "a b", "a,,b", "host:99999", "host:0", "@host", "a@b@c", "host:port"]) {
      expect(nodeSchema.safeParse({ ...minimal, proxyJump: jump }).success, jump).toBe(false);
    }
    expect(proxyJumpHops("a, b,c")).toEqual(["a", "b", "c"]);
  });

  it("exposes the name pattern", () => {
    expect(NODE_NAME_PATTERN.test("node-1.a_b")).toBe(true);
    expect(NODE_NAME_PATTERN.test("node:1")).toBe(false);
  });
});

describe("nodes file schema", () => {
  it("parses an empty file and fills defaults", () => {
    expect(nodesFileSchema.parse(emptyNodesFile())).toEqual({ version: 1, nodes: [] });
    expect(nodesFileSchema.parse({ version: 1 })).toEqual({ version: 1, nodes: [] });
    expect(nodesFileSchema.parse({ version: 1, nodes: [minimal] }).nodes[0]!.port).toBe(22);
  });

  it("requires version 1 and no unknown keys", () => {
    expect(firstIssue(nodesFileSchema.safeParse({ version: 2, nodes: [] })).path).toEqual(["version"]);
    expect(firstIssue(nodesFileSchema.safeParse({ nodes: [] })).path).toEqual(["version"]);
    expect(nodesFileSchema.safeParse({ version: 1, nodes: [], extra: true }).success).toBe(false);
  });

  it("names a duplicate node name and where it first appears", () => {
    const issue = firstIssue(
      nodesFileSchema.safeParse({ version: 1, nodes: [minimal, { ...minimal, name: "b" }, minimal] }),
    );
    expect(issue.path).toEqual(["nodes", 2, "name"]);
    expect(issue.message).toBe(
      'node name "gpu1" is used twice (also nodes[0].name); node names must be unique',
    );
  });

  it("refuses ProxyJump chains that loop through node names", () => {
    const loop = nodesFileSchema.safeParse({
      version: 1,
      nodes: [
        { name: "a", host: "a", proxyJump: "b" },
        { name: "b", host: "b", proxyJump: "jump@x,c" },
        { name: "c", host: "c", proxyJump: "a" },
        { name: "d", host: "d", proxyJump: "a" },
      ],
    });
    const issues = loop.error!.issues;
    expect(issues.map((i) => i.path)).toEqual([
      ["nodes", 0, "proxyJump"],
      ["nodes", 1, "proxyJump"],
      ["nodes", 2, "proxyJump"],
    ]);
    expect(issues[0]!.message).toBe('the ProxyJump chain of node "a" loops back to it (a -> b -> c -> a)');
    const self = firstIssue(
      nodesFileSchema.safeParse({ version: 1, nodes: [{ name: "a", host: "a", proxyJump: "a" }] }),
    );
    expect(self.message).toContain("(a -> a)");
    // a chain through other nodes that ends is fine
    expect(
      nodesFileSchema.safeParse({
        version: 1,
        nodes: [
          { name: "bastion", host: "b" },
          { name: "gpu", host: "g", proxyJump: "bastion,other.host" },
        ],
      }).success,
    ).toBe(true);
  });

  it("is exported from the shared index", () => {
    expect(shared.nodesFileSchema).toBe(nodesFileSchema);
    expect(shared.emptyNodesFile()).toEqual({ version: 1, nodes: [] });
  });
});
