/**
 * OpenSSH client configuration (`~/.ssh/config`, ssh_config(5)): enough of it to import nodes.
 * Host blocks with pattern lists, `Include`, first-obtained-value-wins, and the keywords a
 * connection needs. `Match` blocks are not evaluated (except `Match all`); see `warnings`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import path from "node:path";
import { MadError } from "../../../../shared/errors.js";
import { NODE_NAME_PATTERN, type Node, nodeSchema } from "../../../../shared/schemas/nodes.js";
import { readTextFile } from "../../util/jsonFiles.js";
import { nearestNames } from "../../util/nearest.js";
import { matchPattern } from "./knownHosts.js";

/** A `Host` (or `Match`) line: its block applies when all conditions above it and it match. */
export interface SshHostCondition {
  /** Patterns as written (`!` negates). Empty for `Match` lines. */
  patterns: string[];
  /** `always` for `Match all`, `never` for other Match lines (not evaluated), else `patterns`. */
  kind: "patterns" | "always" | "never";
  file: string;
  line: number;
}

export interface SshConfigDirective {
  /** Lower-cased keyword. */
  keyword: string;
  args: string[];
  file: string;
  line: number;
  /** Every condition must match the alias for the directive to apply. */
  conditions: SshHostCondition[];
}

export interface SshConfig {
  file: string;
  directives: SshConfigDirective[];
  /** Host lines, each with the conditions it depends on (its own last). */
  hostBlocks: { patterns: string[]; conditions: SshHostCondition[] }[];
  /** Things we read but do not honour (Match blocks). */
  warnings: string[];
}

export interface SshConfigOptions {
  /** The file name used in errors; defaults to "ssh config". */
  file?: string;
  /** Home directory for `~` and %d (default: os.homedir()). */
  homeDir?: string;
  /** Where relative `Include` paths are anchored (default: <homeDir>/.ssh, as for OpenSSH's user config). */
  sshDir?: string;
  /** Local user name for %u and the default remote user (default: os.userInfo().username). */
  localUser?: string;
}

export interface ResolvedSshHost {
  alias: string;
  /** HostName, or the alias when there is none; lower-cased as ssh does. */
  host: string;
  port: number;
  user?: string;
  /** The first IdentityFile (expanded). */
  identityFile?: string;
  /** All IdentityFile values in order (OpenSSH tries each). */
  identityFiles: string[];
  proxyJump?: string;
  /** The first UserKnownHostsFile (expanded). */
  knownHostsFile?: string;
  identitiesOnly?: boolean;
  /** Keywords set for this host that change how ssh connects but that we do not honour. */
  unsupported: string[];
}

const MAX_INCLUDE_DEPTH = 16;
/** Keywords that change how ssh reaches or trusts a host, which the importer cannot carry over. */
const UNSUPPORTED_KEYWORDS = ["proxycommand", "hostkeyalias", "certificatefile", "canonicalizehostname"];

interface Context {
  homeDir: string;
  sshDir: string;
  directives: SshConfigDirective[];
  hostBlocks: SshConfig["hostBlocks"];
  warnings: string[];
}

function configError(file: string, line: number, message: string, hint: string): MadError {
  return new MadError("INVALID_FILE", `${file}:${line}: ${message}`, { file, path: `line ${line}`, hint });
}

/**
 * Splits the arguments of a line like OpenSSH's argv_split: whitespace separates, double or single
 * quotes group, a backslash escapes a quote or backslash (and a space outside quotes), and `#` at the start of an
 * argument ends the line.
 */
function splitArgs(text: string, file: string, line: number): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "#") break;
    let arg = "";
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === "\\") {
        const next = text[i + 1];
        if (next === "'" || next === '"' || next === "\\" || (quote === undefined && next === " ")) {
          arg += next;
          i++;
        } else arg += ch;
      } else if (quote !== undefined) {
        if (ch === quote) quote = undefined;
        else arg += ch;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === " " || ch === "\t") break;
      else arg += ch;
    }
    if (quote !== undefined) {
      throw configError(file, line, "unterminated quote", `close the ${quote} quote on line ${line}`);
    }
    args.push(arg);
  }
  return args;
}

function expandTilde(value: string, homeDir: string): string {
  if (value === "~") return homeDir;
  if (value.startsWith("~/")) return path.join(homeDir, value.slice(2));
  return value;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** The files an Include path names: itself, or the sorted matches of a glob in its last segment. */
function includeFiles(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?]/.test(base)) {
    try {
      return statSync(pattern).isFile() ? [pattern] : [];
    } catch {
      return [];
    }
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const re = globToRegExp(base);
  return names
    .filter((name) => re.test(name) && (base.startsWith(".") || !name.startsWith(".")))
    .sort()
    .map((name) => path.join(dir, name))
    .filter((file) => {
      try {
        return statSync(file).isFile();
      } catch {
        return false;
      }
    });
}

function parseInto(
  text: string,
  file: string,
  parent: SshHostCondition[],
  depth: number,
  ctx: Context,
): void {
  let conditions = parent;
  const lines = text.split("\n");
  lines.forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) return;
    const head = /^([A-Za-z][A-Za-z0-9]*)(?:[ \t]*=[ \t]*|[ \t]+|$)(.*)$/.exec(line);
    if (!head) {
      throw configError(
        file,
        lineNumber,
        `cannot read line: ${line}`,
        "write `Keyword value` or `Keyword=value`",
      );
    }
    const keyword = head[1]!.toLowerCase();
    const args = splitArgs(head[2]!, file, lineNumber);
    if (keyword === "host") {
      if (args.length === 0) {
        throw configError(file, lineNumber, "Host needs at least one pattern", "write e.g. `Host gpu1`");
      }
      const condition: SshHostCondition = { patterns: args, kind: "patterns", file, line: lineNumber };
      conditions = [...parent, condition];
      ctx.hostBlocks.push({ patterns: args, conditions });
      return;
    }
    if (keyword === "match") {
      const all = args.length === 1 && args[0]!.toLowerCase() === "all";
      if (!all) {
        ctx.warnings.push(
          `${file}:${lineNumber}: Match blocks are not evaluated; their settings are ignored`,
        );
      }
      conditions = [...parent, { patterns: [], kind: all ? "always" : "never", file, line: lineNumber }];
      return;
    }
    if (args.length === 0) {
      throw configError(
        file,
        lineNumber,
        `${head[1]} needs a value`,
        `give ${head[1]} a value or delete line ${lineNumber}`,
      );
    }
    if (keyword === "include") {
      if (depth + 1 > MAX_INCLUDE_DEPTH) {
        throw configError(
          file,
          lineNumber,
          `Include nested more than ${MAX_INCLUDE_DEPTH} deep`,
          "check for an Include that includes itself",
        );
      }
      for (const arg of args) {
        const expanded = expandTilde(arg, ctx.homeDir);
        const anchored = path.isAbsolute(expanded) ? expanded : path.join(ctx.sshDir, expanded);
        for (const included of includeFiles(anchored)) {
          let includedText: string;
          try {
            includedText = readFileSync(included, "utf8");
          } catch (error) {
            throw configError(
              file,
              lineNumber,
              `cannot read included file ${included}: ${(error as Error).message}`,
              "check the Include path and the file's permissions",
            );
          }
          parseInto(includedText, included, conditions, depth + 1, ctx);
        }
      }
      return;
    }
    ctx.directives.push({ keyword, args, file, line: lineNumber, conditions });
  });
}

/** Parses ssh_config text (reading the files it Includes). Throws a MadError naming file and line. */
export function parseSshConfig(text: string, options: SshConfigOptions = {}): SshConfig {
  const file = options.file ?? "ssh config";
  const homeDir = options.homeDir ?? homedir();
  const ctx: Context = {
    homeDir,
    sshDir: options.sshDir ?? path.join(homeDir, ".ssh"),
    directives: [],
    hostBlocks: [],
    warnings: [],
  };
  parseInto(text, file, [], 0, ctx);
  return { file, directives: ctx.directives, hostBlocks: ctx.hostBlocks, warnings: ctx.warnings };
}

/**
 * OpenSSH Host matching: some positive pattern matches and no negated one does. Case-sensitive, on
 * the alias as typed (OpenSSH lowercases the host name only after reading the config).
 */
export function hostPatternsMatch(alias: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    if (matchPattern(alias, negated ? raw.slice(1) : raw, false)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function conditionsMatch(alias: string, conditions: readonly SshHostCondition[]): boolean {
  return conditions.every((condition) =>
    condition.kind === "patterns"
      ? hostPatternsMatch(alias, condition.patterns)
      : condition.kind === "always",
  );
}

const isConcrete = (pattern: string) => !pattern.startsWith("!") && !/[*?]/.test(pattern);

/** The concrete host aliases the config defines (no wildcard or negated patterns), in file order. */
export function sshConfigHosts(config: SshConfig): string[] {
  const out: string[] = [];
  for (const block of config.hostBlocks) {
    for (const pattern of block.patterns.filter(isConcrete)) {
      if (!out.includes(pattern) && conditionsMatch(pattern, block.conditions)) out.push(pattern);
    }
  }
  return out;
}

/** Whether a Host block other than a catch-all (`Host *`) applies to the alias. */
export function sshConfigDefinesHost(config: SshConfig, alias: string): boolean {
  return config.hostBlocks.some(
    (block) =>
      block.patterns.some((pattern) => !pattern.startsWith("!") && pattern.replace(/\*/g, "") !== "") &&
      conditionsMatch(alias, block.conditions),
  );
}

interface TokenValues {
  [token: string]: string | undefined;
}

function expandTokens(
  value: string,
  tokens: TokenValues,
  where: SshConfigDirective,
  homeDir: string,
): string {
  const out = value.replace(/%(.)?/g, (whole, token: string | undefined) => {
    const replacement = token === "%" ? "%" : token === undefined ? undefined : tokens[token];
    if (replacement === undefined) {
      throw configError(
        where.file,
        where.line,
        `unsupported token ${whole} in ${where.keyword} value ${JSON.stringify(value)}`,
        "use %h, %p, %r, %u, %n, %d or %% (or write the value out)",
      );
    }
    return replacement;
  });
  return expandTilde(out, homeDir);
}

function parseYesNo(directive: SshConfigDirective): boolean {
  const value = directive.args[0]!.toLowerCase();
  if (value === "yes" || value === "true") return true;
  if (value === "no" || value === "false") return false;
  throw configError(
    directive.file,
    directive.line,
    `${directive.keyword} must be yes or no, found ${JSON.stringify(directive.args[0])}`,
    "write yes or no",
  );
}

/**
 * What ssh would use to reach `alias`: every directive whose Host conditions match applies, the
 * first value obtained for a keyword wins (IdentityFile accumulates), `Host *` blocks act as defaults.
 */
export function resolveSshHost(
  config: SshConfig,
  alias: string,
  options: Pick<SshConfigOptions, "homeDir" | "localUser"> = {},
): ResolvedSshHost {
  const homeDir = options.homeDir ?? homedir();
  const localUser = options.localUser ?? userInfo().username;
  const first = new Map<string, SshConfigDirective>();
  const identityDirectives: SshConfigDirective[] = [];
  for (const directive of config.directives) {
    if (!conditionsMatch(alias, directive.conditions)) continue;
    if (directive.keyword === "identityfile") identityDirectives.push(directive);
    else if (!first.has(directive.keyword)) first.set(directive.keyword, directive);
  }
  const value = (keyword: string) => first.get(keyword)?.args[0];

  let port = 22;
  const portDirective = first.get("port");
  if (portDirective) {
    const text = portDirective.args[0]!;
    port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) {
      throw configError(
        portDirective.file,
        portDirective.line,
        `Port must be a number from 1 to 65535, found ${JSON.stringify(text)}`,
        "fix the Port value",
      );
    }
  }
  const hostNameDirective = first.get("hostname");
  // ssh lowercases the host name it connects to (and looks up in known_hosts), HostName or alias.
  const host = (
    hostNameDirective
      ? hostNameDirective.args[0]!.replace(/%([%h])/g, (_, t: string) => (t === "%" ? "%" : alias))
      : alias
  ).toLowerCase();
  const user = value("user");
  const tokens: TokenValues = {
    h: host,
    p: String(port),
    r: user ?? localUser,
    u: localUser,
    n: alias,
    d: homeDir,
  };

  const resolved: ResolvedSshHost = { alias, host, port, identityFiles: [], unsupported: [] };
  if (user !== undefined) resolved.user = user;
  for (const directive of identityDirectives) {
    if (directive.args[0]!.toLowerCase() === "none") continue;
    resolved.identityFiles.push(expandTokens(directive.args[0]!, tokens, directive, homeDir));
  }
  if (resolved.identityFiles[0] !== undefined) resolved.identityFile = resolved.identityFiles[0];
  const proxyJump = value("proxyjump");
  if (proxyJump !== undefined && proxyJump.toLowerCase() !== "none") resolved.proxyJump = proxyJump;
  const knownHosts = first.get("userknownhostsfile");
  if (knownHosts && knownHosts.args[0]!.toLowerCase() !== "none") {
    resolved.knownHostsFile = expandTokens(knownHosts.args[0]!, tokens, knownHosts, homeDir);
  }
  const identitiesOnly = first.get("identitiesonly");
  if (identitiesOnly) resolved.identitiesOnly = parseYesNo(identitiesOnly);
  for (const keyword of UNSUPPORTED_KEYWORDS) {
    const directive = first.get(keyword);
    if (
      directive &&
      directive.args[0]!.toLowerCase() !== "none" &&
      directive.args[0]!.toLowerCase() !== "no"
    ) {
      resolved.unsupported.push(keyword);
    }
  }
  return resolved;
}

export type NodesFromSshConfigOptions = SshConfigOptions;

/**
 * Nodes for the given aliases (default: every concrete Host of the config). The user is the config's
 * User, else the local user, as ssh would use.
 */
export async function nodesFromSshConfig(
  file: string,
  aliases?: string[],
  options: NodesFromSshConfigOptions = {},
): Promise<Node[]> {
  const text = await readTextFile(file, {
    missingHint: "pass the path of an ssh config file, e.g. ~/.ssh/config",
  });
  const config = parseSshConfig(text, { ...options, file });
  const known = sshConfigHosts(config);
  const wanted = aliases ?? known;
  if (wanted.length === 0) {
    throw new MadError("INVALID_FILE", `${file}: no concrete Host entries (only wildcard patterns)`, {
      file,
      hint: "add a `Host <name>` block per node, or name the hosts to import",
    });
  }
  const localUser = options.localUser ?? userInfo().username;
  return wanted.map((alias) => {
    if (!sshConfigDefinesHost(config, alias)) {
      const near = nearestNames(alias, known, 3);
      throw new MadError("INVALID_ARGS", `${file}: no Host entry matches "${alias}"`, {
        file,
        hint:
          near.length > 0
            ? `did you mean ${near.map((n) => `"${n}"`).join(", ")}?`
            : `hosts in ${file}: ${known.join(", ") || "(none)"}`,
      });
    }
    if (!NODE_NAME_PATTERN.test(alias)) {
      throw new MadError("INVALID_ARGS", `${file}: host alias "${alias}" is not a valid node name`, {
        file,
        hint: "node names may use letters, digits, '.', '_' and '-': add such an alias in the ssh config",
      });
    }
    const resolved = resolveSshHost(config, alias, { homeDir: options.homeDir, localUser });
    const candidate = {
      name: alias,
      host: resolved.host,
      port: resolved.port,
      user: resolved.user ?? localUser,
      ...(resolved.identityFile !== undefined ? { identityFile: resolved.identityFile } : {}),
      ...(resolved.proxyJump !== undefined ? { proxyJump: resolved.proxyJump } : {}),
      ...(resolved.knownHostsFile !== undefined ? { knownHostsFile: resolved.knownHostsFile } : {}),
    };
    const parsed = nodeSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new MadError(
        "INVALID_FILE",
        `${file}: host "${alias}" cannot become a node: ${issue.path.join(".")}: ${issue.message}`,
        { file, hint: `fix the Host ${alias} block in ${file}` },
      );
    }
    return parsed.data;
  });
}
