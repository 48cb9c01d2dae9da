// Builds the renderer (React) to dist/renderer. base "./" so Electron can load it from file://.
// The Content-Security-Policy meta tag is added to the built page only: the dev server injects an
// inline React-refresh preamble that a strict policy would block.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

/** No inline scripts or styles, no remote content; connect-src 'self' covers the same-origin WebSocket. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join("; ");

function contentSecurityPolicy(): Plugin {
  return {
    name: "madengine-csp",
    apply: "build",
    transformIndexHtml: () => [
      {
        tag: "meta",
        attrs: { "http-equiv": "Content-Security-Policy", content: CONTENT_SECURITY_POLICY },
        injectTo: "head-prepend",
      },
    ],
  };
}

export default defineConfig({
  root,
  base: "./",
  plugins: [react(), contentSecurityPolicy()],
  build: {
    outDir: fileURLToPath(new URL("../dist/renderer", import.meta.url)),
    emptyOutDir: true,
    target: "chrome120",
    sourcemap: true,
    // one small app: keep everything in one chunk so file:// and the web bridge load the same files
    assetsInlineLimit: 0,
  },
});
