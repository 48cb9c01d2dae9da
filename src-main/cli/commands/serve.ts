import { spawn } from "node:child_process";
import path from "node:path";
import type { Command } from "commander";
import { ExitCode, MadError } from "../../../shared/errors.js";

export interface ServeCommandOptions {
  port?: string;
  host?: string;
  open?: boolean;
  allowRemote?: boolean;
  madRoot?: string;
  workspace?: string;
  dataDir?: string;
  nodes?: string;
  knownHosts?: string;
}

export interface ServeRuntime {
  /** Resolves when the server should stop (default: the first SIGINT or SIGTERM). */
  stop?: Promise<unknown>;
  /** Where the address and status lines go (default stdout). */
  write?: (text: string) => void;
}

/**
 * `madengine-cli serve`: the control center's renderer and typed API over HTTP + WebSocket, bound
 * to 127.0.0.1 with a random access token. The lead wires it into main.ts with
 * `registerServeCommand(program)`; the heavy modules load only when the command runs.
 */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve the control center in a browser (web dashboard on 127.0.0.1 with an access token)")
    .option("--port <port>", "port to listen on (default: a free one)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--open", "open the address in the system browser")
    .option(
      "--allow-remote",
      "allow an address other machines can reach (anyone with the token can run containers here)",
    )
    .option("--mad-root <dir>", "MAD root used when the app names none (default: the bundled example zoo)")
    .option("--workspace <dir>", "where jobs write their output (default: <tmpdir>/madengine-control-center)")
    .option(
      "--data-dir <dir>",
      "where the results history, nodes and audit log live (default: $XDG_DATA_HOME/madengine-control-center)",
    )
    .option("--nodes <file>", "the nodes file the Nodes screen manages (default: <data dir>/nodes.json)")
    .option(
      "--known-hosts <file>",
      "known_hosts for nodes that name none, read and appended by the Nodes screen's trust (default: ~/.ssh/known_hosts)",
    )
    .option("-v, --verbose", "debug output and stack traces on errors", false)
    .addHelpText(
      "after",
      `
Prints the address to open (it carries the access token) and stays up until Ctrl-C.
Every request needs the token; the page trades it for an HttpOnly cookie.

Examples:
  madengine-cli serve --open
  madengine-cli serve --port 7400 --mad-root ~/MAD
  ssh -L 7400:127.0.0.1:7400 gpu-box   # then open the printed address on your machine`,
    )
    .action(async (options: ServeCommandOptions) => {
      process.exitCode = await runServe(options);
    });
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MadError("INVALID_ARGS", `--port ${value}: expected a port number (0-65535)`, {
      hint: "e.g. --port 7400, or leave it out for a free port",
    });
  }
  return port;
}

/** Opens the address in the system browser; a missing opener is not an error. */
export function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(command, args as string[], { detached: true, stdio: "ignore" });
    child.on("error", () => {});
    child.unref();
  } catch {
    // no browser here: the address is printed anyway
  }
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // a second Ctrl-C while closing quits at once
      process.once("SIGINT", () => process.exit(130));
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

export async function runServe(options: ServeCommandOptions, runtime: ServeRuntime = {}): Promise<number> {
  const write = runtime.write ?? ((text: string) => process.stdout.write(text));
  const port = parsePort(options.port);
  const [{ AppService }, { startWebBridge }] = await Promise.all([
    import("../../app/appService.js"),
    import("../../serve/webBridge.js"),
  ]);
  const service = new AppService({
    ...(options.workspace ? { workspaceDir: options.workspace } : {}),
    ...(options.madRoot ? { defaultMadRoot: options.madRoot } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.nodes ? { nodesFile: options.nodes } : {}),
    ...(options.knownHosts ? { knownHostsFile: path.resolve(options.knownHosts) } : {}),
  });
  let bridge: Awaited<ReturnType<typeof startWebBridge>>;
  try {
    bridge = await startWebBridge({
      service,
      host: options.host ?? "127.0.0.1",
      port,
      allowNonLoopback: options.allowRemote === true,
    });
  } catch (error) {
    await service.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new MadError("INVALID_ARGS", `port ${port} is already in use`, {
        hint: "pick another --port, or leave it out for a free one",
      });
    }
    throw error;
  }
  write(`madengine Control Center: ${bridge.url}\n`);
  write(`jobs write to ${service.workspaceDir}; press Ctrl-C to stop\n`);
  if (options.open) openInBrowser(bridge.url);
  await (runtime.stop ?? untilSignal());
  write(
    "stopping: builds are cancelled; runs keep going and are picked up when serve starts again on this workspace\n",
  );
  await bridge.close();
  await service.close();
  return ExitCode.SUCCESS;
}
