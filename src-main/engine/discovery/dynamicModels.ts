import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import { parseJsonText } from "../../../shared/schemas/validate.js";
import { assetPath } from "../util/packagePaths.js";
import {
  beginDiscoveryCacheWrite,
  type DiscoveryCacheContext,
  discoveryCacheEnabled,
  type PythonDeps,
  readDiscoveryCache,
} from "./discoveryCache.js";

export interface DynamicModelsOptions {
  /** Python interpreter to run (default `python3`). */
  python?: string;
  /** Wall clock for one get_models_json.py, in ms (default 30 s). */
  timeoutMs?: number;
  /**
   * Reuse (and record) the output of an unchanged script from the on-disk discovery cache (default
   * true, unless MADENGINE_DISCOVERY_CACHE=0 or --no-discovery-cache; see discoveryCache.ts).
   */
  cache?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const STDERR_TAIL_LINES = 12;

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

/**
 * Runs `scripts/<dir>/get_models_json.py` in a python3 subprocess, with our `madengine` shim on
 * PYTHONPATH, and returns the raw model dicts (after each model's `update_model()` hook).
 * The script's own output goes to stderr and is quoted in errors.
 */
const prefetched = new Map<string, Promise<unknown>>();

/**
 * Starts every `scripts/<dir>/get_models_json.py` of a zoo right away, before the rest of the CLI has
 * loaded; discovery later picks up the running processes instead of starting new ones. Python's start
 * (slow behind version-manager shims) then overlaps Node's module loading.
 */
export function prefetchDynamicModels(madRoot: string): void {
  const scriptsDir = path.join(path.resolve(madRoot), "scripts");
  let dirs: string[];
  try {
    dirs = readdirSync(scriptsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return;
  }
  for (const dir of dirs) {
    const file = path.join(scriptsDir, dir, "get_models_json.py");
    if (!existsSync(file) || existsSync(path.join(scriptsDir, dir, "models.json"))) continue;
    const pending = startDynamicModels(file, `scripts/${dir}/get_models_json.py`, {});
    pending.catch(() => {}); // reported when discovery consumes it
    prefetched.set(file, pending);
  }
}

export function loadDynamicModels(
  scriptFile: string,
  displayName: string,
  options: DynamicModelsOptions = {},
): Promise<unknown> {
  const early =
    options.python === undefined && options.timeoutMs === undefined && options.cache === undefined
      ? prefetched.get(scriptFile)
      : undefined;
  if (early) {
    prefetched.delete(scriptFile);
    return early;
  }
  return startDynamicModels(scriptFile, displayName, options);
}

function startDynamicModels(
  scriptFile: string,
  displayName: string,
  options: DynamicModelsOptions,
): Promise<unknown> {
  const python = options.python ?? process.env.MADENGINE_PYTHON ?? "python3";
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const shimDir = assetPath("python");
  const runner = path.join(shimDir, "list_dynamic_models.py");
  const pythonPath = [shimDir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  const env = { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: "1" };

  let cacheWrite: ReturnType<typeof beginDiscoveryCacheWrite> | undefined;
  if (options.cache ?? discoveryCacheEnabled()) {
    const cacheContext: DiscoveryCacheContext = {
      script: path.resolve(scriptFile),
      python,
      pythonEnv: env,
      runnerFiles: [runner],
    };
    const hit = readDiscoveryCache(cacheContext);
    if (hit) return Promise.resolve(hit.models);
    cacheWrite = beginDiscoveryCacheWrite(cacheContext);
  }

  return new Promise((resolve, reject) => {
    const child = spawn(python, cacheWrite ? [runner, "--with-deps", scriptFile] : [runner, scriptFile], {
      cwd: path.dirname(scriptFile),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === "ENOENT") {
        reject(
          new MadError("DISCOVERY_FAILED", `${displayName}: cannot run it: '${python}' was not found`, {
            file: displayName,
            hint: "install python3 (apt-get install python3), set MADENGINE_PYTHON to an interpreter, or remove the file",
            cause: error,
          }),
        );
      } else {
        reject(
          new MadError("DISCOVERY_FAILED", `${displayName}: cannot run ${python}: ${error.message}`, {
            file: displayName,
            cause: error,
          }),
        );
      }
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const errText = Buffer.concat(stderr).toString("utf8");
      if (timedOut) {
        reject(
          new MadError(
            "DISCOVERY_FAILED",
            `${displayName}: did not finish within ${timeoutMs / 1000} s and was stopped`,
            {
              file: displayName,
              hint: "make list_models() return without waiting on the network or on input",
            },
          ),
        );
        return;
      }
      if (code !== 0) {
        const tail = lastLines(errText, STDERR_TAIL_LINES);
        reject(
          new MadError(
            "DISCOVERY_FAILED",
            `${displayName}: failed with exit code ${code}${tail ? `:\n${tail}` : ""}`,
            {
              file: displayName,
              hint: `fix the Python error above, or run: python3 ${displayName}`,
            },
          ),
        );
        return;
      }
      try {
        const output = parseJsonText(
          Buffer.concat(stdout).toString("utf8"),
          `${displayName} (list_models output)`,
          "DISCOVERY_FAILED",
        );
        if (!cacheWrite) {
          resolve(output);
          return;
        }
        const { models, deps } = output as { models: unknown; deps: PythonDeps };
        cacheWrite.store(models, deps);
        resolve(models);
      } catch (error) {
        reject(error);
      }
    });
  });
}
