import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, Option } from "commander";
import { config as zodConfig } from "zod";
import { ExitCode } from "../../shared/errors.js";
import { disableDiscoveryCache } from "../engine/discovery/discoveryCache.js";
import { prefetchDynamicModels } from "../engine/discovery/dynamicModels.js";
import { packageRoot } from "../engine/util/packagePaths.js";
import { trace } from "../engine/util/trace.js";
import { registerGenerateCommands } from "./commands/generate.js";
import { registerResultsCommands } from "./commands/results.js";
import { registerServeCommand } from "./commands/serve.js";
import { addContextOptions, addPhaseSharedOptions, addVerboseOption, addZooOptions } from "./options.js";
import { reportError } from "./output/reportError.js";

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as {
    version?: string;
  };
  return manifest.version ?? "0.0.0";
}

function buildProgram(): Command {
  const program = new Command("madengine-cli")
    .description(
      "Build, ship and run AI-model benchmarks in Docker across GPU nodes (a TypeScript madengine-cli).\n" +
        "Run from a MAD checkout (models.json, scripts/, docker/) or pass --mad-root DIR.",
    )
    .version(`madengine-cli version ${packageVersion()}`, "--version", "print the version and exit")
    .option("-v, --verbose", "debug output and stack traces on errors", false)
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 error, 2 build failure, 3 run failure, 4 invalid arguments.

Examples:
  madengine-cli discover --mad-root assets/zoo
  madengine-cli discover --tags dummies --json
  madengine-cli discover --tags dummy_args:batch-size=32`,
    );

  const discover = program
    .command("discover")
    .description("list the models of a MAD zoo, or those selected by --tags, as a table (or JSON)")
    .option("--json", "print the selected models as a JSON array")
    .addHelpText(
      "after",
      `
Without --tags every model is listed. Models come from models.json, scripts/<dir>/models.json
(named <dir>/<name>) and scripts/<dir>/get_models_json.py (run with python3).`,
    );
  addVerboseOption(addZooOptions(discover));
  discover.action(async (options, command: Command) => {
    const { runDiscover } = await import("./commands/discover.js");
    process.exitCode = await runDiscover({ ...command.optsWithGlobals(), ...options });
  });

  const build = program
    .command("build")
    .description(
      "build Docker images for the selected models, push them to a registry, write build_manifest.json",
    )
    .option(
      "-r, --registry <registry>",
      "registry to push to, e.g. 127.0.0.1:5000 or docker.io (credentials from credential.json / MAD_DOCKERHUB_*)",
    )
    .option(
      "--clean-docker-cache",
      "rebuild without the Docker cache (also rebuilds unchanged images)",
      false,
    )
    .option("-m, --manifest-output <file>", "where to write the build manifest", "build_manifest.json")
    .option("-s, --summary-output <file>", "also write the build summary JSON here")
    .option("-j, --jobs <n>", "images built at once (default: up to 4, by CPU count)")
    .addHelpText(
      "after",
      `
Build needs the target in the context: gpu_vendor (AMD|NVIDIA|INTEL|NONE) and guest_os (UBUNTU|CENTOS|ROCKY).
An image whose Dockerfile, context files and build args are unchanged is not rebuilt.
Logs: <model>_<dockerfile>.build.live.log in the current directory.

Example:
  madengine-cli build --mad-root assets/zoo --tags dummies -c '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}' --registry 127.0.0.1:5000`,
    );
  addVerboseOption(addPhaseSharedOptions(addContextOptions(addZooOptions(build)), "build"));
  build.action(async (options, command: Command) => {
    const { runBuildCommand } = await import("./commands/build.js");
    trace("cli: build command loaded");
    process.exitCode = await runBuildCommand({ ...command.optsWithGlobals(), ...options }, command);
  });

  const run = program
    .command("run")
    .description(
      "run models from a build manifest (or build them first when --tags are given), append perf.csv",
    )
    .option("-m, --manifest-file <file>", "manifest to execute; without it, --tags are built and then run")
    .option(
      "-r, --registry <registry>",
      "pull from this registry instead of the one in the manifest (a mirror)",
    )
    .option(
      "--timeout <seconds>",
      "wall clock per model: 0 none, -1 the default (7200); a model's own timeout wins",
    )
    .option(
      "--keep-alive",
      "keep each container (and its run directory) after the model; prints exec/stop/rm commands",
      false,
    )
    .option("--keep-model-dir", "keep the model's run directory in the MAD root after the run", false)
    .option(
      "--skip-model-run",
      "prepare each container (scripts, pre-scripts, data) but do not run the model",
      false,
    )
    .option("--clean-docker-cache", "when building: rebuild without the Docker cache", false)
    .option("--manifest-output <file>", "when building: where to write the manifest", "build_manifest.json")
    .option(
      "-s, --summary-output <file>",
      "write the execution summary (or the build+run workflow summary) here",
    )
    .option("--junit-xml <file>", "write one JUnit test case per model run (for CI dashboards)")
    .option(
      "--resume <run-id>",
      "finish an interrupted run: re-attach to its containers, collect results, complete perf.csv",
    )
    .option("--nodes <file>", "run on the GPU nodes of this nodes file over SSH instead of locally")
    .option("--node <name...>", "with --nodes: only these nodes (repeatable)")
    .option("--label <key=value...>", "with --nodes: only nodes with these labels")
    .addOption(
      new Option(
        "--strategy <strategy>",
        "with --nodes: replicate runs every model on every node; distribute spreads them",
      )
        .choices(["replicate", "distribute"])
        .default("replicate"),
    )
    .option("--max-parallel <n>", "with --nodes: nodes running at once (default: all)")
    .option(
      "--trust-new-hosts",
      "with --nodes: accept and record host keys not yet in known_hosts (a changed key is still refused)",
    )
    .option(
      "--known-hosts <file>",
      "with --nodes: known_hosts file (default ~/.ssh/known_hosts, or each node's knownHostsFile)",
    )
    .option(
      "--ssh-keepalive <seconds>",
      "with --nodes: SSH keepalive interval; a node missing 3 in a row is lost (default 5)",
    )
    .option("-j, --jobs <n>", "when building: images built at once");
  addVerboseOption(addPhaseSharedOptions(addContextOptions(addZooOptions(run)), "run"));
  run.addHelpText(
    "after",
    `
With --manifest-file, the manifest's images run (pulled by digest when it has one) with its context,
overridden by -c/-f. Without it, --tags are built first, then run. Each model's output goes to
<model>_<...>.run.live.log as it arrives; rows are appended to perf.csv (-o) as each model finishes.
Exit codes: 0 all succeeded, 2 a build failed, 3 a model failed, 1 error or interrupted, 4 bad arguments.

Examples:
  madengine-cli run --manifest-file build_manifest.json --timeout 600 --junit-xml test_results.xml
  madengine-cli run --mad-root assets/zoo --tags dummies -c '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}'`,
  );
  run.action(async (options, command: Command) => {
    const { runRunCommand } = await import("./commands/run.js");
    const merged = { ...command.optsWithGlobals(), ...options };
    process.exitCode = await runRunCommand({ ...merged, output: merged.output ?? "perf.csv" }, command);
  });

  addNodesCommands(program);
  registerGenerateCommands(program);
  registerServeCommand(program);
  registerResultsCommands(program);
  return program;
}

function addNodesCommands(program: Command): void {
  const nodes = program
    .command("nodes")
    .description("manage GPU nodes (a nodes file), trust their host keys, check and watch them")
    .addHelpText(
      "after",
      `
A node needs only sshd and Docker. Host keys are checked against known_hosts: trust a new node with
'nodes trust NAME' (shows the fingerprint), and a changed key is always refused.

Examples:
  madengine-cli nodes add gpu1 --host 10.0.0.11 --user root --identity-file ~/.ssh/id_ed25519 --label gpu=MI300X
  madengine-cli nodes import --ansible-inventory inventory.ini --group gpu_nodes
  madengine-cli nodes trust gpu1
  madengine-cli nodes check --manifest-file build_manifest.json
  madengine-cli nodes status --watch 10`,
    );
  const common = (command: Command) =>
    command
      .option("--nodes <file>", "the nodes file", "nodes.json")
      .option(
        "--known-hosts <file>",
        "known_hosts file (default ~/.ssh/known_hosts, or each node's knownHostsFile)",
      )
      .option("-v, --verbose", "stack traces on errors", false);
  const action =
    (load: (options: Record<string, unknown>, args: string[]) => Promise<number>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const positional = args.slice(0, -2).map(String);
      process.exitCode = await load({ ...command.optsWithGlobals() }, positional);
    };

  common(nodes.command("list").description("list the nodes").option("--json", "as JSON")).action(
    action(async (options) => (await import("./commands/nodes.js")).nodesList(options as never)),
  );
  common(
    nodes
      .command("add <name>")
      .description("add a node (or --replace one)")
      .requiredOption("--host <host>", "host name or address")
      .option("--port <port>", "SSH port (default 22)")
      .option("--user <user>", "SSH user (default root)")
      .option("--identity-file <file>", "private key (default: ssh-agent)")
      .option("--identity-passphrase-env <VAR>", "environment variable holding the key's passphrase")
      .option("--proxy-jump <hops>", "ProxyJump: user@host:port or node names, comma-separated")
      .option("--label <key=value...>", "labels, e.g. gpu=MI300X")
      .option("--docker-socket <path>", "Docker socket on the node (default /var/run/docker.sock)")
      .option("--work-dir <dir>", "work directory on the node (default ~/madengine)")
      .option("--node-known-hosts <file>", "known_hosts file for this node")
      .option("--replace", "replace a node of the same name"),
  ).action(
    action(async (options, [name]) =>
      (await import("./commands/nodes.js")).nodesAdd(name!, options as never),
    ),
  );
  common(nodes.command("remove <name>").description("remove a node")).action(
    action(async (options, [name]) =>
      (await import("./commands/nodes.js")).nodesRemove(name!, options as never),
    ),
  );
  common(
    nodes
      .command("import")
      .description("import nodes from ~/.ssh/config hosts or an Ansible INI inventory")
      .option("--ssh-config <file>", "an OpenSSH client config, e.g. ~/.ssh/config")
      .option("--host <alias...>", "with --ssh-config: only these Host aliases")
      .option("--ansible-inventory <file>", "an Ansible INI inventory")
      .option("--group <group>", "with --ansible-inventory: the group (default gpu_nodes)")
      .option("--replace", "replace nodes of the same names"),
  ).action(action(async (options) => (await import("./commands/nodes.js")).nodesImport(options as never)));
  common(
    nodes
      .command("trust <name>")
      .description("show a node's host key fingerprint and record it in known_hosts once confirmed")
      .option("--yes", "trust without asking (automation: compare the fingerprint yourself)"),
  ).action(
    action(async (options, [name]) =>
      (await import("./commands/nodes.js")).nodesTrust(name!, options as never),
    ),
  );
  common(
    nodes
      .command("check")
      .description("preflight: SSH, host key, Docker, GPUs, disk, images present or pullable")
      .option("--node <name...>", "only these nodes")
      .option("--label <key=value...>", "only nodes with these labels")
      .option("-m, --manifest-file <file>", "also check what this manifest needs (GPUs, images)")
      .option("--mad-root <dir>", "where credential.json is (registry auth)")
      .option("--trust-new-hosts", "accept and record unknown host keys")
      .option("--json", "as JSON"),
  ).action(action(async (options) => (await import("./commands/nodes.js")).nodesCheck(options as never)));
  common(
    nodes
      .command("status")
      .description("health of each node: reachability, Docker, madengine containers, GPUs, disk, load")
      .option("--node <name...>", "only these nodes")
      .option("--label <key=value...>", "only nodes with these labels")
      .option("--watch [seconds]", "refresh every N seconds (default 5) over kept connections")
      .option("--json", "as JSON (one line per refresh with --watch)"),
  ).action(action(async (options) => (await import("./commands/nodes.js")).nodesStatus(options as never)));
}

/** For commands that will read the zoo, start its python3 discovery while the rest of the CLI loads. */
function startEarlyDiscovery(argv: readonly string[]): void {
  if (argv.includes("--no-discovery-cache")) disableDiscoveryCache();
  const command = argv[2];
  const readsZoo =
    command === "discover" ||
    command === "build" ||
    command === "export-config" ||
    (command === "run" && !argv.some((a) => a === "-m" || a.startsWith("--manifest-file")));
  if (!readsZoo || argv.includes("--help") || argv.includes("-h")) return;
  let madRoot = process.cwd();
  argv.forEach((arg, index) => {
    if (arg === "--mad-root" && argv[index + 1]) madRoot = argv[index + 1]!;
    else if (arg.startsWith("--mad-root=")) madRoot = arg.slice("--mad-root=".length);
  });
  prefetchDynamicModels(madRoot);
}

/** Output piped into `head` and the like: a closed pipe ends the command quietly, as Unix tools do. */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  trace("cli: bundle loaded");
  // zod compiles a fast parser for an object schema on its first parse, which pays off only when a
  // schema parses many times: in build, run and the like each parses once or twice (~4 ms of a
  // build's start). The app (serve) and results (imports of many perf rows) keep it.
  if (argv[2] !== "serve" && argv[2] !== "results") zodConfig({ jitless: true });
  exitQuietlyOnClosedPipe();
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const command of program.commands) command.exitOverride();
  if (argv.length <= 2) {
    program.outputHelp();
    return ExitCode.SUCCESS;
  }
  const verbose = argv.includes("-v") || argv.includes("--verbose");
  startEarlyDiscovery(argv);
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.SUCCESS;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and --version end in a CommanderError with exit code 0; usage errors get INVALID_ARGS
      // (the original's Click usage errors exit 2, which collides with BUILD_FAILURE)
      return error.exitCode === 0 ? ExitCode.SUCCESS : ExitCode.INVALID_ARGS;
    }
    return reportError(error, verbose);
  }
}
