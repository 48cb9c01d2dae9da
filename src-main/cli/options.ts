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
