import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * On-disk cache of what a zoo's `scripts/<dir>/get_models_json.py` returned, so that a repeated
 * discovery (every `build`, `run --tags`, `discover`) does not start Python at all.
 *
 * The rule (conservative: anything not provably unchanged is a miss and Python runs again):
 *  * the entry is keyed by the script's absolute path, the interpreter command and this tool's runner;
 *  * it is reused only when all of these are unchanged since Python ran:
 *    - the content of every file under the script's directory (scripts/<dir>, recursively, without
 *      __pycache__; files over 1 MiB by size, mtime and inode), and the directory's listing;
 *    - every file the script opened while it ran, found or not (itself, the modules it imported,
 *      data files), by content, and every directory it listed (os.listdir / scandir / glob), by
 *      listing; recorded in Python with an audit hook (assets/python/list_dynamic_models.py);
 *    - every environment variable it read (os.environ / os.getenv), set or unset;
 *    - the interpreter: PATH, PYTHON*, PYENV_*, VIRTUAL_ENV, CONDA_* and LD_* variables, the command
 *      as found on PATH and the real executable (size, mtime, inode), pyenv version files
 *      (.python-version in the script's directory and above, $PYENV_ROOT/version), and the
 *      runner and madengine shim shipped with this tool;
 *  * it is never written when the script ran a process, opened a socket, wrote a file, read /proc,
 *    /sys or /dev, loaded a C library, changed directory or enumerated the whole environment, or
 *    when the script's directory changed while it ran; failures are never cached.
 * Not detected: output that depends on the clock, randomness, or the mere existence (os.stat,
 * os.path.exists) of a path outside scripts/<dir>. For such scripts, bypass the cache with
 * MADENGINE_DISCOVERY_CACHE=0 or `--no-discovery-cache`.
 * Entries live in $XDG_CACHE_HOME/madengine-control-center/discovery (else ~/.cache/...), or in
 * MADENGINE_DISCOVERY_CACHE_DIR; deleting the directory is always safe.
 */

const FORMAT = 1;
const HASH_LIMIT = 1024 * 1024;
const TREE_LIMIT = 2000;
const ENV_KEYS = /^(PATH|PYTHON.*|PYENV.*|VIRTUAL_ENV|CONDA_.*|LD_.*)$/;

/** What the runner reports with `--with-deps`. */
export interface PythonDeps {
  files: string[];
  dirs: string[];
  env: Record<string, string | null>;
  uncacheable: string[];
  executable: string;
}

interface CacheEntry {
  format: number;
  script: string;
  python: string;
  files: string[];
  dirs: string[];
  envKeys: string[];
  executable: string;
  fingerprint: string;
  models: unknown;
}

let disabledByFlag = false;

/** `--no-discovery-cache`: no entry is read or written in this process. */
export function disableDiscoveryCache(): void {
  disabledByFlag = true;
}

export function discoveryCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (disabledByFlag) return false;
  const value = (env.MADENGINE_DISCOVERY_CACHE ?? "").trim().toLowerCase();
  return !["0", "false", "no", "off"].includes(value);
}

export function discoveryCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MADENGINE_DISCOVERY_CACHE_DIR) return path.resolve(env.MADENGINE_DISCOVERY_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), ".cache");
  return path.join(base, "madengine-control-center", "discovery");
}

function entryFile(cacheDir: string, context: DiscoveryCacheContext): string {
  // one entry per script, interpreter and installation of this tool (its runner): two checkouts
  // of the tool used in turn on one zoo keep their own entries
  const key = [context.script, context.python, ...context.runnerFiles].join("\0");
  const name = createHash("sha256").update(key).digest("hex").slice(0, 32);
  return path.join(cacheDir, `${name}.json`);
}

/** A file's content hash (by size, mtime and inode when over 1 MiB), "-" when it cannot be read. */
function fileSignature(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EISDIR" ? dirSignature(file) : "-";
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return dirSignature(file);
    if (stat.size > HASH_LIMIT) return `s${stat.size}:${stat.mtimeMs}:${stat.ino}`;
    const buffer = Buffer.allocUnsafe(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return createHash("sha256").update(buffer.subarray(0, read)).digest("base64");
  } catch {
    return "-";
  } finally {
    closeSync(fd);
  }
}

function statSignature(file: string): string {
  try {
    const stat = statSync(file);
    return `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
  } catch {
    return "-";
  }
}

function dirSignature(dir: string): string {
  try {
    return `d${readdirSync(dir).sort().join("/")}`;
  } catch {
    return "-";
  }
}

/** Every file under `dir` (not __pycache__) with its signature; undefined when there are too many. */
function treeSignature(dir: string): string | undefined {
  const parts: string[] = [];
  const walk = (current: string, prefix: string): boolean => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      parts.push(`${prefix}!`);
      return true;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name === "__pycache__") continue;
      if (parts.length >= TREE_LIMIT) return false;
      const full = path.join(current, entry.name);
      const rel = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        parts.push(`${rel}/`);
        if (!walk(full, `${rel}/`)) return false;
      } else {
        parts.push(`${rel}=${fileSignature(full)}`);
      }
    }
    return true;
  };
  return walk(dir, "") ? parts.join("\n") : undefined;
}

/** Where `command` runs from: itself when it names a path, else the first match on PATH. */
function resolveCommand(command: string, env: NodeJS.ProcessEnv): string {
  if (command.includes("/")) return path.resolve(command);
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return `?${command}`;
}

/** Interpreter identity, environment and everything that does not depend on the recorded deps. */
function baseFingerprint(
  script: string,
  python: string,
  pythonEnv: NodeJS.ProcessEnv,
  runnerFiles: readonly string[],
): string | undefined {
  const scriptDir = path.dirname(script);
  const tree = treeSignature(scriptDir);
  if (tree === undefined) return undefined;
  const parts = [`format ${FORMAT}`, `script ${script}`, `python ${python}`];
  const resolved = resolveCommand(python, pythonEnv);
  parts.push(`resolved ${resolved} ${statSignature(resolved)}`);
  for (const key of Object.keys(pythonEnv)
    .filter((k) => ENV_KEYS.test(k))
    .sort()) {
    parts.push(`env ${key}=${pythonEnv[key]}`);
  }
  for (let dir = scriptDir; ; dir = path.dirname(dir)) {
    parts.push(`pyver ${dir} ${fileSignature(path.join(dir, ".python-version"))}`);
    if (path.dirname(dir) === dir) break;
  }
  const pyenvRoot = pythonEnv.PYENV_ROOT ?? path.join(os.homedir(), ".pyenv");
  parts.push(`pyenv ${fileSignature(path.join(pyenvRoot, "version"))}`);
  for (const file of runnerFiles) parts.push(`runner ${file} ${fileSignature(file)}`);
  parts.push(`tree\n${tree}`);
  return parts.join("\n");
}

function depsFingerprint(
  base: string,
  entry: Pick<CacheEntry, "files" | "dirs" | "envKeys" | "executable">,
  pythonEnv: NodeJS.ProcessEnv,
): string {
  const parts = [base, `executable ${entry.executable} ${statSignature(entry.executable)}`];
  for (const file of entry.files) parts.push(`file ${file} ${fileSignature(file)}`);
  for (const dir of entry.dirs) parts.push(`dir ${dir} ${dirSignature(dir)}`);
  for (const key of entry.envKeys) parts.push(`env ${key}=${pythonEnv[key] ?? "\0unset"}`);
  return createHash("sha256").update(parts.join("\n")).digest("base64");
}

export interface DiscoveryCacheContext {
  script: string;
  python: string;
  /** The environment the interpreter runs with. */
  pythonEnv: NodeJS.ProcessEnv;
  /** The runner and shim files shipped with the tool (part of the key). */
  runnerFiles: readonly string[];
  cacheDir?: string;
}

/** The cached models of a script, or undefined on a miss (any doubt is a miss). */
export function readDiscoveryCache(context: DiscoveryCacheContext): { models: unknown } | undefined {
  const file = entryFile(context.cacheDir ?? discoveryCacheDir(), context);
  let entry: CacheEntry;
  try {
    entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
  } catch {
    return undefined;
  }
  if (
    entry.format !== FORMAT ||
    entry.script !== context.script ||
    entry.python !== context.python ||
    !Array.isArray(entry.files) ||
    !Array.isArray(entry.dirs) ||
    !Array.isArray(entry.envKeys)
  ) {
    return undefined;
  }
  const base = baseFingerprint(context.script, context.python, context.pythonEnv, context.runnerFiles);
  if (base === undefined) return undefined;
  if (depsFingerprint(base, entry, context.pythonEnv) !== entry.fingerprint) return undefined;
  return { models: entry.models };
}

/**
 * Taken before Python starts; `store` then writes the entry unless the script did something that
 * makes its output unverifiable, or its directory changed while it ran.
 */
export function beginDiscoveryCacheWrite(context: DiscoveryCacheContext): {
  store(models: unknown, deps: PythonDeps): void;
} {
  const before = baseFingerprint(context.script, context.python, context.pythonEnv, context.runnerFiles);
  return {
    store(models, deps) {
      if (before === undefined || deps.uncacheable.length > 0) return;
      const after = baseFingerprint(context.script, context.python, context.pythonEnv, context.runnerFiles);
      if (after !== before) return;
      const shape = {
        files: [...deps.files].sort(),
        dirs: [...deps.dirs].sort(),
        envKeys: Object.keys(deps.env).sort(),
        executable: deps.executable,
      };
      // a variable the script read must have had, when it ran, the value it has for us now
      for (const key of shape.envKeys) {
        if ((context.pythonEnv[key] ?? null) !== deps.env[key]) return;
      }
      const entry: CacheEntry = {
        format: FORMAT,
        script: context.script,
        python: context.python,
        ...shape,
        fingerprint: depsFingerprint(before, shape, context.pythonEnv),
        models,
      };
      const cacheDir = context.cacheDir ?? discoveryCacheDir();
      const file = entryFile(cacheDir, context);
      try {
        mkdirSync(cacheDir, { recursive: true });
        const temp = `${file}.${process.pid}.tmp`;
        writeFileSync(temp, JSON.stringify(entry));
        renameSync(temp, file);
      } catch {
        // a cache that cannot be written only costs the next run a Python start
      }
    },
  };
}
