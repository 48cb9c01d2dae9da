import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { parseCsv } from "../../src-main/engine/run/results/csv.js";
import { repoPath } from "./tempDir.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs the built CLI (`npm test` builds dist/ first) as a real process, as users and CI do. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath("bin", "madengine-cli"), ...args], {
      cwd: options.cwd ?? repoPath(),
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** A private copy of the bundled example zoo (runs write into the MAD root). */
export function copyBundledZoo(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "madengine-zoo-"));
  cpSync(repoPath("assets", "zoo"), dir, { recursive: true });
  return dir;
}

/** The rows of a perf.csv, each keyed by column name. */
export function readPerfRows(dir: string, file = "perf.csv"): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(path.join(dir, file), "utf8"));
  return rows.map((row) => Object.fromEntries(header!.map((name, index) => [name, row[index] ?? ""])));
}

/**
 * A factory of workspaces for one test file: each a private zoo copy (the MAD root) and an output
 * directory beside it; all are removed after the file's tests.
 */
export function zooWorkspaces(): () => { zoo: string; cwd: string } {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const zoo = copyBundledZoo();
    const cwd = `${zoo}-out`;
    mkdirSync(cwd);
    made.push(zoo, cwd);
    return { zoo, cwd };
  };
}

/** Adds models to a zoo copy that sleep `args` seconds (the zoo's run_sleep.sh) under their own tag. */
export function addSleepingModels(
  zoo: string,
  models: { name: string; seconds: number; timeout?: number }[],
): void {
  const file = path.join(zoo, "models.json");
  const existing = JSON.parse(readFileSync(file, "utf8")) as object[];
  for (const { name, seconds, timeout } of models) {
    existing.push({
      name,
      url: "",
      dockerfile: "docker/dummy",
      scripts: "scripts/dummy/run_sleep.sh",
      n_gpus: "1",
      owner: "test@example.com",
      training_precision: "",
      tags: [name],
      args: String(seconds),
      timeout: timeout ?? 600,
    });
  }
  writeFileSync(file, JSON.stringify(existing, null, 2));
}
