import { describe, expect, it } from "vitest";
import { createWindowOptions } from "../../../src-main/electron/windowOptions.js";

describe("createWindowOptions", () => {
  it("locks every window down: isolated, sandboxed, no Node, web security, no webview, no mixed content", () => {
    const options = createWindowOptions({ preload: "/app/dist/electron/preload.cjs", devTools: false });
    expect(options.webPreferences).toEqual({
      preload: "/app/dist/electron/preload.cjs",
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: false,
    });
    expect(options.show).toBe(false); // shown on ready-to-show: no white flash
    expect(options.title).toBe("madengine Control Center");
  });

  it("turns DevTools on only when asked (development)", () => {
    expect(createWindowOptions({ preload: "/p.cjs", devTools: true }).webPreferences?.devTools).toBe(true);
  });
});
