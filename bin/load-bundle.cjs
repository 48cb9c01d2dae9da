// Loads the CLI bundle (dist/bundle, CommonJS chunks) with V8's code cache: Node 20 has no compile
// cache of its own (module.enableCompileCache and NODE_COMPILE_CACHE came in Node 22), so each
// chunk is compiled through vm.Script with the cached data of an earlier run, and a chunk that had
// none (or whose cache V8 rejected) has its cache written when the process exits. The cache holds
// the functions the run compiled, so a repeated command skips nearly all parsing and compiling:
// about half the CPU time of a `build` that has nothing to build.
//
// Entries live in $XDG_CACHE_HOME/madengine-control-center/v8/<node version>-<arch>/<install> (else
// ~/.cache/...), one per chunk, named by the chunk's size, mtime and inode, so a rebuilt bundle
// never meets a stale entry (V8 itself also rejects data from another V8 version or flags); entries
// of replaced chunks are removed when new ones are written.
// MADENGINE_CODE_CACHE=0 turns it off; any failure to read or write the cache only means compiling.
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const os = require("node:os");
const path = require("node:path");
const vm = require("node:vm");

const bundleDir = path.resolve(__dirname, "..", "dist", "bundle");

function cacheDir(env) {
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), ".cache");
  // one directory per installation: pruning below never touches another checkout's entries
  const install = createHash("sha256").update(bundleDir).digest("hex").slice(0, 12);
  return path.join(base, "madengine-control-center", "v8", `${process.version}-${process.arch}`, install);
}

function enabled(env) {
  const value = (env.MADENGINE_CODE_CACHE ?? "").trim().toLowerCase();
  return !["0", "false", "no", "off"].includes(value);
}

function installCodeCache() {
  // dynamic import() inside vm.Script needs this (Node >= 20.17); without it, load as usual
  const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (!importModuleDynamically || !enabled(process.env)) return;
  const dir = cacheDir(process.env);
  const fresh = [];
  const defaultLoader = Module._extensions[".cjs"] ?? Module._extensions[".js"];
  Module._extensions[".cjs"] = function loadBundleChunk(module, filename) {
    if (path.dirname(filename) !== bundleDir) return defaultLoader(module, filename);
    const source = fs.readFileSync(filename, "utf8");
    const stat = fs.statSync(filename);
    const entry = path.join(
      dir,
      `${path.basename(filename)}-${stat.size}-${Math.trunc(stat.mtimeMs)}-${stat.ino}`,
    );
    let cachedData;
    try {
      cachedData = fs.readFileSync(entry);
    } catch {
      cachedData = undefined;
    }
    const script = new vm.Script(
      `(function (exports, require, module, __filename, __dirname) { ${source}\n})`,
      { filename, cachedData, importModuleDynamically },
    );
    if (cachedData === undefined || script.cachedDataRejected) fresh.push({ entry, script });
    const wrapper = script.runInThisContext({ displayErrors: true });
    const require = Module.createRequire(filename);
    wrapper.call(module.exports, module.exports, require, module, filename, bundleDir);
    module.loaded = true;
  };
  process.once("exit", () => {
    if (fresh.length === 0) return;
    try {
      fs.mkdirSync(dir, { recursive: true });
      for (const { entry, script } of fresh) {
        const temp = `${entry}.${process.pid}.tmp`;
        fs.writeFileSync(temp, script.createCachedData());
        fs.renameSync(temp, entry);
      }
      // entries of chunks that a rebuild replaced
      const current = new Set(fresh.map(({ entry }) => path.basename(entry)));
      const chunks = new Set(fs.readdirSync(bundleDir));
      for (const name of fs.readdirSync(dir)) {
        const chunk = name.slice(0, name.indexOf(".cjs-") + 4);
        const stale =
          !chunks.has(chunk) || fresh.some(({ entry }) => path.basename(entry).startsWith(`${chunk}-`));
        if (stale && !current.has(name) && !name.endsWith(".tmp"))
          fs.rmSync(path.join(dir, name), { force: true });
      }
    } catch {
      // an unwritable cache only means compiling again next time
    }
  });
}

/** The CLI's main(argv), from dist/bundle/main.cjs. */
function loadBundle() {
  installCodeCache();
  return require(path.join(bundleDir, "main.cjs"));
}

module.exports = { loadBundle, bundleDir };
