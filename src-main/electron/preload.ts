import { contextBridge, ipcRenderer } from "electron";
import {
  CALL_NAMES,
  EVENT_NAMES,
  IPC_CALL_PREFIX,
  IPC_EVENT_CHANNEL,
  type MadenginePreloadApi,
} from "./contractNames.js";

/**
 * The preload (sandboxed, context-isolated): exposes `window.madengine` with exactly two functions,
 * and only for the contract's names. No ipcRenderer, no IPC event objects, nothing else reaches the
 * page.
 */

const calls = new Set<string>(CALL_NAMES);
const events = new Set<string>(EVENT_NAMES);
const listeners = new Map<string, Set<(payload: unknown) => void>>();

ipcRenderer.on(IPC_EVENT_CHANNEL, (_event, message: unknown) => {
  if (typeof message !== "object" || message === null) return;
  const { event, payload } = message as { event?: unknown; payload?: unknown };
  if (typeof event !== "string") return;
  for (const listener of [...(listeners.get(event) ?? [])]) {
    try {
      listener(payload);
    } catch (error) {
      console.error(`madengine: a ${event} listener failed`, error);
    }
  }
});

const api: MadenginePreloadApi = {
  call(name, args) {
    if (typeof name !== "string" || !calls.has(name)) {
      return Promise.resolve({
        ok: false,
        error: { code: "UNKNOWN_CALL", message: `no call named ${JSON.stringify(String(name))}` },
      });
    }
    return ipcRenderer.invoke(`${IPC_CALL_PREFIX}${name}`, args ?? {});
  },
  on(event, listener) {
    if (typeof event !== "string" || !events.has(event))
      throw new TypeError(`no event named ${String(event)}`);
    if (typeof listener !== "function") throw new TypeError("the listener must be a function");
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
};

contextBridge.exposeInMainWorld("madengine", Object.freeze(api));
