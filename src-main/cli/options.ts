import { type Command, Option } from "commander";

/** Options every command that reads a model zoo shares. */
export function addZooOptions(command: Command): Command {
  return command
    .option(
      "--mad-root <dir>",
      "MAD root holding models.json, scripts/ and docker/ (default: current directory)",
    )
    .addOption(
      new Option(
        "-t, --tags <tags...>",
        "model names or tags; repeatable and space-separated (-t a -t b, --tags a b); name:key=value appends --key value to the model's args; dir/tag limits to scripts/dir; 'all' selects every model",
      ),
    )
    .option(
      "--no-discovery-cache",
      "run every scripts/<dir>/get_models_json.py again instead of reusing its cached output (also MADENGINE_DISCOVERY_CACHE=0)",
    );
}

export function addVerboseOption(command: Command): Command {
  return command.option("-v, --verbose", "debug output and stack traces on errors", false);
}

/** Commander keeps a variadic option's values per occurrence; flatten `-t a -t b c` into [a, b, c]. */
export function tagsOf(value: unknown): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((item) => String(item).split(/\s+/)).filter((tag) => tag !== "");
}

/** `-c/--additional-context` and `-f/--additional-context-file`, as the original spells them. */
export function addContextOptions(command: Command): Command {
  return command
    .option(
      "-c, --additional-context <json>",
      'context as a JSON object, e.g. \'{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}\' (merged over the file)',
    )
    .option("-f, --additional-context-file <file>", "context from a JSON file");
}

/**
 * Flags the original accepts in every phase. In a phase where a flag does nothing its help says so,
 * and using it prints a note: nothing is silently ignored.
 */
export function addPhaseSharedOptions(command: Command, phase: "build" | "run"): Command {
  const inBuild = (text: string) => (phase === "build" ? `${text} [no effect in build; used by run]` : text);
  return command
    .option("-l, --live-output", "stream build/run output to the terminal (logs are always written)", false)
    .option("-o, --output <file>", inBuild("perf CSV path (default perf.csv)"))
    .option("--ignore-deprecated", inBuild("also run models marked is_deprecated"))
    .option("--data-config <file>", inBuild("data provider config (default data.json)"))
    .option("--tools-config <file>", inBuild("tools config (default ./scripts/common/tools.json)"))
    .option("--sys-env-details", inBuild("accepted for compatibility (rocEnvTool capture is not included)"))
    .option("--no-sys-env-details", inBuild("accepted for compatibility"))
    .option("--force-mirror-local <dir>", inBuild("mirror remote data sets to this local directory"))
    .option("--disable-skip-gpu-arch", inBuild("run models even on GPU architectures they skip"));
}

/** Options given on the command line (not defaults) among `names`, in their --flag spelling. */
export function givenOptions(command: Command, names: readonly string[]): string[] {
  return names
    .filter((name) => command.getOptionValueSource(name) === "cli")
    .map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}
