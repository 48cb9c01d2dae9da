import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import {
  contractCalls,
  contractEvents,
  IPC_CALL_PREFIX,
  IPC_EVENT_CHANNEL,
} from "../../../shared/contract.js";
import { AppService } from "../../../src-main/app/appService.js";
import type { EventMessage } from "../../../src-main/app/eventHub.js";
import * as names from "../../../src-main/electron/contractNames.js";
import {
  bindIpcHandlers,
  createEventForwarder,
  createIpcHandlers,
  type IpcInvokeEventLike,
  type IpcMainLike,
  isTrustedSender,
} from "../../../src-main/electron/ipcBinding.js";
import { tempTree } from "../../helpers/tempDir.js";

const indexHtml = "/app/dist/renderer/index.html";
const pageUrl = pathToFileURL(indexHtml).href;
const trusted = { webContentsId: () => 7, indexHtml };

/** An invoke event as Electron builds it: sender web contents, sender frame (main frame: no parent). */
function event(
  overrides: { id?: number; url?: string; parent?: unknown; frame?: null } = {},
): IpcInvokeEventLike {
  return {
    sender: { id: overrides.id ?? 7 },
    senderFrame:
      overrides.frame === null
        ? null
        : { url: overrides.url ?? `${pageUrl}#/jobs`, parent: overrides.parent ?? null },
  };
}

describe("IPC binding", () => {
  it("the preload's names are the contract's names and channels", () => {
    expect([...names.CALL_NAMES].sort()).toEqual(Object.keys(contractCalls).sort());
    expect([...names.EVENT_NAMES].sort()).toEqual(Object.keys(contractEvents).sort());
    expect(names.IPC_CALL_PREFIX).toBe(IPC_CALL_PREFIX);
    expect(names.IPC_EVENT_CHANNEL).toBe(IPC_EVENT_CHANNEL);
  });

  it("trusts only our window's main frame showing our page", () => {
    expect(isTrustedSender(event(), trusted)).toBe(true);
    expect(isTrustedSender(event({ id: 8 }), trusted)).toBe(false); // another window
    expect(isTrustedSender(event({ parent: { url: pageUrl } }), trusted)).toBe(false); // an iframe
    expect(isTrustedSender(event({ url: "https://example.com/" }), trusted)).toBe(false); // navigated away
    expect(isTrustedSender(event({ url: pathToFileURL("/tmp/evil.html").href }), trusted)).toBe(false);
    expect(isTrustedSender(event({ frame: null }), trusted)).toBe(false); // frame gone
    expect(isTrustedSender(event(), { webContentsId: () => undefined, indexHtml })).toBe(false); // no window
  });

  it("one handler per call: checks the sender, validates, calls the service, returns errors as values", async () => {
    const service = new AppService({ workspaceDir: tempTree() });
    const warnings: string[] = [];
    const handlers = createIpcHandlers(service, trusted, (message) => warnings.push(message));
    expect([...handlers.keys()].sort()).toEqual(
      Object.keys(contractCalls)
        .map((name) => `${IPC_CALL_PREFIX}${name}`)
        .sort(),
    );

    const list = handlers.get(`${IPC_CALL_PREFIX}jobs.list`)!;
    expect(await list(event(), {})).toEqual({ ok: true, result: { jobs: [] } });
    expect(await list(event(), undefined)).toEqual({ ok: true, result: { jobs: [] } });
    expect(await list(event({ parent: {} }), {})).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    const get = handlers.get(`${IPC_CALL_PREFIX}jobs.get`)!;
    expect(await get(event(), { id: 3 })).toMatchObject({
      ok: false,
      error: { code: "INVALID_ARGS", path: "id" },
    });
    expect(await get(event(), { id: "nope" })).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    expect(warnings).toEqual([
      "madengine: refused jobs.list from a frame that is not the app's page",
      "madengine: jobs.get: invalid arguments at id: Invalid input: expected string, received number",
    ]);
    await service.close();
  });

  it("registers every channel on ipcMain and removes them again", async () => {
    const registered = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
    const ipc: IpcMainLike = {
      handle: (channel, listener) => registered.set(channel, listener),
      removeHandler: (channel) => registered.delete(channel),
    };
    const service = {
      call: async (name: string, args: unknown) => ({ ok: true as const, result: { name, args } }),
    };
    const unbind = bindIpcHandlers(ipc, createIpcHandlers(service, trusted));
    expect(registered.size).toBe(Object.keys(contractCalls).length);
    const invoke = registered.get(`${IPC_CALL_PREFIX}jobs.cancel`)!;
    expect(await invoke(event(), { id: "j1" }, "ignored extra argument")).toEqual({
      ok: true,
      result: { name: "jobs.cancel", args: { id: "j1" } },
    });
    unbind();
    expect(registered.size).toBe(0);
  });

  it("forwards events to our window only, on the event channel, not while it loads", () => {
    const sent: [string, EventMessage][] = [];
    let loading = false;
    let contents:
      | { isDestroyed(): boolean; isLoading(): boolean; send(c: string, m: EventMessage): void }
      | undefined = {
      isDestroyed: () => false,
      isLoading: () => loading,
      send: (channel, message) => sent.push([channel, message]),
    };
    const sink = createEventForwarder(() => contents);
    const notice: EventMessage = { event: "engine.notice", payload: { level: "info", message: "hi" } };
    sink.send(notice);
    loading = true;
    sink.send(notice);
    contents = undefined;
    sink.send(notice);
    expect(sent).toEqual([[IPC_EVENT_CHANNEL, notice]]);
  });
});
