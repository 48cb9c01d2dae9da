/**
 * Real Chromium for renderer tests: Debian's /usr/bin/chromium driven by playwright-core, headless,
 * with a fresh profile in a temp folder and the flags that keep it from calling outside hosts.
 * A missing Chromium is a test failure, never a skip.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.MADENGINE_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(options: { colorScheme?: "dark" | "light" } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set MADENGINE_CHROMIUM`,
    );
  }
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), "madengine-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    colorScheme: options.colorScheme ?? "dark",
    acceptDownloads: true,
  });
  // nothing but 127.0.0.0/8 (and in-page blob:/data:) may be fetched
  await context.route(/.*/, (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "blob:" || url.protocol === "data:" || url.protocol === "file:")
      return route.continue();
    if (/^127\.\d+\.\d+\.\d+$/.test(url.hostname) || url.hostname === "localhost") return route.continue();
    return route.abort("blockedbyclient");
  });
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Collects CSP violations reported in the page (the built app must need none). */
export async function watchCspViolations(page: Page): Promise<() => Promise<string[]>> {
  // a string script: the root tsconfig has no DOM lib for test code
  await page.addInitScript({
    content: `window.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (event) => {
        window.__cspViolations.push(event.violatedDirective + ": " + (event.blockedURI || event.sample));
      });`,
  });
  return async () => (await page.evaluate("window.__cspViolations || []")) as string[];
}

export const SCREENSHOT_DIR = path.resolve("test-results/screenshots");
