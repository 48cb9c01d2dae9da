/**
 * Builds the renderer (or the LogViewer harness) with Vite into a folder, and serves a folder of
 * static files on 127.0.0.1 for tests and the benchmark.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { build } from "vite";

const REPO = path.resolve(import.meta.dirname, "../../..");

async function viteBuild(configFile: string, outDir: string): Promise<string> {
  // vitest sets NODE_ENV=test, and Vite would then bundle React's development build: test what ships
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({
      configFile,
      mode: "production",
      logLevel: "warn",
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

/** The real renderer, built into a temp folder (or `outDir`). */
export async function buildRenderer(outDir?: string): Promise<string> {
  const dir = outDir ?? (await mkdtemp(path.join(os.tmpdir(), "madengine-renderer-")));
  return viteBuild(path.join(REPO, "src-renderer/vite.config.ts"), dir);
}

/** The LogViewer harness page (src-renderer/harness), built into a temp folder. */
export async function buildHarness(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "madengine-harness-"));
  return viteBuild(path.join(REPO, "src-renderer/harness/vite.config.ts"), dir);
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

export async function serveStatic(dir: string): Promise<StaticServer> {
  const root = path.resolve(dir);
  const server = http.createServer(async (request, response) => {
    const pathname = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    const file = path.resolve(root, pathname === "/" ? "index.html" : decodeURIComponent(pathname.slice(1)));
    if (!file.startsWith(root + path.sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const content = await readFile(file);
      response
        .writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream" })
        .end(content);
    } catch {
      response.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
