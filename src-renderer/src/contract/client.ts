import "./zodConfig.js";
import {
  type CallArgs,
  type CallName,
  type CallResult,
  callResponseSchema,
  contractCalls,
  contractEvents,
  type EventName,
  type EventPayload,
} from "../../../shared/contract.js";
import { ContractCallError } from "./errors.js";
import {
  type BridgeKind,
  type ConnectionState,
  electronTransport,
  isPreloadApi,
  type Transport,
  unavailableTransport,
  webTransport,
} from "./transports.js";

export { ContractCallError, toContractError } from "./errors.js";
export type { BridgeKind, ConnectionState } from "./transports.js";

/**
 * The renderer's only way to the engine: typed calls and events from shared/contract.ts over
 * whichever bridge this page has (Electron preload or the web bridge of `madengine-cli serve`).
 * Every result and event payload is validated against the contract; malformed ones are logged and
 * dropped (events) or turned into a BAD_RESPONSE error (calls), never a crash.
 */
export interface ContractClient {
  readonly bridge: BridgeKind;
  call<N extends CallName>(name: N, args: CallArgs<N>): Promise<CallResult<N>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  connectionState(): ConnectionState;
  /** Connection state changes. */
  onConnectionState(listener: (state: ConnectionState) => void): () => void;
  /** Events flow again after a drop: anything shown may have missed events, so re-read it. */
  onReconnect(listener: () => void): () => void;
  nextRetryAt(): number | undefined;
  retryNow(): void;
  close(): void;
}

function shortIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const first = error.issues[0];
  if (!first) return "invalid";
  const where = first.path.length ? first.path.map(String).join(".") : "(top level)";
  return `${where}: ${first.message}${error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : ""}`;
}

function debugEnabled(): boolean {
  try {
    return globalThis.localStorage?.getItem("madengine.debug") === "1";
  } catch {
    return false;
  }
}

export function createContractClient(transport: Transport): ContractClient {
  const debug = debugEnabled();
  const eventListeners = new Map<string, { set: Set<(payload: never) => void>; unlisten: () => void }>();
  const stateListeners = new Set<(state: ConnectionState) => void>();
  const reconnectListeners = new Set<() => void>();

  transport.onState((state, reconnected) => {
    for (const listener of [...stateListeners]) listener(state);
    if (reconnected) {
      for (const listener of [...reconnectListeners]) {
        try {
          listener();
        } catch (error) {
          console.error("madengine: reconnect listener failed", error);
        }
      }
    }
  });

  return {
    bridge: transport.kind,
    async call(name, args) {
      const spec = contractCalls[name];
      if (!spec)
        throw new ContractCallError({ code: "INVALID_ARGS", message: `unknown call ${String(name)}` });
      const checkedArgs = spec.args.safeParse(args);
      if (!checkedArgs.success) {
        throw new ContractCallError({
          code: "INVALID_ARGS",
          message: `${name}: ${shortIssue(checkedArgs.error)}`,
          path: checkedArgs.error.issues[0]?.path.map(String).join("."),
        });
      }
      const started = debug ? performance.now() : 0;
      const raw = await transport.send(name, args);
      if (debug) {
        const size = JSON.stringify(raw)?.length ?? 0;
        console.debug(`madengine: ${name} ${Math.round(performance.now() - started)} ms, ${size} chars`);
      }
      const envelope = callResponseSchema.safeParse(raw);
      if (!envelope.success) {
        console.warn(`madengine: ${name}: malformed response`, raw);
        throw new ContractCallError({
          code: "BAD_RESPONSE",
          message: `${name}: the engine's answer is not {ok, result} or {ok, error}`,
        });
      }
      if (!envelope.data.ok) throw new ContractCallError(envelope.data.error);
      const result = spec.result.safeParse(envelope.data.result);
      if (!result.success) {
        console.warn(`madengine: ${name}: result does not match the contract`, result.error.issues);
        throw new ContractCallError({
          code: "BAD_RESPONSE",
          message: `${name}: the engine's result does not match the contract (${shortIssue(result.error)})`,
          hint: "the app and the engine may be different versions; restart both",
        });
      }
      return result.data as CallResult<typeof name>;
    },
    on(event, listener) {
      let entry = eventListeners.get(event);
      if (!entry) {
        const set = new Set<(payload: never) => void>();
        const schema = contractEvents[event];
        // validate once per event, then fan out
        const unlisten = transport.listen(event, (raw) => {
          const parsed = schema.safeParse(raw);
          if (!parsed.success) {
            console.warn(`madengine: dropped a malformed ${event} event: ${shortIssue(parsed.error)}`);
            return;
          }
          if (debug) console.debug(`madengine: event ${event}`);
          for (const each of [...set]) {
            try {
              (each as (payload: unknown) => void)(parsed.data);
            } catch (error) {
              console.error(`madengine: a ${event} listener failed`, error);
            }
          }
        });
        entry = { set, unlisten };
        eventListeners.set(event, entry);
      }
      const current = entry;
      current.set.add(listener as (payload: never) => void);
      return () => {
        current.set.delete(listener as (payload: never) => void);
        if (current.set.size === 0 && eventListeners.get(event) === current) {
          current.unlisten();
          eventListeners.delete(event);
        }
      };
    },
    connectionState: () => transport.state(),
    onConnectionState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    nextRetryAt: () => transport.nextRetryAt(),
    retryNow: () => transport.retryNow(),
    close: () => transport.close(),
  };
}

/** Reads ?token= from the address and removes it from the address bar (it stays in memory only). */
export function takeTokenFromAddress(win: Window): string | undefined {
  const url = new URL(win.location.href);
  const token = url.searchParams.get("token") ?? undefined;
  if (token !== undefined) {
    url.searchParams.delete("token");
    const rest = url.searchParams.toString();
    try {
      win.history.replaceState(win.history.state, "", `${url.pathname}${rest ? `?${rest}` : ""}${url.hash}`);
    } catch {
      // a sandboxed or file:// page may refuse; the token simply stays visible
    }
  }
  return token === "" ? undefined : token;
}

/**
 * Picks the bridge once, at start: the Electron preload when `window.madengine` is there, else the
 * web bridge when the page came over http(s), else none (every call says how to open the app).
 */
export function connectContractClient(win: Window = window): ContractClient {
  const preload = (win as unknown as { madengine?: unknown }).madengine;
  if (isPreloadApi(preload)) return createContractClient(electronTransport(preload));
  if (win.location.protocol === "http:" || win.location.protocol === "https:") {
    const token = takeTokenFromAddress(win);
    return createContractClient(webTransport({ origin: win.location.origin, token }));
  }
  return createContractClient(unavailableTransport());
}
