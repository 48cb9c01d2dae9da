// Bundles the compiled CLI (dist/src-main) into dist/bundle: one file per lazily loaded command, with
// zod and commander inlined. Fewer, larger modules start noticeably faster on Node 20 (no compile
// cache). Packages with native parts or heavy optional transports stay external.
import { defineConfig } from "rolldown";

const external = /^(node:|dockerode|docker-modem|ssh2|tar-stream|cpu-features|better-sqlite3|electron)/;

export default defineConfig({
  input: "dist/src-main/cli/main.js",
  platform: "node",
  external: (id) => external.test(id),
  output: { dir: "dist/bundle", format: "esm", sourcemap: true },
});
