import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import type { NodeConnection } from "../../../src-main/engine/remote/connection.js";
import { remoteDockerEndpoint } from "../../../src-main/engine/remote/remoteDocker.js";

/** A stand-in connection with a large object graph behind it, as a live ssh2 client has. */
function fakeConnection(name: string): NodeConnection {
  const heavy = Array.from({ length: 2000 }, (_, i) => ({
    i,
    buffer: Buffer.alloc(64),
    nested: { deep: [i] },
  }));
  return {
    target: { name, user: "root", host: "10.0.0.1", port: 22 },
    heavy,
    onClose: () => () => {},
  } as unknown as NodeConnection;
}

describe("remoteDockerEndpoint", () => {
  it("is one endpoint per connection and socket", () => {
    const connection = fakeConnection("node1");
    const first = remoteDockerEndpoint(connection, "/var/run/docker.sock");
    expect(remoteDockerEndpoint(connection, "/var/run/docker.sock")).toBe(first);
    expect(remoteDockerEndpoint(connection, "/other.sock")).not.toBe(first);
    expect(remoteDockerEndpoint(fakeConnection("node1"), "/var/run/docker.sock")).not.toBe(first);
  });

  it("keeps its agent cheap to format (docker-modem inspects every request's options, agent included)", () => {
    const endpoint = remoteDockerEndpoint(fakeConnection("node2"), "/var/run/docker.sock");
    const agent = (endpoint.docker as unknown as { modem: { agent: unknown } }).modem.agent;
    const text = inspect({ method: "GET", path: "/_ping", agent }, { showHidden: true, depth: null });
    expect(text).toContain("DockerSocketAgent(node2:/var/run/docker.sock)");
    expect(text.length).toBeLessThan(500);
  });
});
