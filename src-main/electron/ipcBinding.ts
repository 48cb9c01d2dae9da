import type { CallResponse } from "../app/contractCalls.js";
import { validateCallArgs } from "../app/contractCalls.js";
import type { EventMessage, EventSink } from "../app/eventHub.js";
import { CALL_NAMES, IPC_CALL_PREFIX, IPC_EVENT_CHANNEL } from "./contractNames.js";
import { isAppPage } from "./navigation.js";

/**
 * The contract bound to Electron IPC, written against the few properties it uses (so it is tested
 * without Electron; main.ts passes the real ipcMain and events, which the compiler checks against
 * these shapes).
 */

/** What a handler looks at in an IpcMainInvokeEvent. */
export interface IpcInvokeEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>,
  ): void;
  removeHandler(channel: string): void;
}

/** Which renderer may call: our window's web contents, main frame, showing our index.html. */
export interface TrustedRenderer {
  /** The id of our window's webContents (undefined while there is no window). */
  webContentsId(): number | undefined;
  /** Absolute path of the renderer's index.html. */
  indexHtml: string;
}

export interface CallService {
  call(name: string, args: unknown): Promise<CallResponse>;
}

/**
 * Whether an IPC call comes from our own page: the sender is our window, the frame is its main frame
 * (no iframe), and that frame shows our index.html from disk (not a page it was navigated to).
 */
export function isTrustedSender(event: IpcInvokeEventLike, trusted: TrustedRenderer): boolean {
  const id = trusted.webContentsId();
  if (id === undefined || event.sender.id !== id) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppPage(frame.url, trusted.indexHtml);
}

export type IpcCallHandler = (event: IpcInvokeEventLike, args: unknown) => Promise<CallResponse>;

/** One handler per contract call, keyed by its channel (IPC_CALL_PREFIX + name). */
export function createIpcHandlers(
  service: CallService,
  trusted: TrustedRenderer,
  warn: (message: string) => void = (message) => console.warn(message),
): Map<string, IpcCallHandler> {
  const handlers = new Map<string, IpcCallHandler>();
  for (const name of CALL_NAMES) {
    handlers.set(`${IPC_CALL_PREFIX}${name}`, async (event, args) => {
      if (!isTrustedSender(event, trusted)) {
        warn(`madengine: refused ${name} from a frame that is not the app's page`);
        return { ok: false, error: { code: "FORBIDDEN", message: "this frame may not call the engine" } };
      }
      const checked = validateCallArgs(name, args ?? {});
      if (!checked.ok) {
        warn(`madengine: ${checked.logLine}`);
        return { ok: false, error: checked.error };
      }
      return service.call(name, checked.args);
    });
  }
  return handlers;
}

/** Registers the handlers; returns the function that removes them again. */
export function bindIpcHandlers(ipc: IpcMainLike, handlers: Map<string, IpcCallHandler>): () => void {
  for (const [channel, handler] of handlers) {
    ipc.handle(channel, (event, ...args) => handler(event, args[0]));
  }
  return () => {
    for (const channel of handlers.keys()) ipc.removeHandler(channel);
  };
}

/** What the forwarder needs of a window's webContents. */
export interface EventTarget {
  isDestroyed(): boolean;
  isLoading(): boolean;
  send(channel: string, message: EventMessage): void;
}

/**
 * Sends the service's events (already coalesced there: log lines per 16 ms, job updates) to our
 * window only, on the one event channel. While the page is loading nothing is sent: the page reads
 * the state it needs (jobs.list, logs.read) once it runs, as after a reconnect.
 */
export function createEventForwarder(target: () => EventTarget | undefined): EventSink {
  return {
    send(message) {
      const contents = target();
      if (!contents || contents.isDestroyed() || contents.isLoading()) return;
      contents.send(IPC_EVENT_CHANNEL, message);
    },
  };
}
