import type { Ulimit } from "dockerode";
import { MadError } from "../../../../shared/errors.js";

/** One `HostConfig.Devices` entry (the API form of `--device host[:container[:perms]]`). */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/**
 * What a model's `additional_docker_run_options` may set, in Docker Engine API terms. `User` goes to
 * the top of the create body, the rest to `HostConfig`. Arrays add to what madengine sets; scalars replace.
 */
export interface ContainerOverrides {
  Env: string[];
  Binds: string[];
  Devices: DeviceMapping[];
  CapAdd: string[];
  CapDrop: string[];
  SecurityOpt: string[];
  GroupAdd: string[];
  Ulimits: Ulimit[];
  ShmSize: number;
  Memory: number;
  IpcMode: string;
  NetworkMode: string;
  PidMode: string;
  CpusetCpus: string;
  Privileged: boolean;
  User: string;
}

const OPTIONS_PATH = "additional_docker_run_options";

function optionsError(message: string, hint: string): MadError {
  return new MadError("INVALID_FILE", `${OPTIONS_PATH}: ${message}`, { path: OPTIONS_PATH, hint });
}

/**
 * Splits a string into words the way a POSIX shell does, without running anything: blanks separate
 * words; single quotes keep everything literally; double quotes keep everything except `\"`, `\\`,
 * `\$`, `` \` `` and backslash-newline; outside quotes a backslash keeps the next character literally
 * and backslash-newline is removed. `$`, backticks, `~`, globs, `#` and operators are NOT expanded or
 * interpreted: they stay in the words as written. Unterminated quotes or a trailing backslash throw.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let i = 0;
  const fail = (what: string, at: number): never => {
    throw new MadError("INVALID_ARGS", `${what} at character ${at + 1} of ${JSON.stringify(text)}`, {
      hint: "close the quote, or escape the character with a backslash",
    });
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      if (inWord) {
        words.push(current);
        current = "";
        inWord = false;
      }
      i++;
      continue;
    }
    if (ch === "\\") {
      if (i + 1 >= text.length) fail("trailing backslash", i);
      const next = text[i + 1]!;
      i += 2;
      if (next === "\n") continue; // line continuation: no character, no word boundary
      current += next;
      inWord = true;
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) fail("unterminated single quote", i);
      current += text.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (ch === '"') {
      const start = i;
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === "\\" && i + 1 < text.length) {
          const next = text[i + 1]!;
          if (next === "\n") {
            i += 2;
            continue;
          }
          if (next === '"' || next === "\\" || next === "$" || next === "`") {
            current += next;
            i += 2;
            continue;
          }
        }
        current += c;
        i++;
      }
      if (!closed) fail("unterminated double quote", start);
      continue;
    }
    current += ch;
    i++;
  }
  if (inWord) words.push(current);
  return words;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a memory size as Docker does (`RAMInBytes`): a number, optionally with a binary unit
 * `b`, `k`, `m`, `g`, `t`, `p` (any case, optional `i` and `b`: `16G`, `512m`, `8gb`, `1GiB`, `1.5g`).
 * Returns whole bytes (fractions are truncated, as Docker does). Zero, negative or malformed sizes
 * throw a MadError naming the value.
 */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? "";
  // a lone "i" (e.g. "16i") or "ib" without a unit letter is not a size
  if (!match || (unit === "" && match[3] !== "")) {
    throw new MadError(
      "INVALID_ARGS",
      `${JSON.stringify(text)} is not a size; expected a number with an optional unit, e.g. 16G or 512m`,
      {
        hint: "write sizes as <number>[b|k|m|g|t|p], e.g. 16G",
      },
    );
  }
  const bytes = Math.floor(Number(match[1]) * SIZE_UNITS[unit]!);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new MadError(
      "INVALID_ARGS",
      `${JSON.stringify(text)} is not a usable size: it must be more than 0 bytes`,
      {
        hint: "write sizes as <number>[b|k|m|g|t|p], e.g. 16G",
      },
    );
  }
  return bytes;
}

/** Resource names Docker's `--ulimit` accepts (go-units). */
export const ULIMIT_NAMES = [
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
] as const;

/** Parses `name=soft[:hard]` (`-1` = unlimited; a single value sets both limits). */
export function parseUlimit(text: string): Ulimit {
  const match = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text.trim());
  const hint = `write --ulimit <name>=<soft>[:<hard>], e.g. memlock=-1:-1; names: ${ULIMIT_NAMES.join(", ")}`;
  if (!match) throw optionsError(`--ulimit ${JSON.stringify(text)} is not <name>=<soft>[:<hard>]`, hint);
  const name = match[1]!;
  if (!(ULIMIT_NAMES as readonly string[]).includes(name)) {
    throw optionsError(`--ulimit ${JSON.stringify(text)}: unknown limit ${JSON.stringify(name)}`, hint);
  }
  const soft = Number(match[2]);
  const hard = match[3] === undefined ? soft : Number(match[3]);
  if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard) || soft < -1 || hard < -1) {
    throw optionsError(
      `--ulimit ${JSON.stringify(text)}: limits must be whole numbers, or -1 for unlimited`,
      hint,
    );
  }
  if (hard !== -1 && (soft === -1 || soft > hard)) {
    throw optionsError(
      `--ulimit ${JSON.stringify(text)}: the soft limit must not exceed the hard limit`,
      hint,
    );
  }
  return { Name: name, Soft: soft, Hard: hard };
}

function parseEnv(value: string): string {
  const eq = value.indexOf("=");
  if (eq <= 0) {
    throw optionsError(
      eq === 0
        ? `--env ${JSON.stringify(value)} has no variable name`
        : `--env ${JSON.stringify(value)} has no value: host variables are not forwarded`,
      "write --env NAME=value (or -e NAME=value)",
    );
  }
  if (value.includes("\0"))
    throw optionsError(`--env ${JSON.stringify(value)} contains a NUL byte`, "remove it");
  return value;
}

const BIND_OPTION =
  /^(ro|rw|z|Z|shared|slave|private|rshared|rslave|rprivate|nocopy|consistent|cached|delegated)$/;

function parseVolume(value: string): string {
  const parts = value.split(":");
  const hint =
    "write --volume /host/path:/container/path[:ro] (or -v); both paths absolute, or a named volume";
  if (parts.length < 2 || parts.length > 3) {
    throw optionsError(
      `--volume ${JSON.stringify(value)} is not <host path>:<container path>[:<options>]`,
      hint,
    );
  }
  const [host, container, options] = parts as [string, string, string | undefined];
  if (!host.startsWith("/") && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host)) {
    throw optionsError(
      `--volume ${JSON.stringify(value)}: ${JSON.stringify(host)} is not an absolute path or a volume name`,
      hint,
    );
  }
  if (!container.startsWith("/")) {
    throw optionsError(`--volume ${JSON.stringify(value)}: the container path must be absolute`, hint);
  }
  if (options !== undefined && !options.split(",").every((option) => BIND_OPTION.test(option))) {
    throw optionsError(
      `--volume ${JSON.stringify(value)}: unknown mount option in ${JSON.stringify(options)}`,
      hint,
    );
  }
  return value;
}

function parseDevice(value: string): DeviceMapping {
  const parts = value.split(":");
  const hint = "write --device /dev/host[:/dev/container][:rwm]";
  const [host, second, third] = parts as [string, string | undefined, string | undefined];
  if (parts.length > 3 || !host.startsWith("/")) {
    throw optionsError(
      `--device ${JSON.stringify(value)} is not <host device>[:<container path>][:<permissions>]`,
      hint,
    );
  }
  let container = host;
  let permissions = "rwm";
  if (second !== undefined) {
    if (third === undefined && /^[rwm]+$/.test(second)) permissions = second;
    else container = second;
  }
  if (third !== undefined) permissions = third;
  if (!container.startsWith("/") || !/^[rwm]+$/.test(permissions)) {
    throw optionsError(
      `--device ${JSON.stringify(value)} is not <host device>[:<container path>][:<permissions>]`,
      hint,
    );
  }
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: permissions };
}

function parseBoolean(flag: string, value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw optionsError(
    `${flag}=${JSON.stringify(value)}: expected true or false`,
    `write ${flag} or ${flag}=false`,
  );
}

function nonEmpty(flag: string, value: string): string {
  if (value.trim() === "") throw optionsError(`${flag} needs a non-empty value`, `give ${flag} a value`);
  return value;
}

function size(flag: string, value: string): number {
  try {
    return parseByteSize(value);
  } catch (error) {
    throw optionsError(
      `${flag}: ${(error as Error).message}`,
      "write sizes as <number>[b|k|m|g|t|p], e.g. 16G",
    );
  }
}

function securityOpt(value: string): string {
  const match = /^seccomp[=:](.*)$/.exec(value);
  if (match && match[1] !== "unconfined" && match[1] !== "builtin") {
    throw optionsError(
      `--security-opt ${JSON.stringify(value)}: seccomp profile files are not supported (the Engine API wants the profile itself)`,
      "use seccomp=unconfined, or leave seccomp to the default profile",
    );
  }
  return nonEmpty("--security-opt", value);
}

type Apply = (value: string, out: Partial<ContainerOverrides>, flag: string) => void;

interface FlagSpec {
  short?: string;
  aliases?: string[];
  /** Boolean flags take no separate value (only `--flag=true|false`). */
  boolean?: boolean;
  apply: Apply;
}

function push<K extends keyof ContainerOverrides>(
  out: Partial<ContainerOverrides>,
  key: K,
  item: ContainerOverrides[K] extends (infer T)[] ? T : never,
): void {
  const list = (out[key] ?? []) as unknown[];
  list.push(item);
  (out as Record<string, unknown>)[key] = list;
}

/** The `docker run` options a model may use, by long name. */
const FLAGS: Record<string, FlagSpec> = {
  "--cap-add": { apply: (v, out, f) => push(out, "CapAdd", nonEmpty(f, v)) },
  "--cap-drop": { apply: (v, out, f) => push(out, "CapDrop", nonEmpty(f, v)) },
  "--cpuset-cpus": {
    apply: (v, out, f) => {
      const cpus = v.replace(/\s+/g, "");
      if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpus)) {
        throw optionsError(
          `${f} ${JSON.stringify(v)} is not a CPU list such as 0-3,8`,
          "write CPU ids and ranges",
        );
      }
      out.CpusetCpus = cpus;
    },
  },
  "--device": { apply: (v, out) => push(out, "Devices", parseDevice(v)) },
  "--env": { short: "-e", apply: (v, out) => push(out, "Env", parseEnv(v)) },
  "--group-add": { apply: (v, out, f) => push(out, "GroupAdd", nonEmpty(f, v)) },
  "--ipc": { apply: (v, out, f) => (out.IpcMode = nonEmpty(f, v)) },
  "--memory": { short: "-m", apply: (v, out, f) => (out.Memory = size(f, v)) },
  "--network": { aliases: ["--net"], apply: (v, out, f) => (out.NetworkMode = nonEmpty(f, v)) },
  "--pid": { apply: (v, out, f) => (out.PidMode = nonEmpty(f, v)) },
  "--privileged": { boolean: true, apply: (v, out, f) => (out.Privileged = parseBoolean(f, v)) },
  "--security-opt": { apply: (v, out) => push(out, "SecurityOpt", securityOpt(v)) },
  "--shm-size": { apply: (v, out, f) => (out.ShmSize = size(f, v)) },
  "--ulimit": { apply: (v, out) => push(out, "Ulimits", parseUlimit(v)) },
  "--user": { short: "-u", apply: (v, out, f) => (out.User = nonEmpty(f, v)) },
  "--volume": { short: "-v", apply: (v, out) => push(out, "Binds", parseVolume(v)) },
};

/** Every spelling accepted, for error messages: `--env (-e)`, `--network (--net)`, … */
export const SUPPORTED_DOCKER_RUN_OPTIONS: readonly string[] = Object.entries(FLAGS).map(([name, spec]) => {
  const others = [spec.short, ...(spec.aliases ?? [])].filter((x): x is string => x !== undefined);
  return others.length > 0 ? `${name} (${others.join(", ")})` : name;
});

const BY_NAME = new Map<string, [string, FlagSpec]>();
for (const [name, spec] of Object.entries(FLAGS)) {
  BY_NAME.set(name, [name, spec]);
  if (spec.short) BY_NAME.set(spec.short, [name, spec]);
  for (const alias of spec.aliases ?? []) BY_NAME.set(alias, [name, spec]);
}

function unsupported(flag: string): MadError {
  return optionsError(
    `unsupported option ${JSON.stringify(flag)}; supported: ${SUPPORTED_DOCKER_RUN_OPTIONS.join(", ")}`,
    "remove the option from additional_docker_run_options in models.json; GPUs, the image, the command and the workspace mount are set by madengine",
  );
}

/**
 * Parses a model's `additional_docker_run_options` (spec §5.3 step 7) into Engine API settings. The
 * text is split into words like a shell would (no expansion, nothing run) and read as `docker run`
 * options: `--flag value`, `--flag=value`, short `-e`/`-v`/`-u`/`-m` as `-e VALUE`, `-eVALUE` or
 * `-e=VALUE`. Repeated list options accumulate; repeated scalar options keep the last value. An
 * unknown option or a stray word throws a MadError naming it and listing the supported options.
 */
export function parseAdditionalDockerRunOptions(text: string): Partial<ContainerOverrides> {
  let words: string[];
  try {
    words = splitShellWords(text);
  } catch (error) {
    throw optionsError(
      (error as Error).message,
      "fix the quoting in additional_docker_run_options in models.json",
    );
  }
  const out: Partial<ContainerOverrides> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let name: string;
    let inline: string | undefined;
    if (word.startsWith("--") && word.length > 2) {
      const eq = word.indexOf("=");
      name = eq < 0 ? word : word.slice(0, eq);
      inline = eq < 0 ? undefined : word.slice(eq + 1);
    } else if (/^-[A-Za-z]/.test(word)) {
      name = word.slice(0, 2);
      const rest = word.slice(2);
      inline = rest === "" ? undefined : rest.startsWith("=") ? rest.slice(1) : rest;
    } else {
      throw optionsError(
        `unexpected word ${JSON.stringify(word)}: only options are allowed (madengine sets the image and the command)`,
        `supported options: ${SUPPORTED_DOCKER_RUN_OPTIONS.join(", ")}`,
      );
    }
    const entry = BY_NAME.get(name);
    if (!entry) throw unsupported(name);
    const [canonical, spec] = entry;
    let value: string;
    if (spec.boolean) {
      value = inline ?? "true";
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = words[i + 1];
      if (next === undefined || next.startsWith("-")) {
        throw optionsError(
          `${name} needs a value${next === undefined ? "" : `, found the option ${JSON.stringify(next)}`}`,
          `write ${canonical} <value> or ${canonical}=<value>`,
        );
      }
      value = next;
      i++;
    }
    spec.apply(value, out, canonical);
  }
  return out;
}
