import type { BrowserWindowConstructorOptions } from "electron";

export interface WindowOptionsInput {
  /** Absolute path of the bundled preload (dist/electron/preload.cjs). */
  preload: string;
  /** DevTools: on in development, off in a packaged build. */
  devTools: boolean;
}

/**
 * The one place a window's options are made, so every window is locked down the same way: an
 * isolated, sandboxed renderer without Node, with web security on, no <webview>, no mixed content,
 * and only the preload's contract API to talk to the main process.
 */
export function createWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: "madengine Control Center",
    backgroundColor: "#15171c",
    autoHideMenuBar: true,
    webPreferences: {
      preload: input.preload,
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
      devTools: input.devTools,
    },
  };
}
