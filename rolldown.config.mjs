// Bundles the compiled CLI (dist/src-main) into dist/bundle: one CommonJS file per lazily loaded
// command, with zod and commander inlined. Fewer, larger modules start noticeably faster on Node 20,
// and bin/load-bundle.cjs gives them V8's code cache (Node 20 has no compile cache of its own). Packages with native parts or heavy optional transports stay external; tar-stream (pure JS,
// ~14 small files) is inlined.
// dockerode (with docker-modem, tar-fs, readable-stream and their ~45 small CommonJS files) is also
// bundled, on its own, into dist/bundle/dockerode.vendor.cjs, which loadDockerode() prefers: one file
// to resolve and compile instead of ~45 halves its load (~10 ms of CPU of every command that talks to
// Docker: 9.8 instead of 19.4 ms, 40 interleaved runs each on the testbed machine). Its two
// transports that we never use (gRPC BuildKit sessions, ssh2) are left out, as loadDockerode() does
// when it loads dockerode from node_modules.
import { createRequire } from "node:module";
import { defineConfig } from "rolldown";

const require = createRequire(import.meta.url);
const external = /^(node:|dockerode|docker-modem|ssh2|cpu-features|better-sqlite3|electron)/;

/** `./session` in dockerode and `./ssh` in docker-modem become modules that throw if ever called. */
const unusedTransports = {
  name: "unused-dockerode-transports",
  resolveId(id, importer) {
    if (/^\.\/session(\.js)?$/.test(id) && importer?.includes("/dockerode/")) return "\0unused:session";
    if (/^\.\/ssh(\.js)?$/.test(id) && importer?.includes("/docker-modem/")) return "\0unused:ssh";
    return undefined;
  },
  load(id) {
    if (id === "\0unused:session") {
      return 'module.exports = () => { throw new Error("BuildKit sessions are not used by madengine-cli"); };';
    }
    if (id === "\0unused:ssh") {
      return 'module.exports = () => { throw new Error("docker-modem\'s ssh transport is not used by madengine-cli"); };';
    }
    return undefined;
  },
};

/**
 * docker-modem formats every request's options with util.inspect (showHidden, unlimited depth) for
 * its debug log even when that log is off; those options hold our HTTP agent and, through it, every
 * socket it keeps. Formatting only when DEBUG enables the "modem" log saves that CPU on every call.
 */
const inspectOnlyWhenDebugging = {
  name: "docker-modem-inspect-only-when-debugging",
  transform(code, id) {
    if (!/docker-modem[\\/]lib[\\/]modem\.js$/.test(id)) return undefined;
    const call = "debug('Sending: %s', util.inspect(options, {";
    if (!code.includes(call)) throw new Error(`${id}: the debug call this plugin guards has changed`);
    return { code: code.replace(call, `debug.enabled && ${call}`), map: null };
  },
};

export default defineConfig([
  {
    input: "dist/src-main/cli/main.js",
    platform: "node",
    external: (id) => external.test(id),
    // CommonJS, so that bin/load-bundle.cjs can compile each chunk with V8's code cache (vm.Script)
    output: {
      dir: "dist/bundle",
      format: "cjs",
      entryFileNames: "[name].cjs",
      chunkFileNames: "[name]-[hash].cjs",
      // strict mode, as the ES modules (and the CommonJS packages inlined in them) ran before
      strict: true,
      sourcemap: true,
    },
  },
  {
    input: { "dockerode.vendor": require.resolve("dockerode") },
    platform: "node",
    // builtins; and what the transports above would need (never loaded)
    external: (id) => /^(node:|ssh2|cpu-features|@grpc\/|protobufjs)/.test(id),
    plugins: [unusedTransports, inspectOnlyWhenDebugging],
    output: { dir: "dist/bundle", format: "cjs", entryFileNames: "[name].cjs" },
  },
]);
