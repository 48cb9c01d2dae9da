import type * as contract from "../../shared/contract.js";
import type { CallName, EventName } from "../../shared/contract.js";

/**
 * The contract's names as plain data, for the preload: a sandboxed preload is one small bundled
 * script, so it takes these (no zod) instead of the contract table. The types below make the
 * compiler reject a list that misses or invents a name; the channel strings are typed as the
 * contract's literals, so they cannot drift either.
 */

export const IPC_CALL_PREFIX: typeof contract.IPC_CALL_PREFIX = "madengine:call:";
export const IPC_EVENT_CHANNEL: typeof contract.IPC_EVENT_CHANNEL = "madengine:event";

export const CALL_NAMES = [
  "engine.status",
  "zoo.discover",
  "zoo.select",
  "context.validate",
  "build.start",
  "run.start",
  "jobs.list",
  "jobs.get",
  "jobs.cancel",
  "jobs.cancelNode",
  "logs.read",
  "manifest.read",
  "results.forJob",
  "dialog.pickDirectory",
  "export.preview",
  "export.save",
  "nodes.list",
  "nodes.add",
  "nodes.update",
  "nodes.remove",
  "nodes.import",
  "nodes.hostKey",
  "nodes.trust",
  "nodes.watch",
  "nodes.unwatch",
  "nodes.health",
  "nodes.preflight",
  // results history (shared/contract/results.ts)
  "results.status",
  "results.runs",
  "results.facets",
  "results.query",
  "results.series",
  "results.nodeComparison",
  "results.compare",
  "results.flags",
  "results.import",
  "results.export",
  "results.moveAside",
  "audit.list",
  "audit.export",
] as const satisfies readonly CallName[];

export const EVENT_NAMES = [
  "job.updated",
  "log.lines",
  "engine.notice",
  "nodes.health",
  "results.changed",
] as const satisfies readonly EventName[];

type Exhaustive<Missing extends never> = Missing;
/** Compile-time check: every contract call and event is listed above. */
export type NamesAreComplete = [
  Exhaustive<Exclude<CallName, (typeof CALL_NAMES)[number]>>,
  Exhaustive<Exclude<EventName, (typeof EVENT_NAMES)[number]>>,
];

/** What the preload exposes as `window.madengine` (the renderer's PreloadApi). */
export interface MadenginePreloadApi {
  /** Resolves to the contract's callResponse: `{ ok: true, result }` or `{ ok: false, error }`. */
  call(name: string, args?: unknown): Promise<unknown>;
  /** Calls `listener(payload)` for each event of that name; returns the unsubscribe function. */
  on(event: string, listener: (payload: unknown) => void): () => void;
}
