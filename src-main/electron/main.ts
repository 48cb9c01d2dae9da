import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  type Session,
  session,
  shell,
  type WebContents,
} from "electron";
import { AppService } from "../app/appService.js";
import { bundledZooPath } from "../engine/util/packagePaths.js";
import { installContentSecurityPolicy } from "./csp.js";
import { bindIpcHandlers, createEventForwarder, createIpcHandlers } from "./ipcBinding.js";
import { isAllowedRequest, isSafeExternalUrl } from "./navigation.js";
import { createWindowOptions } from "./windowOptions.js";

/**
 * The desktop app's main process: one window showing the built renderer from disk, the contract
 * bound to IPC (one handler per call, each checking its sender), the service's events forwarded to
 * that window only. Everything the renderer may do goes through the contract; everything else is
 * refused: navigation, new windows, permissions, remote content.
 */

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/electron
const rendererDir = path.join(here, "..", "renderer");
const indexHtml = path.join(rendererDir, "index.html");
const preload = path.join(here, "preload.cjs");
const PRODUCT_NAME = "madengine Control Center";

/** In a packaged app, files listed in asarUnpack live beside the archive: python needs real files. */
function unpacked(file: string): string {
  return file.replace(/app\.asar(?=[\\/])/, "app.asar.unpacked");
}

let mainWindow: BrowserWindow | undefined;
let service: AppService | undefined;
let quitting = false;

function hardenWebContents(contents: WebContents): void {
  // one page: routes change in-page (no will-navigate); any real navigation is refused
  contents.on("will-navigate", (event) => event.preventDefault());
  contents.on("will-redirect", (event) => event.preventDefault());
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) void shell.openExternal(url);
    return { action: "deny" };
  });
}

function lockDownSession(target: Session): void {
  // notifications (a long build or run ended) are the one permission the app's own page gets
  target.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === "notifications"),
  );
  target.setPermissionCheckHandler((_contents, permission) => permission === "notifications");
  target.setDevicePermissionHandler(() => false);
  target.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !isAllowedRequest(details.url, rendererDir) });
  });
  installContentSecurityPolicy(target);
}

function createWindow(): void {
  const window = new BrowserWindow(createWindowOptions({ preload, devTools: !app.isPackaged }));
  mainWindow = window;
  window.once("ready-to-show", () => window.show());
  window.on("closed", () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  window.loadFile(indexHtml).catch((error: unknown) => {
    console.error(`${PRODUCT_NAME}: cannot load ${indexHtml} (run npm run build):`, error);
  });
}

function start(): void {
  lockDownSession(session.defaultSession);
  const appService = new AppService({
    workspaceDir: app.getPath("userData"),
    dataDir: app.getPath("userData"),
    defaultMadRoot: unpacked(bundledZooPath()),
  });
  service = appService;
  // the one call the desktop answers itself: a native folder picker for the MAD root
  const desktopService = {
    call: async (name: string, args: unknown) => {
      if (name !== "dialog.pickDirectory" || !mainWindow) return appService.call(name, args);
      const title = (args as { title?: string }).title ?? "Open a MAD root";
      const picked = await dialog.showOpenDialog(mainWindow, { title, properties: ["openDirectory"] });
      const folder = picked.canceled ? undefined : picked.filePaths[0];
      return { ok: true as const, result: { supported: true, ...(folder ? { path: folder } : {}) } };
    },
  };
  const handlers = createIpcHandlers(desktopService, {
    webContentsId: () => mainWindow?.webContents.id,
    indexHtml,
  });
  bindIpcHandlers(ipcMain, handlers);
  appService.subscribe(createEventForwarder(() => mainWindow?.webContents));
  createWindow();
  app.on("activate", () => {
    if (!mainWindow) createWindow();
  });
}

app.setName(PRODUCT_NAME);
app.setPath("userData", path.join(app.getPath("appData"), PRODUCT_NAME));
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on("second-instance", () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on("web-contents-created", (_event, contents) => hardenWebContents(contents));
  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit();
  });
  app.on("before-quit", (event) => {
    // running jobs are cancelled first: a run's container is stopped, not left behind
    if (quitting || !service) return;
    event.preventDefault();
    quitting = true;
    void service.close(10_000).finally(() => app.quit());
  });
  app.whenReady().then(start, (error: unknown) => {
    console.error(`${PRODUCT_NAME}: cannot start:`, error);
    app.exit(1);
  });
}
