/**
 * The Nodes calls' arguments as the contract validates them: every bad input names the field at
 * fault; and the poll settings read from the environment.
 */
import { describe, expect, it } from "vitest";
import { validateCallArgs } from "../../../src-main/app/contractCalls.js";
import { pollSettingsFrom } from "../../../src-main/app/nodes/pollSettings.js";

function pathOf(name: Parameters<typeof validateCallArgs>[0], args: unknown): string | undefined {
  const checked = validateCallArgs(name, args);
  return checked.ok ? undefined : checked.error.path;
}

describe("nodes calls validation", () => {
  it("nodes.add names the node field at fault", () => {
    expect(pathOf("nodes.add", { node: { name: "gpu1", host: "10.0.0.1" } })).toBeUndefined();
    expect(pathOf("nodes.add", { node: { name: "gpu 1", host: "10.0.0.1" } })).toBe("node.name");
    expect(pathOf("nodes.add", { node: { name: "gpu1", host: "10.0.0.1", port: 0 } })).toBe("node.port");
    expect(pathOf("nodes.add", { node: { name: "gpu1", host: "a b" } })).toBe("node.host");
    expect(
      pathOf("nodes.add", { node: { name: "gpu1", host: "h", identityPassphraseEnv: "my secret" } }),
    ).toBe("node.identityPassphraseEnv");
    expect(pathOf("nodes.add", { node: { name: "gpu1", host: "h", dockerSocket: "docker.sock" } })).toBe(
      "node.dockerSocket",
    );
    expect(pathOf("nodes.add", { node: { name: "gpu1", host: "h", labels: { "a=b": "c" } } })).toBe(
      "node.labels",
    );
    expect(pathOf("nodes.add", { node: { name: "gpu1", host: "h", extra: 1 } })).toBe("node");
  });

  it("the message says what was expected, never the value", () => {
    const checked = validateCallArgs("nodes.add", {
      node: { name: "gpu1", host: "h", identityPassphraseEnv: "hunter2 is my password" },
    });
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.error.message).toMatch(/NAME of an environment variable/);
      expect(checked.error.message).not.toContain("hunter2");
    }
  });

  it("nodes.update, remove, hostKey and trust need a name; trust a SHA256 fingerprint", () => {
    expect(pathOf("nodes.update", { name: "", node: { name: "a", host: "h" } })).toBe("name");
    expect(pathOf("nodes.remove", {})).toBe("name");
    expect(pathOf("nodes.hostKey", { name: "" })).toBe("name");
    expect(pathOf("nodes.trust", { name: "a", fingerprint: "MD5:aa:bb" })).toBe("fingerprint");
    expect(
      pathOf("nodes.trust", { name: "a", fingerprint: "SHA256:pUAEfMraAnldt3iNiFxpEvtkNPJ6fxM605u7ifCq1io" }),
    ).toBeUndefined();
  });

  it("nodes.import: a source, its file, non-empty patterns and group", () => {
    expect(pathOf("nodes.import", { source: "ssh-config" })).toBeUndefined();
    expect(pathOf("nodes.import", { source: "ansible" })).toBe("file");
    expect(pathOf("nodes.import", { source: "ssh-config", hosts: [""] })).toBe("hosts[0]");
    expect(pathOf("nodes.import", { source: "ansible", file: "inv.ini", group: "" })).toBe("group");
    expect(pathOf("nodes.import", { source: "csv", file: "x" })).toBe("source");
  });

  it("nodes.watch bounds the lease", () => {
    expect(pathOf("nodes.watch", { watcher: "w" })).toBeUndefined();
    expect(pathOf("nodes.watch", { watcher: "w", leaseMs: 10 })).toBe("leaseMs");
    expect(pathOf("nodes.watch", { watcher: "w", leaseMs: 3_600_000 })).toBe("leaseMs");
    expect(pathOf("nodes.watch", { watcher: "" })).toBe("watcher");
    expect(pathOf("nodes.preflight", { names: [""] })).toBe("names[0]");
  });
});

describe("pollSettingsFrom", () => {
  it("has sane defaults and reads the environment", () => {
    expect(pollSettingsFrom({})).toEqual({
      intervalMs: 5000,
      probeTimeoutMs: 10_000,
      idleCloseMs: 15_000,
      defaultLeaseMs: 30_000,
    });
    expect(pollSettingsFrom({ MADENGINE_NODES_POLL_MS: "1000" }).intervalMs).toBe(1000);
  });

  it("refuses a value out of range, naming the variable", () => {
    expect(() => pollSettingsFrom({ MADENGINE_NODES_POLL_MS: "5s" })).toThrow(/MADENGINE_NODES_POLL_MS/);
    expect(() => pollSettingsFrom({ MADENGINE_NODES_PROBE_TIMEOUT_MS: "10" })).toThrow(/from 100/);
  });
});
