import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { CredentialsFile } from "../../../shared/schemas/credentials.js";
import type { LoadedCredentials } from "../../../src-main/engine/build/credentials.js";
import { probeRegistry, registryAuth, registryTarget } from "../../../src-main/engine/build/registry.js";

const IMAGE = "ci-dummy_dummy.ubuntu.amd";

function creds(entries: CredentialsFile): LoadedCredentials {
  return { entries, fromFile: true, secretValues: [] };
}

const NONE = creds({});

/** A loopback port nothing listens on: bind port 0, note the port, close it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const servers: http.Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** Starts an HTTP server on 127.0.0.1 only; returns its port and the paths it was asked for. */
async function loopbackServer(
  handler: http.RequestListener,
): Promise<{ port: number; requests: { method: string; url: string }[] }> {
  const requests: { method: string; url: string }[] = [];
  const server = http.createServer((request, response) => {
    requests.push({ method: request.method ?? "", url: request.url ?? "" });
    handler(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, requests };
}

describe("registryTarget (spec §4.6)", () => {
  // row 1 (no --registry): nothing is pushed, so registryTarget is never asked

  it.each(["docker.io", "dockerhub", "DockerHub", "DOCKER.IO", "Docker.Io", "index.docker.io"])(
    "makes the local name the tag of the dockerhub repository for %s",
    (registry) => {
      const target = registryTarget(IMAGE, registry, creds({ dockerhub: { repository: "myorg/mad" } }));
      expect(target).toEqual({ reference: `myorg/mad:${IMAGE}`, repository: "myorg/mad", tag: IMAGE });
    },
  );

  it.each(["docker.io", "dockerhub", "DOCKERHUB"])(
    "keeps the image unchanged for %s without a repository",
    (registry) => {
      expect(registryTarget(IMAGE, registry, NONE)).toEqual({
        reference: IMAGE,
        repository: IMAGE,
        tag: "latest",
      });
      expect(
        registryTarget(IMAGE, registry, creds({ dockerhub: { username: "u", password: "p" } })).reference,
      ).toBe(IMAGE);
    },
  );

  it("uses the dockerhub entry, not one keyed by the registry string, for Docker Hub", () => {
    const target = registryTarget(IMAGE, "docker.io", creds({ "docker.io": { repository: "wrong/repo" } }));
    expect(target.reference).toBe(IMAGE);
  });

  it("puts the repository under another registry: X/R:<image>", () => {
    const target = registryTarget(
      IMAGE,
      "localhost:5000",
      creds({ "localhost:5000": { repository: "mad" } }),
    );
    expect(target).toEqual({
      reference: `localhost:5000/mad:${IMAGE}`,
      repository: "localhost:5000/mad",
      tag: IMAGE,
    });
    expect(
      registryTarget(
        IMAGE,
        "registry.example.com",
        creds({ "registry.example.com": { repository: "org/mad" } }),
      ).reference,
    ).toBe(`registry.example.com/org/mad:${IMAGE}`);
  });

  it("prefixes the image with another registry without a repository: X/<image>", () => {
    expect(registryTarget(IMAGE, "127.0.0.1:5000", NONE)).toEqual({
      reference: `127.0.0.1:5000/${IMAGE}`,
      repository: `127.0.0.1:5000/${IMAGE}`,
      tag: "latest",
    });
    // the dockerhub repository does not leak into another registry
    expect(
      registryTarget(IMAGE, "127.0.0.1:5000", creds({ dockerhub: { repository: "myorg/mad" } })).reference,
    ).toBe(`127.0.0.1:5000/${IMAGE}`);
  });

  it("drops trailing slashes of the registry", () => {
    expect(registryTarget(IMAGE, "127.0.0.1:5000/", NONE).reference).toBe(`127.0.0.1:5000/${IMAGE}`);
    expect(registryTarget(IMAGE, "127.0.0.1:5000//", NONE).reference).toBe(`127.0.0.1:5000/${IMAGE}`);
  });

  it("ignores list-shaped credential entries", () => {
    const target = registryTarget(
      IMAGE,
      "localhost:5000",
      creds({ "localhost:5000": [{ repository: "mad" }] }),
    );
    expect(target.reference).toBe(`localhost:5000/${IMAGE}`);
  });
});

describe("registryAuth", () => {
  it("uses Docker Hub's index address for every Docker Hub spelling", () => {
    const entries = creds({ dockerhub: { username: "hubuser", password: "hubtoken" } });
    for (const registry of ["docker.io", "dockerhub", "DockerHub", "index.docker.io"]) {
      expect(registryAuth(registry, entries)).toEqual({
        serveraddress: "https://index.docker.io/v1/",
        username: "hubuser",
        password: "hubtoken",
      });
    }
  });

  it("uses the registry string for another registry", () => {
    const entries = creds({ "localhost:5000": { username: "u1", password: "p1", repository: "mad" } });
    expect(registryAuth("localhost:5000", entries)).toEqual({
      serveraddress: "localhost:5000",
      username: "u1",
      password: "p1",
    });
  });

  it("sends no user and no password when the entry lacks a password", () => {
    const auth = registryAuth(
      "docker.io",
      creds({ dockerhub: { username: "hubuser", repository: "myorg/mad" } }),
    );
    expect(auth).toEqual({ serveraddress: "https://index.docker.io/v1/" });
    expect(auth).not.toHaveProperty("password");
    expect(auth).not.toHaveProperty("username");
    expect(
      registryAuth("localhost:5000", creds({ "localhost:5000": { username: "u", password: "" } })),
    ).toEqual({
      serveraddress: "localhost:5000",
    });
  });

  it("sends nothing secret without an entry or for a list entry", () => {
    expect(registryAuth("localhost:5000", NONE)).toEqual({ serveraddress: "localhost:5000" });
    expect(registryAuth("dockerhub", NONE)).toEqual({ serveraddress: "https://index.docker.io/v1/" });
    expect(
      registryAuth("localhost:5000", creds({ "localhost:5000": [{ username: "u", password: "p" }] })),
    ).toEqual({ serveraddress: "localhost:5000" });
  });

  it("does not take another registry's password", () => {
    const entries = creds({ dockerhub: { username: "hubuser", password: "hubtoken" } });
    expect(registryAuth("127.0.0.1:5000", entries)).toEqual({ serveraddress: "127.0.0.1:5000" });
  });
});

describe("probeRegistry (loopback only)", () => {
  it("reports a refused connection quickly and names the registry", async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await probeRegistry(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain("refused");
      expect(result.reason).toContain(`127.0.0.1:${port}`);
    }
  });

  it("counts a 401 on /v2/ as reachable, over plain HTTP for loopback", async () => {
    const server = await loopbackServer((_request, response) => {
      response.writeHead(401, { "Docker-Distribution-API-Version": "registry/2.0" });
      response.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    });
    expect(await probeRegistry(`127.0.0.1:${server.port}`)).toEqual({ ok: true });
    expect(server.requests).toEqual([{ method: "GET", url: "/v2/" }]);
  });

  it("probes the host of a registry given with a namespace", async () => {
    const server = await loopbackServer((_request, response) => {
      response.writeHead(200);
      response.end("{}");
    });
    expect(await probeRegistry(`127.0.0.1:${server.port}/team/project`)).toEqual({ ok: true });
    expect(server.requests.map((request) => request.url)).toEqual(["/v2/"]);
  });

  it("gives up on a registry that never answers", async () => {
    const server = await loopbackServer(() => {
      // accept the request and never respond
    });
    const started = Date.now();
    const result = await probeRegistry(`127.0.0.1:${server.port}`, 200);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toEqual({
      ok: false,
      reason: `no answer from http://127.0.0.1:${server.port}/v2/ within 0.2 s`,
    });
  });

  it("does not probe Docker Hub at all", async () => {
    expect(await probeRegistry("docker.io")).toEqual({ ok: true });
    expect(await probeRegistry("DockerHub")).toEqual({ ok: true });
  });
});
