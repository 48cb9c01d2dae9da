import { callResponseSchema, eventEnvelopeSchema, IPC_CALL_PREFIX } from "../../../shared/contract.js";
import { ContractCallError } from "./errors.js";

/**
 * The two ways the renderer reaches the engine. A transport moves raw, unvalidated values; the
 * contract client (client.ts) validates every result and event against the contract.
 */

export type BridgeKind = "electron" | "web" | "none";
/** connecting: first attempt; open: events flow; reconnecting: dropped, retrying; unavailable: no bridge. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "unavailable";

export interface Transport {
  readonly kind: BridgeKind;
  /** The raw call response envelope ({ok,result} | {ok,error}); throws ContractCallError when unreachable. */
  send(name: string, args: unknown): Promise<unknown>;
  /** Raw payloads of one event. */
  listen(event: string, listener: (payload: unknown) => void): () => void;
  state(): ConnectionState;
  /** Connection state changes; `reconnected` is true when events flow again after a drop. */
  onState(listener: (state: ConnectionState, reconnected: boolean) => void): () => void;
  /** When the next reconnect attempt is due (ms since epoch), while reconnecting. */
  nextRetryAt(): number | undefined;
  /** Retry now instead of waiting for the backoff. */
  retryNow(): void;
  close(): void;
}

/** What the Electron preload exposes (src-main/electron); the renderer never touches ipcRenderer. */
export interface PreloadApi {
  call(name: string, args: unknown): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

export function isPreloadApi(value: unknown): value is PreloadApi {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PreloadApi).call === "function" &&
    typeof (value as PreloadApi).on === "function"
  );
}

class StateListeners {
  private readonly listeners = new Set<(state: ConnectionState, reconnected: boolean) => void>();
  add(listener: (state: ConnectionState, reconnected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(state: ConnectionState, reconnected: boolean): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(state, reconnected);
      } catch (error) {
        console.error("madengine: connection listener failed", error);
      }
    }
  }
}

/** Electron: calls and events go through the preload's `window.madengine` (IPC_CALL_PREFIX channels). */
export function electronTransport(api: PreloadApi): Transport {
  const states = new StateListeners();
  return {
    kind: "electron",
    async send(name, args) {
      try {
        return await api.call(name, args);
      } catch (error) {
        throw new ContractCallError({
          code: "BRIDGE_FAILED",
          message: `${IPC_CALL_PREFIX}${name}: ${error instanceof Error ? error.message : String(error)}`,
          hint: "restart the app; if it persists, report it with the app's log",
        });
      }
    },
    listen(event, listener) {
      const unsubscribe = api.on(event, (value: unknown) => {
        // tolerate a preload that hands over the whole envelope instead of the payload
        const envelope = eventEnvelopeSchema.safeParse(value);
        if (envelope.success && envelope.data.event === event && "payload" in (value as object)) {
          listener(envelope.data.payload);
        } else listener(value);
      });
      return typeof unsubscribe === "function" ? unsubscribe : () => {};
    },
    state: () => "open",
    onState: (listener) => states.add(listener),
    nextRetryAt: () => undefined,
    retryNow() {},
    close() {},
  };
}

/** No bridge (the page was opened from a file without the preload): every call fails with a hint. */
export function unavailableTransport(): Transport {
  const states = new StateListeners();
  return {
    kind: "none",
    send: async () => {
      throw new ContractCallError({
        code: "BRIDGE_UNAVAILABLE",
        message: "this page is not connected to the madengine engine",
        hint: "open the address printed by `madengine-cli serve`, or start the desktop app",
      });
    },
    listen: () => () => {},
    state: () => "unavailable",
    onState: (listener) => states.add(listener),
    nextRetryAt: () => undefined,
    retryNow() {},
    close() {},
  };
}

export interface WebTransportOptions {
  /** The page's origin, e.g. http://127.0.0.1:7400 */
  origin: string;
  /** The token from the address (?token=), if the page was opened with one; the cookie covers the rest. */
  token: string | undefined;
  /** Reconnect backoff: first delay and cap in ms. */
  backoff?: { initialMs: number; maxMs: number };
  WebSocketImpl?: typeof WebSocket;
  fetchImpl?: typeof fetch;
}

/**
 * The web bridge of `madengine-cli serve`: `POST /api/call/<name>` and the `/api/events` WebSocket,
 * authenticated by the HttpOnly cookie the server set from ?token= (plus a Bearer header when the
 * token is known). The socket reconnects with exponential backoff and jitter.
 */
export function webTransport(options: WebTransportOptions): Transport {
  const { origin, token } = options;
  const initialMs = options.backoff?.initialMs ?? 250;
  const maxMs = options.backoff?.maxMs ?? 5000;
  const WebSocketImpl = options.WebSocketImpl ?? WebSocket;
  const fetchImpl = options.fetchImpl ?? fetch.bind(globalThis);
  const states = new StateListeners();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let state: ConnectionState = "connecting";
  let socket: WebSocket | undefined;
  let attempt = 0;
  let everOpened = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryAt: number | undefined;
  let closed = false;

  const eventsUrl = new URL("/api/events", origin);
  eventsUrl.protocol = eventsUrl.protocol === "https:" ? "wss:" : "ws:";
  if (token !== undefined) eventsUrl.searchParams.set("token", token);

  function setState(next: ConnectionState, reconnected = false): void {
    if (next === state && !reconnected) return;
    state = next;
    states.emit(next, reconnected);
  }

  function dispatch(data: unknown): void {
    if (typeof data !== "string") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      console.warn("madengine: dropped an event that is not JSON", data.slice(0, 200));
      return;
    }
    const envelope = eventEnvelopeSchema.safeParse(parsed);
    if (!envelope.success) {
      console.warn("madengine: dropped an event without {event, payload}", parsed);
      return;
    }
    const set = listeners.get(envelope.data.event);
    if (!set) return;
    for (const listener of [...set]) listener(envelope.data.payload);
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer !== undefined) return;
    const delay = Math.min(maxMs, initialMs * 2 ** attempt);
    const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
    attempt++;
    retryAt = Date.now() + jittered;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      retryAt = undefined;
      connect();
    }, jittered);
    setState("reconnecting");
  }

  function connect(): void {
    if (closed) return;
    let ws: WebSocket;
    try {
      ws = new WebSocketImpl(eventsUrl.href);
    } catch (error) {
      console.warn("madengine: cannot open the event socket", error);
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      attempt = 0;
      const reconnected = everOpened;
      everOpened = true;
      setState("open", reconnected);
    };
    ws.onmessage = (message) => {
      if (socket === ws) dispatch(message.data);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      if (!closed) scheduleReconnect();
    };
    ws.onerror = () => {
      // a close event follows; the reconnect is scheduled there
    };
  }

  connect();

  return {
    kind: "web",
    async send(name, args) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      let response: Response;
      try {
        response = await fetchImpl(new URL(`/api/call/${encodeURIComponent(name)}`, origin).href, {
          method: "POST",
          headers,
          body: JSON.stringify(args ?? {}),
          credentials: "same-origin",
          cache: "no-store",
        });
      } catch (error) {
        throw new ContractCallError({
          code: "NETWORK",
          message: `cannot reach madengine-cli serve at ${origin} (${error instanceof Error ? error.message : String(error)})`,
          hint: "check that `madengine-cli serve` is still running, then retry",
        });
      }
      const text = await response.text().catch(() => "");
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      // an error envelope travels with HTTP 400 (bad arguments) or 200 (engine errors): both are answers
      if (callResponseSchema.safeParse(body).success) return body;
      if (response.status === 401 || response.status === 403) {
        throw new ContractCallError({
          code: "UNAUTHORIZED",
          message: `the web bridge refused this page (HTTP ${response.status})`,
          hint: "open the address printed by `madengine-cli serve` (it carries the access token)",
        });
      }
      throw new ContractCallError({
        code: response.ok ? "BAD_RESPONSE" : `HTTP_${response.status}`,
        message: `${name}: unexpected answer from the web bridge (HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""})`,
        hint: "check the terminal running `madengine-cli serve` for errors",
      });
    },
    listen(event, listener) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    state: () => state,
    onState: (listener) => states.add(listener),
    nextRetryAt: () => retryAt,
    retryNow() {
      if (retryTimer === undefined) return;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      retryAt = undefined;
      attempt = 0;
      connect();
    },
    close() {
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      socket?.close();
      socket = undefined;
    },
  };
}
