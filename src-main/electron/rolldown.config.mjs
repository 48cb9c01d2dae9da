// Bundles the Electron main process and preload into dist/electron (run from the repository root:
// `rolldown -c src-main/electron/rolldown.config.mjs`). The main process is ESM and keeps external
// the packages with native parts and dockerode (loaded lazily from node_modules). The preload must
// be one CommonJS file: a sandboxed preload can require nothing but `electron`.
import { defineConfig } from "rolldown";

const external = /^(node:|electron$|dockerode|docker-modem|ssh2|tar-stream|cpu-features|better-sqlite3)/;

export default defineConfig([
  {
    input: "src-main/electron/main.ts",
    platform: "node",
    external: (id) => external.test(id),
    output: { file: "dist/electron/main.js", format: "esm", sourcemap: true },
  },
  {
    input: "src-main/electron/preload.ts",
    platform: "node",
    external: ["electron"],
    output: { file: "dist/electron/preload.cjs", format: "cjs", sourcemap: true },
  },
]);
