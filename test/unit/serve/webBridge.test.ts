import { symlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppService } from "../../../src-main/app/appService.js";
import type { CallResponse } from "../../../src-main/app/contractCalls.js";
import type { EventMessage, EventSink, EventSubscription } from "../../../src-main/app/eventHub.js";
import { MAX_BODY_BYTES, startWebBridge, type WebBridge } from "../../../src-main/serve/webBridge.js";
import { tempTree } from "../../helpers/tempDir.js";
import { connectEvents, postCall, request } from "./bridgeClient.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function rendererDir(): string {
  const root = tempTree({
    "renderer/index.html":
      "<!doctype html><title>madengine</title><script type=module src=/assets/app.js></script>",
    "renderer/assets/app.js": "console.log('app')",
    "renderer/assets/app.css": "body{}",
    "renderer/icon.svg": "<svg/>",
    "renderer/.env": "SECRET=1",
    "outside/secret.txt": "top secret",
  });
  symlinkSync(path.join(root, "outside", "secret.txt"), path.join(root, "renderer", "assets", "link.txt"));
  symlinkSync(path.join(root, "outside"), path.join(root, "renderer", "linkdir"));
  return path.join(root, "renderer");
}

async function startBridge(options: { staticDir?: string; env?: NodeJS.ProcessEnv } = {}) {
  const workspace = tempTree();
  const service = new AppService({
    workspaceDir: workspace,
    env: {
      PATH: process.env.PATH,
      DOCKER_HOST: `unix://${path.join(workspace, "none.sock")}`,
      ...options.env,
    },
  });
  const warnings: string[] = [];
  const bridge = await startWebBridge({
    service,
    staticDir: options.staticDir ?? rendererDir(),
    warn: (message) => warnings.push(message),
  });
  cleanups.push(async () => {
    await bridge.close();
    await service.close(5000);
  });
  return { bridge, service, warnings };
}

const auth = (bridge: WebBridge) => ({ authorization: `Bearer ${bridge.token}` });

describe("web bridge: binding", () => {
  it("binds to 127.0.0.1 on a random port and prints an address with the token", async () => {
    const { bridge } = await startBridge();
    expect(bridge.host).toBe("127.0.0.1");
    expect(bridge.port).toBeGreaterThan(0);
    expect(bridge.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}/?token=${bridge.token}`);
  });

  it("refuses an address other machines can reach unless allowed, and then warns", async () => {
    const service = new AppService({ workspaceDir: tempTree() });
    cleanups.push(() => service.close());
    await expect(startWebBridge({ service, host: "0.0.0.0" })).rejects.toMatchObject({
      code: "INVALID_ARGS",
      message: expect.stringContaining("refusing to serve on 0.0.0.0"),
      hint: expect.stringContaining("--allow-remote"),
    });
    const warnings: string[] = [];
    const bridge = await startWebBridge({
      service,
      host: "0.0.0.0",
      allowNonLoopback: true,
      staticDir: rendererDir(),
      warn: (message) => warnings.push(message),
    });
    cleanups.push(() => bridge.close());
    expect(warnings.join("\n")).toContain("reachable from other machines");
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}/?token=${bridge.token}`);
    // the remote mode accepts any Host name (still with the token)
    const page = await request(bridge.port, {
      headers: { host: `gpu-box.lab:${bridge.port}`, ...auth(bridge) },
    });
    expect(page.status).toBe(200);
    await expect(startWebBridge({ service, token: "short" })).rejects.toMatchObject({ code: "INVALID_ARGS" });
  });
});

describe("web bridge: access token", () => {
  it("answers 401 without the token or with a wrong one: JSON for the API, text otherwise", async () => {
    const { bridge } = await startBridge();
    const page = await request(bridge.port);
    expect(page.status).toBe(401);
    expect(page.headers["content-type"]).toMatch(/^text\/plain/);
    const wrongQuery = await request(bridge.port, { path: "/?token=not-the-token" });
    expect(wrongQuery.status).toBe(401);
    expect(wrongQuery.headers["set-cookie"]).toBeUndefined();
    const api = await postCall(bridge.port, undefined, "jobs.list", {});
    expect(api.status).toBe(401);
    expect(api.json).toMatchObject({ ok: false, error: { code: "UNAUTHORIZED" } });
    expect((await postCall(bridge.port, "x".repeat(43), "jobs.list", {})).status).toBe(401);
    // the query token is for page loads only, never for the API
    expect((await postCall(bridge.port, undefined, `jobs.list?token=${bridge.token}`, {})).status).toBe(401);
    const cookieOfAnotherBridge = await request(bridge.port, {
      headers: { cookie: `madengine_token_1=${bridge.token}` },
    });
    expect(cookieOfAnotherBridge.status).toBe(401);
  });

  it("trades ?token= for an HttpOnly SameSite=Strict cookie and drops it from the address", async () => {
    const { bridge } = await startBridge();
    const first = await request(bridge.port, { path: `/?token=${bridge.token}&view=jobs` });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/?view=jobs");
    const cookie = first.headers["set-cookie"]?.[0] ?? "";
    expect(cookie).toBe(`madengine_token_${bridge.port}=${bridge.token}; HttpOnly; SameSite=Strict; Path=/`);
    const pair = cookie.split(";")[0]!;

    const page = await request(bridge.port, { path: "/?view=jobs", headers: { cookie: `other=1; ${pair}` } });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>madengine</title>");
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-store");
    const api = await postCall(bridge.port, undefined, "jobs.list", {}, { cookie: pair });
    expect(api).toEqual({ status: 200, json: { ok: true, result: { jobs: [] } } });
  });

  it("refuses a foreign Host (DNS rebinding) and a foreign Origin", async () => {
    const { bridge } = await startBridge();
    const rebound = await request(bridge.port, {
      headers: { host: `attacker.example:${bridge.port}`, ...auth(bridge) },
    });
    expect(rebound.status).toBe(403);
    const otherPort = await request(bridge.port, { headers: { host: "127.0.0.1:1", ...auth(bridge) } });
    expect(otherPort.status).toBe(403);
    const localhost = await request(bridge.port, {
      headers: { host: `localhost:${bridge.port}`, ...auth(bridge) },
    });
    expect(localhost.status).toBe(200);
    const crossSite = await postCall(
      bridge.port,
      bridge.token,
      "jobs.list",
      {},
      { origin: "http://attacker.example" },
    );
    expect(crossSite.status).toBe(403);
    const sameSite = await postCall(
      bridge.port,
      bridge.token,
      "jobs.list",
      {},
      { origin: `http://127.0.0.1:${bridge.port}` },
    );
    expect(sameSite.status).toBe(200);
  });
});

describe("web bridge: calls", () => {
  it("answers calls with the contract's response, 404 for an unknown call, 405 for GET", async () => {
    const { bridge } = await startBridge();
    const zoo = await postCall(bridge.port, bridge.token, "zoo.discover", {});
    expect(zoo.status).toBe(200);
    expect((zoo.json as { result: { models: unknown[] } }).result.models.length).toBeGreaterThan(5);
    const empty = await request(bridge.port, {
      method: "POST",
      path: "/api/call/jobs.list",
      headers: auth(bridge),
    });
    expect(JSON.parse(empty.body)).toEqual({ ok: true, result: { jobs: [] } });
    const engineError = await postCall(bridge.port, bridge.token, "jobs.get", { id: "nope" });
    expect(engineError).toMatchObject({ status: 200, json: { ok: false, error: { code: "NOT_FOUND" } } });
    const unknown = await postCall(bridge.port, bridge.token, "jobs.delete", {});
    expect(unknown).toMatchObject({ status: 404, json: { ok: false, error: { code: "UNKNOWN_CALL" } } });
    const get = await request(bridge.port, { path: "/api/call/jobs.list", headers: auth(bridge) });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
    expect((await request(bridge.port, { path: "/api/nothing", headers: auth(bridge) })).status).toBe(404);
    expect((await request(bridge.port, { path: "/api/events", headers: auth(bridge) })).status).toBe(426);
  });

  it("a body of the wrong shape is 400 INVALID_ARGS, logged without its values, and the server keeps going", async () => {
    const { bridge, warnings } = await startBridge();
    const secret = "registry-password-123";
    const wrong = await postCall(bridge.port, bridge.token, "build.start", {
      tags: "dummy",
      context: UBUNTU,
      registry: { password: secret },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toMatchObject({ ok: false, error: { code: "INVALID_ARGS", path: "tags" } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("build.start: invalid arguments at tags");
    expect(warnings.join("\n")).not.toContain(secret);
    expect(JSON.stringify(wrong.json)).not.toContain(secret);

    const notJson = await postCall(bridge.port, bridge.token, "jobs.list", "{not json");
    expect(notJson).toMatchObject({ status: 400, json: { ok: false, error: { code: "INVALID_ARGS" } } });
    const array = await postCall(bridge.port, bridge.token, "jobs.get", [1, 2]);
    expect(array.status).toBe(400);
    expect((await postCall(bridge.port, bridge.token, "jobs.list", {})).status).toBe(200);
  });

  it("refuses bodies over 1 MiB with 413, declared or streamed", async () => {
    const { bridge } = await startBridge();
    const big = JSON.stringify({ json: "x".repeat(MAX_BODY_BYTES) });
    const declared = await postCall(bridge.port, bridge.token, "context.validate", big);
    expect(declared).toMatchObject({
      status: 413,
      json: { ok: false, error: { code: "PAYLOAD_TOO_LARGE" } },
    });
    const chunked = await request(bridge.port, {
      method: "POST",
      path: "/api/call/context.validate",
      headers: { ...auth(bridge), "transfer-encoding": "chunked" },
      body: big,
    });
    expect(chunked.status).toBe(413);
    const justUnder = JSON.stringify({ json: "x".repeat(MAX_BODY_BYTES - 100) });
    expect((await postCall(bridge.port, bridge.token, "context.validate", justUnder)).status).toBe(200);
    expect((await postCall(bridge.port, bridge.token, "jobs.list", {})).status).toBe(200);
  });
});

describe("web bridge: static files", () => {
  it("serves the renderer with content types and strict headers", async () => {
    const { bridge } = await startBridge();
    const headers = auth(bridge);
    const index = await request(bridge.port, { headers });
    expect(index.status).toBe(200);
    const csp = index.headers["content-security-policy"] as string;
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ws://127.0.0.1:${bridge.port}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain("unsafe");
    expect(index.headers["x-content-type-options"]).toBe("nosniff");
    expect(index.headers["referrer-policy"]).toBe("no-referrer");
    const js = await request(bridge.port, { path: "/assets/app.js", headers });
    expect([js.status, js.headers["content-type"], js.headers["cache-control"]]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "no-cache",
    ]);
    expect((await request(bridge.port, { path: "/assets/app.css", headers })).headers["content-type"]).toBe(
      "text/css; charset=utf-8",
    );
    expect((await request(bridge.port, { path: "/icon.svg", headers })).headers["content-type"]).toBe(
      "image/svg+xml",
    );
    const head = await request(bridge.port, { method: "HEAD", path: "/assets/app.js", headers });
    expect([head.status, head.body, head.headers["content-length"]]).toEqual([200, "", "18"]);
    const route = await request(bridge.port, { path: "/jobs/20261129-1", headers });
    expect(route.body).toContain("<title>madengine</title>");
    expect((await request(bridge.port, { path: "/assets/missing.js", headers })).status).toBe(404);
    expect((await request(bridge.port, { method: "DELETE", path: "/", headers })).status).toBe(405);
  });

  it("refuses traversal: dot segments, encoded and backslash variants, hidden files, symlinks out", async () => {
    const { bridge } = await startBridge();
    const headers = auth(bridge);
    for (const attempt of [
      "/../outside/secret.txt",
      "/assets/../../outside/secret.txt",
      "/%2e%2e/outside/secret.txt",
      "/%2E%2E%2Foutside%2Fsecret.txt",
      "/assets/..%2f..%2foutside%2fsecret.txt",
      "/..%5coutside%5csecret.txt",
      "/assets/%00.js",
      "/%E0%A4%A",
      "/.env",
      "/assets/link.txt",
      "/linkdir/secret.txt",
    ]) {
      const res = await request(bridge.port, { path: attempt, headers });
      expect([attempt, res.status]).toEqual([attempt, expect.toSatisfy((s: number) => s >= 400 && s < 500)]);
      expect(res.body).not.toContain("top secret");
      expect(res.body).not.toContain("SECRET=1");
    }
    expect((await request(bridge.port, { path: "/assets/link.txt", headers })).status).toBe(403);
    // `//etc/passwd` is the path /etc/passwd inside the renderer: no such file, so the app's page
    const doubleSlash = await request(bridge.port, { path: "//etc/passwd", headers });
    expect(doubleSlash.body).toContain("<title>madengine</title>");
    // a page load with the token and a path that starts with // must not redirect off-site
    const redirect = await request(bridge.port, { path: `//attacker.example/?token=${bridge.token}` });
    expect(redirect.headers.location).toBe("/attacker.example/");
  });

  it("answers 503 with a hint when the renderer is not built", async () => {
    const { bridge } = await startBridge({ staticDir: path.join(tempTree(), "dist", "renderer") });
    const page = await request(bridge.port, { headers: auth(bridge) });
    expect(page.status).toBe(503);
    expect(page.body).toBe("renderer not built: run npm run build\n");
    expect((await postCall(bridge.port, bridge.token, "jobs.list", {})).status).toBe(200);
  });
});

describe("web bridge: events", () => {
  it("needs the token for the WebSocket (cookie, ?token= or Bearer) and our Origin", async () => {
    const { bridge } = await startBridge();
    const base = `ws://127.0.0.1:${bridge.port}/api/events`;
    expect(await connectEvents(base)).toEqual({ status: 401 });
    expect(await connectEvents(`${base}?token=wrong-token-wrong-token`)).toEqual({ status: 401 });
    expect(await connectEvents(`ws://127.0.0.1:${bridge.port}/api/elsewhere?token=${bridge.token}`)).toEqual({
      status: 404,
    });
    expect(
      await connectEvents(`${base}?token=${bridge.token}`, { origin: "http://attacker.example" }),
    ).toEqual({ status: 403 });
    for (const attempt of [
      connectEvents(`${base}?token=${bridge.token}`, { origin: `http://127.0.0.1:${bridge.port}` }),
      connectEvents(base, { cookie: `madengine_token_${bridge.port}=${bridge.token}` }),
      connectEvents(base, auth(bridge)),
    ]) {
      const opened = await attempt;
      expect("ws" in opened).toBe(true);
      if ("ws" in opened) opened.ws.close();
    }
  });

  it("streams job.updated and log.lines of a job as JSON {event, payload}", async () => {
    const { bridge } = await startBridge();
    const opened = await connectEvents(`ws://127.0.0.1:${bridge.port}/api/events?token=${bridge.token}`);
    if (!("ws" in opened)) throw new Error("not opened");
    const messages: EventMessage[] = [];
    opened.ws.on("message", (data) => messages.push(JSON.parse(String(data)) as EventMessage));
    cleanups.push(() => opened.ws.close());
    const started = await postCall(bridge.port, bridge.token, "build.start", {
      tags: ["dummy"],
      context: UBUNTU,
    });
    const jobId = (started.json as CallResponse & { result: { job: { id: string } } }).result.job.id;
    await waitFor(() =>
      messages.some(
        (message) =>
          message.event === "job.updated" &&
          message.payload.job.id === jobId &&
          message.payload.job.state === "failed",
      ),
    );
    const lines = messages.flatMap((message) => (message.event === "log.lines" ? message.payload.lines : []));
    expect(lines.join("\n")).toContain("cannot reach the Docker daemon");
    expect(messages.some((message) => message.event === "engine.notice")).toBe(true);
  });

  it("tells the service a client is slow when its socket backs up, and when it has caught up", async () => {
    let sink: EventSink | undefined;
    const changes: boolean[] = [];
    let closed = false;
    const subscription: EventSubscription = {
      setBacklogged: (value) => changes.push(value),
      close: () => {
        closed = true;
      },
      stats: { queuedMessages: 0, queuedLineChars: 0, droppedLines: 0, backlogged: false },
    };
    const bridge = await startWebBridge({
      service: {
        call: async () => ({ ok: true, result: {} }),
        subscribe: (given) => {
          sink = given;
          return subscription;
        },
      },
      staticDir: tempTree(),
      backlogHighBytes: 256 * 1024,
      backlogLowBytes: 64 * 1024,
    });
    cleanups.push(() => bridge.close());

    // a client that completes the handshake and then stops reading
    const socket = net.connect(bridge.port, "127.0.0.1");
    cleanups.push(() => {
      socket.destroy();
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      `GET /api/events?token=${bridge.token} HTTP/1.1\r\nHost: 127.0.0.1:${bridge.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.pause();
    await waitFor(() => sink !== undefined);

    const line = "y".repeat(1000);
    const message: EventMessage = {
      event: "log.lines",
      payload: { jobId: "j", source: "s", firstLine: 0, lines: Array.from({ length: 100 }, () => line) },
    };
    let sent = 0;
    while (!changes.includes(true) && sent < 2000) {
      sink!.send(message); // ~100 KB each
      sent++;
      if (sent % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(changes).toEqual([true]);
    socket.resume(); // the client reads again
    socket.on("data", () => {});
    await waitFor(() => changes.length === 2);
    expect(changes).toEqual([true, false]);
    socket.destroy();
    await waitFor(() => closed);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
