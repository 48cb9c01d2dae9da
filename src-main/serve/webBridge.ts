import { createReadStream, existsSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { ContractError } from "../../shared/contract.js";
import { MadError } from "../../shared/errors.js";
import { type CallResponse, isCallName, unknownCallError, validateCallArgs } from "../app/contractCalls.js";
import type { EventSink, EventSubscription } from "../app/eventHub.js";
import { contentSecurityPolicy, HARDENING_HEADERS } from "../app/securityPolicy.js";
import { packageRoot } from "../engine/util/packagePaths.js";
import {
  bearerToken,
  isLoopbackHost,
  isUsableToken,
  newToken,
  parseCookies,
  parseHostHeader,
  tokenCookie,
  tokenCookieName,
  tokensEqual,
} from "./auth.js";
import { contentTypeOf, lookupStaticFile } from "./staticFiles.js";

/** What the bridge needs of the service: the contract's calls and its events. AppService fits. */
export interface BridgeService {
  call(name: string, args: unknown): Promise<CallResponse>;
  subscribe(sink: EventSink): EventSubscription;
}

export interface WebBridgeOptions {
  service: BridgeService;
  /** Default 127.0.0.1. Anything but a loopback address needs `allowNonLoopback`. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The built renderer (default `<package root>/dist/renderer`). */
  staticDir?: string;
  allowNonLoopback?: boolean;
  /** Default: 32 random bytes. */
  token?: string;
  /** A WebSocket client with more than this many bytes unsent is slow (default 4 MiB) ... */
  backlogHighBytes?: number;
  /** ... until it is back under this many (default 1 MiB). */
  backlogLowBytes?: number;
  /** Where warnings go (default console.warn). */
  warn?: (message: string) => void;
  /** One line per call with sizes and time (default: MADENGINE_TRACE_CONTRACT=1). */
  trace?: ((line: string) => void) | undefined;
}

export interface WebBridge {
  /** The address to open, with `?token=`. */
  url: string;
  host: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024;
/** A refused body is read and discarded up to this size (so the client sees the 413), then cut off. */
const MAX_DRAINED_BYTES = 16 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;
const RENDERER_MISSING = "renderer not built: run npm run build";

interface ParsedRequestUrl {
  pathname: string;
  params: URLSearchParams;
}

/** Splits a request target without letting `//host/...` pass for an absolute URL. */
function parseRequestUrl(raw: string | undefined): ParsedRequestUrl {
  const target = raw ?? "/";
  const q = target.indexOf("?");
  const pathPart = q === -1 ? target : target.slice(0, q);
  const pathname = `/${pathPart.replace(/^\/+/, "")}`;
  return { pathname, params: new URLSearchParams(q === -1 ? "" : target.slice(q + 1)) };
}

function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/**
 * The web bridge: the renderer and the same typed contract as the Electron window, over HTTP and a
 * WebSocket, for a browser (headless labs, end-to-end tests in Chromium).
 *
 * - Every request needs the token: `?token=` on a page load (answered with an HttpOnly,
 *   SameSite=Strict cookie and a redirect that drops it from the address), then the cookie, or
 *   `Authorization: Bearer`. Otherwise 401. Host (and, when sent, Origin) must be ours, which stops
 *   DNS-rebinding and cross-site pages.
 * - `POST /api/call/<name>` with the arguments as JSON: 200 with the contract's callResponse; 404 for
 *   an unknown call; 400 INVALID_ARGS for arguments that do not match the contract; 413 over 1 MiB.
 * - `GET /api/events` upgrades to a WebSocket of `{ event, payload }` messages; a client that reads
 *   slowly is reported to the service, which then drops log lines for it (a gap in `firstLine`).
 * - Everything else is a file of the built renderer, with a strict CSP and no directory traversal.
 */
export async function startWebBridge(options: WebBridgeOptions): Promise<WebBridge> {
  const host = options.host ?? "127.0.0.1";
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const trace =
    "trace" in options ? options.trace : process.env.MADENGINE_TRACE_CONTRACT === "1" ? warn : undefined;
  const loopback = isLoopbackHost(host);
  if (!loopback && !options.allowNonLoopback) {
    throw new MadError("INVALID_ARGS", `refusing to serve on ${host}: it is reachable from other machines`, {
      hint: "the control center runs containers on this machine: keep it on 127.0.0.1 and use an SSH tunnel (ssh -L 8080:127.0.0.1:8080 host), or pass --allow-remote",
    });
  }
  const token = options.token ?? newToken();
  if (!isUsableToken(token)) {
    throw new MadError("INVALID_ARGS", "the access token must be 16 to 512 characters of A-Z a-z 0-9 _ -", {
      hint: "leave the token out to get a random one",
    });
  }
  const staticDir = path.resolve(options.staticDir ?? path.join(packageRoot(), "dist", "renderer"));
  const high = options.backlogHighBytes ?? 4 * 1024 * 1024;
  const low = Math.min(options.backlogLowBytes ?? 1024 * 1024, high);
  const { service } = options;

  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  let port = 0;

  const hostAllowed = (header: string | undefined) => {
    const parsed = parseHostHeader(header);
    if (!parsed) return undefined;
    if (loopback && !isLoopbackHost(parsed.hostname)) return undefined;
    if (parsed.port !== undefined && parsed.port !== port) return undefined;
    return `${parsed.hostname}${parsed.port === undefined ? "" : `:${parsed.port}`}`;
  };
  /** An Origin header, when a browser sends one, must be this server's own. */
  const originAllowed = (req: IncomingMessage, hostValue: string) => {
    const origin = req.headers.origin;
    return origin === undefined || origin === `http://${hostValue}`;
  };
  const presentedToken = (req: IncomingMessage, params: URLSearchParams, allowQuery: boolean) => {
    const candidates = [
      bearerToken(req.headers.authorization),
      parseCookies(req.headers.cookie).get(tokenCookieName(port)),
      allowQuery ? (params.get("token") ?? undefined) : undefined,
    ];
    for (const candidate of candidates) if (tokensEqual(candidate, token)) return true;
    return false;
  };
  const securityHeaders = (hostValue: string | undefined): Record<string, string> => ({
    "Content-Security-Policy": contentSecurityPolicy({
      connectSrc: [`ws://${hostValue ?? `${urlHost(host)}:${port}`}`],
    }),
    ...HARDENING_HEADERS,
  });

  const sendJson = (
    res: ServerResponse,
    status: number,
    body: unknown,
    hostValue: string | undefined,
    extra: Record<string, string> = {},
  ) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...securityHeaders(hostValue),
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(text)),
      "Cache-Control": "no-store",
      ...extra,
    });
    res.end(text);
    return text.length;
  };
  const sendError = (
    res: ServerResponse,
    status: number,
    error: ContractError,
    hostValue: string | undefined,
    extra?: Record<string, string>,
  ) => sendJson(res, status, { ok: false, error }, hostValue, extra);
  const sendText = (
    res: ServerResponse,
    status: number,
    text: string,
    hostValue: string | undefined,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      ...securityHeaders(hostValue),
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(text)),
      "Cache-Control": "no-store",
      ...extra,
    });
    res.end(text);
  };

  const unauthorized: ContractError = {
    code: "UNAUTHORIZED",
    message: "missing or wrong access token",
    hint: "open the address printed by madengine-cli serve (it carries ?token=...)",
  };

  async function handleCall(req: IncomingMessage, res: ServerResponse, name: string, hostValue: string) {
    const started = performance.now();
    if (!isCallName(name)) {
      req.resume();
      sendError(res, 404, unknownCallError(name), hostValue);
      return;
    }
    const body = await readBody(req);
    if (!body.ok) {
      sendError(
        res,
        413,
        {
          code: "PAYLOAD_TOO_LARGE",
          message: `the arguments of ${name} are larger than ${MAX_BODY_BYTES} bytes`,
          hint: "send a path to a file instead of its content",
        },
        hostValue,
        { Connection: "close" },
      );
      if (body.cutOff) res.on("finish", () => req.destroy());
      return;
    }
    let args: unknown = {};
    if (body.data.length > 0) {
      try {
        args = JSON.parse(body.data.toString("utf8"));
      } catch {
        warn(`madengine serve: ${name}: the request body is not valid JSON`);
        sendError(
          res,
          400,
          {
            code: "INVALID_ARGS",
            message: `${name}: the request body is not valid JSON`,
            hint: "send the arguments as a JSON object",
          },
          hostValue,
        );
        return;
      }
    }
    const checked = validateCallArgs(name, args);
    if (!checked.ok) {
      warn(`madengine serve: ${checked.logLine}`);
      sendError(res, 400, checked.error, hostValue);
      return;
    }
    const response = await service.call(name, checked.args);
    const sent = sendJson(res, 200, response, hostValue);
    trace?.(
      `madengine serve: ${name} ${response.ok ? "ok" : `error ${response.error.code}`} in ${body.data.length} B, out ${sent} B, ${(performance.now() - started).toFixed(1)} ms`,
    );
  }

  async function handleStatic(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    hostValue: string,
  ) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendText(res, 405, "method not allowed", hostValue, { Allow: "GET, HEAD" });
      return;
    }
    if (!existsSync(path.join(staticDir, "index.html"))) {
      sendText(res, 503, `${RENDERER_MISSING}\n`, hostValue);
      return;
    }
    const found = await lookupStaticFile(staticDir, pathname);
    if (!found.ok) {
      sendText(res, found.status, `${found.reason}\n`, hostValue);
      return;
    }
    res.writeHead(200, {
      ...securityHeaders(hostValue),
      "Content-Type": contentTypeOf(found.file),
      "Content-Length": String(found.size),
      "Cache-Control": found.isIndex ? "no-store" : "no-cache",
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const stream = createReadStream(found.file);
    stream.on("error", () => res.destroy());
    stream.pipe(res);
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse) {
    const { pathname, params } = parseRequestUrl(req.url);
    const isApi = pathname === "/api" || pathname.startsWith("/api/");
    const hostValue = hostAllowed(req.headers.host);
    if (!hostValue) {
      req.resume();
      if (isApi)
        sendError(
          res,
          403,
          { code: "FORBIDDEN", message: "unexpected Host header", hint: "use the address printed by serve" },
          undefined,
        );
      else sendText(res, 403, "unexpected Host header\n", undefined);
      return;
    }
    const pageLoad = !isApi && (req.method === "GET" || req.method === "HEAD");
    if (!presentedToken(req, params, pageLoad)) {
      req.resume();
      if (isApi) sendError(res, 401, unauthorized, hostValue);
      else sendText(res, 401, "unauthorized: open the address printed by madengine-cli serve\n", hostValue);
      return;
    }
    if (pageLoad && params.has("token")) {
      // the token moves into the cookie and out of the address bar (and the history)
      params.delete("token");
      const rest = params.toString();
      res.writeHead(303, {
        ...securityHeaders(hostValue),
        Location: `${pathname}${rest ? `?${rest}` : ""}`,
        "Set-Cookie": tokenCookie(port, token),
        "Cache-Control": "no-store",
        "Content-Length": "0",
      });
      res.end();
      return;
    }
    if (!isApi) {
      await handleStatic(req, res, pathname, hostValue);
      return;
    }
    if (!originAllowed(req, hostValue)) {
      req.resume();
      sendError(res, 403, { code: "FORBIDDEN", message: "cross-origin request refused" }, hostValue);
      return;
    }
    const call = /^\/api\/call\/([^/]+)$/.exec(pathname);
    if (call) {
      if (req.method !== "POST") {
        req.resume();
        sendError(
          res,
          405,
          { code: "INVALID_ARGS", message: "calls are POST requests with a JSON body" },
          hostValue,
          { Allow: "POST" },
        );
        return;
      }
      let name: string;
      try {
        name = decodeURIComponent(call[1]!);
      } catch {
        name = call[1]!;
      }
      await handleCall(req, res, name, hostValue);
      return;
    }
    req.resume();
    if (pathname === "/api/events")
      sendError(res, 426, { code: "INVALID_ARGS", message: "/api/events is a WebSocket" }, hostValue, {
        Upgrade: "websocket",
      });
    else sendError(res, 404, { code: "NOT_FOUND", message: `no API at ${pathname}` }, hostValue);
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(req, res).catch((error: unknown) => {
      warn(`madengine serve: ${req.method} ${parseRequestUrl(req.url).pathname} failed: ${String(error)}`);
      if (!res.headersSent)
        sendError(res, 500, { code: "INTERNAL", message: "internal error in the web bridge" }, undefined);
      else res.destroy();
    });
  });

  const refuseUpgrade = (socket: Duplex, status: number, text: string) => {
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  };

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const { pathname, params } = parseRequestUrl(req.url);
    const hostValue = hostAllowed(req.headers.host);
    if (!hostValue) return refuseUpgrade(socket, 403, "unexpected Host header\n");
    if (!presentedToken(req, params, true)) return refuseUpgrade(socket, 401, "unauthorized\n");
    if (!originAllowed(req, hostValue)) return refuseUpgrade(socket, 403, "cross-origin WebSocket refused\n");
    if (pathname !== "/api/events") return refuseUpgrade(socket, 404, "no WebSocket here\n");
    wss.handleUpgrade(req, socket, head, (ws) => attachEvents(ws));
  });

  function attachEvents(ws: WebSocket) {
    sockets.add(ws);
    let backlogged = false;
    let alive = true;
    let subscription: EventSubscription | undefined;
    const afterWrite = (error?: Error | null) => {
      if (error || !backlogged || ws.bufferedAmount > low) return;
      backlogged = false;
      subscription?.setBacklogged(false);
    };
    subscription = service.subscribe({
      send(message) {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(JSON.stringify(message), afterWrite);
        if (!backlogged && ws.bufferedAmount > high) {
          backlogged = true;
          subscription?.setBacklogged(true);
        }
      },
    });
    ws.on("pong", () => {
      alive = true;
    });
    const heartbeat = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, HEARTBEAT_MS);
    heartbeat.unref();
    ws.on("message", () => {
      // events only flow to the client; calls go over HTTP
    });
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      clearInterval(heartbeat);
      sockets.delete(ws);
      subscription?.close();
    });
  }

  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  await listen(server, options.port ?? 0, host);
  port = (server.address() as AddressInfo).port;
  if (!loopback) {
    warn(
      `madengine serve: listening on ${host}:${port}, reachable from other machines: anyone with the token can build and run containers here`,
    );
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${port}/?token=${token}`,
    host,
    port,
    token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of sockets) ws.close(1001, "server shutting down");
        const force = setTimeout(() => {
          for (const ws of sockets) ws.terminate();
        }, 1000);
        force.unref();
        wss.close();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      return closing;
    },
  };
}

type BodyResult = { ok: true; data: Buffer } | { ok: false; cutOff: boolean };

/** Reads a request body of at most MAX_BODY_BYTES; a larger one is discarded as it arrives. */
function readBody(req: IncomingMessage): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    let tooLarge = Number.isFinite(declared) && declared > MAX_BODY_BYTES;
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (total > MAX_DRAINED_BYTES) {
          req.pause();
          finish({ ok: false, cutOff: true });
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () =>
      finish(tooLarge ? { ok: false, cutOff: false } : { ok: true, data: Buffer.concat(chunks) }),
    );
    req.on("error", () => finish({ ok: false, cutOff: true }));
    req.on("close", () => finish({ ok: false, cutOff: true })); // the client went away mid-body
  });
}
