/**
 * Ansible INI inventories (the format madengine documents for `runner ansible`): groups, host
 * variables, `[group:vars]`, `[group:children]`, host ranges. Behaviour follows Ansible's
 * plugins/inventory/ini.py. Passwords (`ansible_ssh_pass` and friends) are never imported.
 */
import { MadError } from "../../../../shared/errors.js";
import {
  NODE_NAME_PATTERN,
  type Node,
  type NodeInput,
  nodeSchema,
} from "../../../../shared/schemas/nodes.js";
import { readTextFile } from "../../util/jsonFiles.js";

export interface AnsibleInventory {
  /** Every group (with `all` and `ungrouped`) and its hosts, child groups' hosts included, in file order. */
  groups: Record<string, string[]>;
  /** Each host's effective variables: group vars (parents first, `all` lowest) under the host's own. */
  hosts: Record<string, Record<string, string>>;
  /** Direct child groups of each group. */
  children: Record<string, string[]>;
  warnings: string[];
}

export interface AnsibleImport {
  nodes: Node[];
  warnings: string[];
}

/** Variables that hold secrets: read past, never imported. */
const SECRET_VARS = new Set([
  "ansible_ssh_pass",
  "ansible_password",
  "ansible_become_pass",
  "ansible_become_password",
  "ansible_sudo_pass",
  "ansible_su_pass",
]);

const GROUP_NAME = /^[^\s:[\]]+$/;

interface Section {
  name: string;
  kind: "hosts" | "vars" | "children";
}

interface RawHost {
  vars: Record<string, string>;
  line: number;
}

function inventoryError(file: string, line: number, message: string, hint: string): MadError {
  return new MadError("INVALID_FILE", `${file}:${line}: ${message}`, { file, path: `line ${line}`, hint });
}

/**
 * Splits a host line like Python's shlex.split(line, comments=True): whitespace separates, quotes
 * group (backslash escapes inside double quotes and outside quotes), `#` outside quotes ends the line.
 */
function shlexSplit(text: string, file: string, line: number): string[] {
  const tokens: string[] = [];
  let token: string | undefined;
  let quote: string | undefined;
  const add = (chars: string | undefined) => {
    token = (token ?? "") + (chars ?? "");
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else add(c);
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) add(text[++i]);
      else add(c);
    } else if (c === " " || c === "\t") {
      if (token !== undefined) tokens.push(token);
      token = undefined;
    } else if (c === "#") {
      break;
    } else if (c === "'" || c === '"') {
      quote = c;
      add("");
    } else if (c === "\\" && i + 1 < text.length) {
      add(text[++i]);
    } else {
      add(c);
    }
  }
  if (quote !== undefined) {
    throw inventoryError(file, line, "unterminated quote", `close the ${quote} quote on line ${line}`);
  }
  if (token !== undefined) tokens.push(token);
  return tokens;
}

/**
 * A `[group:vars]` value, as Ansible's _parse_value reads it: a quoted Python string (optionally
 * followed by a comment) loses its quotes, anything else is kept as written.
 */
function parseVarValue(raw: string): string {
  const quoted = /^(["'])((?:\\.|(?!\1).)*)\1\s*(?:#.*)?$/.exec(raw);
  if (!quoted) return raw;
  return quoted[2]!.replace(/\\(.)/g, (_, ch: string) => ({ n: "\n", t: "\t" })[ch] ?? ch);
}

/** Expands Ansible host ranges: `node[01:03]`, `gpu-[a:c]`, `n[0:10:5]` (inclusive, optional stride). */
export function expandHostPattern(pattern: string): string[] {
  const range = /\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::(\d+))?\]/.exec(pattern);
  if (!range) return [pattern];
  const [whole, start, end, strideText] = range as unknown as [string, string, string, string | undefined];
  const before = pattern.slice(0, range.index);
  const after = pattern.slice(range.index + whole.length);
  const stride = strideText === undefined ? 1 : Number(strideText);
  if (stride < 1) throw new Error(`bad range stride in ${pattern}`);
  const values: string[] = [];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length > 1 && start.startsWith("0") ? start.length : 0;
    for (let n = Number(start); n <= Number(end); n += stride) values.push(String(n).padStart(width, "0"));
  } else if (/^[a-zA-Z]$/.test(start) && /^[a-zA-Z]$/.test(end)) {
    for (let c = start.charCodeAt(0); c <= end.charCodeAt(0); c += stride)
      values.push(String.fromCharCode(c));
  } else {
    throw new Error(`bad range in ${pattern}: use numbers ([01:10]) or single letters ([a:f])`);
  }
  if (values.length === 0) throw new Error(`empty range in ${pattern}`);
  return values.flatMap((value) => expandHostPattern(`${before}${value}${after}`));
}

/** `host:port` as Ansible allows in a host line (IPv6 needs brackets: `[::1]:2222`). */
function splitHostPort(token: string): { name: string; port?: string } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(token);
  if (bracketed && bracketed[1]!.includes(":")) return { name: bracketed[1]!, port: bracketed[2]! };
  const plain = /^([^:]+):(\d+)$/.exec(token);
  if (plain) return { name: plain[1]!, port: plain[2]! };
  return { name: token };
}

/** Parses Ansible INI inventory text. Errors name the file and line. */
export function parseAnsibleInventory(text: string, file: string): AnsibleInventory {
  const { inventory } = parseInventory(text, file);
  return inventory;
}

function secretWarning(file: string, host: string, key: string): string {
  return `${file}: host "${host}": ${key} is not imported (passwords are never stored); use a key (ansible_ssh_private_key_file)`;
}

function parseInventory(
  text: string,
  file: string,
): { inventory: AnsibleInventory; secrets: Map<string, string[]> } {
  const hostOrder: string[] = [];
  const hostVars = new Map<string, RawHost>();
  const directHosts = new Map<string, string[]>([
    ["all", []],
    ["ungrouped", []],
  ]);
  const groupVars = new Map<string, Record<string, string>>();
  const children = new Map<string, string[]>();
  const declared = new Set<string>(["all", "ungrouped"]);
  const pending = new Map<string, { line: number; kind: "vars" | "children"; by: string }>();
  const warnings: string[] = [];
  const secrets = new Map<string, string[]>();

  const declare = (name: string) => {
    declared.add(name);
    if (!directHosts.has(name)) directHosts.set(name, []);
    pending.delete(name);
  };

  let section: Section = { name: "ungrouped", kind: "hosts" };
  text.split("\n").forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;

    // `[fe80::1]:2222 vars...` is a host line (an IPv6 address with a port), not a section header.
    if (line.startsWith("[") && !/^\[[^\]]+\]:\d+(?:\s|$)/.test(line)) {
      const header = /^\[([^\]:]+)(?::(\w+))?\]\s*(?:[#;].*)?$/.exec(line);
      if (!header) {
        throw inventoryError(
          file,
          lineNumber,
          `invalid section header: ${line}`,
          "write [group], [group:vars] or [group:children]",
        );
      }
      const name = header[1]!.trim();
      const kind = (header[2] ?? "hosts") as Section["kind"];
      if (!GROUP_NAME.test(name)) {
        throw inventoryError(
          file,
          lineNumber,
          `invalid group name "${name}"`,
          "group names cannot contain spaces",
        );
      }
      if (kind !== "hosts" && kind !== "vars" && kind !== "children") {
        throw inventoryError(
          file,
          lineNumber,
          `unknown section type ":${kind}" in ${line}`,
          "use [group], [group:vars] or [group:children]",
        );
      }
      section = { name, kind };
      if (kind === "hosts" || kind === "children") declare(name);
      else if (!declared.has(name) && !pending.has(name))
        pending.set(name, { line: lineNumber, kind: "vars", by: name });
      return;
    }

    if (section.kind === "vars") {
      const eq = line.indexOf("=");
      if (eq <= 0) {
        throw inventoryError(
          file,
          lineNumber,
          `expected key=value in [${section.name}:vars], found: ${line}`,
          "write one variable per line as key=value",
        );
      }
      const key = line.slice(0, eq).trim();
      const vars = groupVars.get(section.name) ?? {};
      vars[key] = parseVarValue(line.slice(eq + 1).trim());
      groupVars.set(section.name, vars);
      return;
    }

    if (section.kind === "children") {
      const tokens = shlexSplit(line, file, lineNumber);
      const child = tokens[0];
      if (child === undefined) return;
      if (tokens.length > 1 || !GROUP_NAME.test(child)) {
        throw inventoryError(
          file,
          lineNumber,
          `expected one group name in [${section.name}:children], found: ${line}`,
          "list one child group per line",
        );
      }
      const list = children.get(section.name) ?? [];
      if (!list.includes(child)) list.push(child);
      children.set(section.name, list);
      if (!declared.has(child) && !pending.has(child)) {
        pending.set(child, { line: lineNumber, kind: "children", by: section.name });
      }
      return;
    }

    const tokens = shlexSplit(line, file, lineNumber);
    const [pattern, ...assignments] = tokens;
    if (pattern === undefined) return;
    const vars: Record<string, string> = {};
    for (const assignment of assignments) {
      const eq = assignment.indexOf("=");
      if (eq <= 0) {
        throw inventoryError(
          file,
          lineNumber,
          `expected key=value host variable, found "${assignment}"`,
          "write host variables as key=value (quote values with spaces)",
        );
      }
      vars[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
    const { name: namePattern, port } = splitHostPort(pattern);
    if (port !== undefined && vars.ansible_port === undefined) vars.ansible_port = port;
    let names: string[];
    try {
      names = expandHostPattern(namePattern);
    } catch (error) {
      throw inventoryError(file, lineNumber, (error as Error).message, "fix the host range");
    }
    for (const name of names) {
      const existing = hostVars.get(name);
      if (existing) Object.assign(existing.vars, vars);
      else {
        hostVars.set(name, { vars: { ...vars }, line: lineNumber });
        hostOrder.push(name);
      }
      const members = directHosts.get(section.name)!;
      if (!members.includes(name)) members.push(name);
    }
  });

  const unresolved = pending.entries().next();
  if (!unresolved.done) {
    const [group, decl] = unresolved.value;
    throw inventoryError(
      file,
      decl.line,
      decl.kind === "vars"
        ? `section [${group}:vars] is for a group that is never defined`
        : `section [${decl.by}:children] includes group "${group}", which is never defined`,
      `define [${group}] (it may be empty) or fix the name`,
    );
  }

  // Transitive members, checking for cycles in :children.
  const allGroups = [...directHosts.keys()];
  const members = new Map<string, string[]>();
  const resolving: string[] = [];
  const membersOf = (group: string): string[] => {
    const cached = members.get(group);
    if (cached) return cached;
    if (resolving.includes(group)) {
      throw new MadError(
        "INVALID_FILE",
        `${file}: group "${group}" is its own child (${[...resolving, group].join(" -> ")})`,
        {
          file,
          hint: "remove the cycle from the [group:children] sections",
        },
      );
    }
    resolving.push(group);
    const set = new Set(directHosts.get(group) ?? []);
    for (const child of children.get(group) ?? []) for (const host of membersOf(child)) set.add(host);
    resolving.pop();
    const ordered = hostOrder.filter((host) => set.has(host));
    members.set(group, ordered);
    return ordered;
  };
  const groups: Record<string, string[]> = {};
  for (const group of allGroups) groups[group] = membersOf(group);
  groups.all = [...hostOrder];
  const inSomeGroup = new Set(
    allGroups.filter((g) => g !== "all" && g !== "ungrouped").flatMap((g) => groups[g]!),
  );
  groups.ungrouped = hostOrder.filter((host) => !inSomeGroup.has(host));

  // Group depth (distance from `all`), for Ansible's precedence: shallower groups first, then by name.
  const depth = new Map<string, number>();
  const depthOf = (group: string): number => {
    const known = depth.get(group);
    if (known !== undefined) return known;
    if (group === "all") return 0;
    const parents = allGroups.filter((g) => (children.get(g) ?? []).includes(group));
    const d = parents.length === 0 ? 1 : 1 + Math.max(...parents.map(depthOf));
    depth.set(group, d);
    return d;
  };

  const hosts: Record<string, Record<string, string>> = {};
  for (const host of hostOrder) {
    const containing = allGroups
      .filter((g) => g !== "all" && groups[g]!.includes(host))
      .sort((a, b) => depthOf(a) - depthOf(b) || a.localeCompare(b));
    const merged: Record<string, string> = { ...(groupVars.get("all") ?? {}) };
    for (const group of containing) Object.assign(merged, groupVars.get(group) ?? {});
    Object.assign(merged, hostVars.get(host)!.vars);
    for (const key of Object.keys(merged)) {
      if (SECRET_VARS.has(key)) {
        delete merged[key];
        warnings.push(secretWarning(file, host, key));
        secrets.set(host, [...(secrets.get(host) ?? []), key]);
      }
    }
    hosts[host] = merged;
  }

  const childRecord: Record<string, string[]> = {};
  for (const [group, list] of children) childRecord[group] = [...list];
  return { inventory: { groups, hosts, children: childRecord, warnings }, secrets };
}

/** The `-o Option=value` and `-J jump` settings in ansible_ssh_common_args / ansible_ssh_extra_args. */
function sshArgOptions(args: string, file: string): Map<string, string> {
  const options = new Map<string, string>();
  const tokens = shlexSplit(args, file, 0);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    let option: string | undefined;
    if (token === "-o") option = tokens[++i];
    else if (token.startsWith("-o")) option = token.slice(2);
    else if (token === "-J" && tokens[i + 1] !== undefined) option = `ProxyJump=${tokens[++i]}`;
    if (option === undefined) continue;
    const match = /^([A-Za-z]+)\s*(?:=\s*|\s)(.+)$/.exec(option);
    if (match && !options.has(match[1]!.toLowerCase())) options.set(match[1]!.toLowerCase(), match[2]!);
  }
  return options;
}

function firstOf(vars: Record<string, string>, ...keys: string[]): string | undefined {
  for (const key of keys) if (vars[key] !== undefined && vars[key] !== "") return vars[key];
  return undefined;
}

/**
 * Nodes from the hosts of one inventory group. Connection variables map to node fields; other
 * non-`ansible_*` variables become labels. From ansible_ssh_common_args/extra_args only
 * `-o UserKnownHostsFile=` and `-o ProxyJump=` / `-J` are taken; the rest is ignored.
 */
export async function nodesFromAnsibleInventory(file: string, group = "gpu_nodes"): Promise<AnsibleImport> {
  const text = await readTextFile(file, { missingHint: "pass the path of an Ansible INI inventory" });
  const { inventory, secrets } = parseInventory(text, file);
  const hostNames = inventory.groups[group];
  if (hostNames === undefined) {
    const found = Object.keys(inventory.groups).filter((g) => g !== "all" && g !== "ungrouped");
    throw new MadError("INVALID_ARGS", `${file}: no group [${group}]`, {
      file,
      hint: found.length > 0 ? `groups found: ${found.join(", ")}` : `${file} defines no groups`,
    });
  }
  if (hostNames.length === 0) {
    throw new MadError("INVALID_FILE", `${file}: group [${group}] has no hosts`, {
      file,
      hint: `add hosts under [${group}] in ${file}`,
    });
  }
  const warnings = hostNames.flatMap((host) =>
    (secrets.get(host) ?? []).map((key) => secretWarning(file, host, key)),
  );
  const nodes = hostNames.map((alias) => {
    const vars = inventory.hosts[alias]!;
    if (!NODE_NAME_PATTERN.test(alias)) {
      throw new MadError("INVALID_FILE", `${file}: host "${alias}" is not a valid node name`, {
        file,
        hint: "node names may use letters, digits, '.', '_' and '-': use such an alias with ansible_host=<address>",
      });
    }
    const connection = vars.ansible_connection;
    if (connection !== undefined && !["ssh", "paramiko", "smart"].includes(connection)) {
      warnings.push(
        `${file}: host "${alias}": ansible_connection=${connection} is ignored; the node is reached over SSH`,
      );
    }
    const portText = firstOf(vars, "ansible_port", "ansible_ssh_port");
    let port: number | undefined;
    if (portText !== undefined) {
      port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
      if (!(port >= 1 && port <= 65535)) {
        throw new MadError(
          "INVALID_FILE",
          `${file}: host "${alias}": ansible_port must be 1-65535, found "${portText}"`,
          {
            file,
            hint: `fix ansible_port for ${alias}`,
          },
        );
      }
    }
    const sshOptions = sshArgOptions(
      [vars.ansible_ssh_common_args ?? "", vars.ansible_ssh_extra_args ?? ""].join(" "),
      file,
    );
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(vars)) {
      if (!key.startsWith("ansible_")) labels[key] = value;
    }
    const input: NodeInput = {
      name: alias,
      host: firstOf(vars, "ansible_host", "ansible_ssh_host") ?? alias,
      labels,
    };
    if (port !== undefined) input.port = port;
    const user = firstOf(vars, "ansible_user", "ansible_ssh_user");
    if (user !== undefined) input.user = user;
    const key = firstOf(vars, "ansible_ssh_private_key_file", "ansible_private_key_file");
    if (key !== undefined) input.identityFile = key;
    const knownHosts = sshOptions.get("userknownhostsfile");
    if (knownHosts !== undefined && knownHosts.toLowerCase() !== "none") input.knownHostsFile = knownHosts;
    const jump = sshOptions.get("proxyjump");
    if (jump !== undefined && jump.toLowerCase() !== "none") input.proxyJump = jump;
    const parsed = nodeSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new MadError(
        "INVALID_FILE",
        `${file}: host "${alias}" cannot become a node: ${issue.path.join(".")}: ${issue.message}`,
        { file, hint: `fix the variables of ${alias} in ${file}` },
      );
    }
    return parsed.data;
  });
  return { nodes, warnings };
}
