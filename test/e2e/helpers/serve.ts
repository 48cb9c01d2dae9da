/**
 * Starts the real `madengine-cli serve` (bin/madengine-cli: the built CLI) as a child process on
 * 127.0.0.1 with a free port, and reads the address (with its token) from its first line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "../../..");
export const CLI = path.join(REPO, "bin", "madengine-cli");

export interface Served {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote, for failure messages. */
  output(): string;
}

export async function startServe(options: {
  dockerHost: string;
  workspace: string;
  madRoot?: string;
  /** The user's data (results history, nodes, audit log); default `<workspace>/data`. */
  dataDir?: string;
  /** Extra arguments for `serve` (e.g. --nodes FILE). */
  extraArgs?: string[];
  /** Extra environment for the server. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<Served> {
  const args = [
    CLI,
    "serve",
    "--host",
    "127.0.0.1",
    "--workspace",
    options.workspace,
    "--data-dir",
    options.dataDir ?? path.join(options.workspace, "data"),
    ...(options.extraArgs ?? []),
  ];
  if (options.madRoot) args.push("--mad-root", options.madRoot);
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, DOCKER_HOST: options.dockerHost, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `madengine-cli serve printed no address within ${options.timeoutMs ?? 20_000} ms:\n${output}`,
          ),
        ),
      options.timeoutMs ?? 20_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /madengine Control Center: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`madengine-cli serve exited with ${code} before printing its address:\n${output}`));
    });
  });
  return { url, child, output: () => output };
}

/** SIGTERM (serve cancels running jobs and closes), then SIGKILL if it lingers. */
export async function stopServe(served: Served | undefined, graceMs = 15_000): Promise<void> {
  if (!served || served.child.exitCode !== null || served.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => served.child.once("exit", () => resolve()));
  served.child.kill("SIGTERM");
  const timer = setTimeout(() => served.child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
