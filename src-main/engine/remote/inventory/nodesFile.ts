/**
 * `nodes.json`: read, write (atomically), add, remove, import and select nodes. Every error names
 * the file and, for content errors, the JSON path.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { MadError, type MadErrorCode } from "../../../../shared/errors.js";
import {
  emptyNodesFile,
  type Node,
  type NodeInput,
  type NodesFile,
  type NodesFileInput,
  nodeSchema,
  nodesFileSchema,
  proxyJumpHops,
} from "../../../../shared/schemas/nodes.js";
import {
  describeValue,
  formatJsonPath,
  parseJsonText,
  validateWithSchema,
} from "../../../../shared/schemas/validate.js";
import { readTextFile, writeJsonAtomic } from "../../util/jsonFiles.js";
import { nearestNames } from "../../util/nearest.js";

export const NODES_FILE_MISSING_HINT =
  "add a node with `madengine-cli nodes add ...` or import them with `madengine-cli nodes import ...`";

/**
 * Validates a nodes file. Cross-node checks (unique names, ProxyJump loops) carry their own
 * sentence, so they are reported as `file: path: sentence` instead of "expected ..., found ...".
 */
function validateNodesFile(data: unknown, file: string, code: MadErrorCode): NodesFile {
  const result = nodesFileSchema.safeParse(data);
  if (result.success) return result.data;
  const first = result.error.issues[0]!;
  if (first.code !== "custom") return validateWithSchema(nodesFileSchema, data, { file, code });
  const where = formatJsonPath(first.path);
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : "";
  throw new MadError(code, `${file}: ${where}: ${first.message}${more}`, {
    file,
    path: where,
    hint: `fix ${where} in ${file}`,
  });
}

/** Reads and validates nodes.json. A missing file is FILE_NOT_FOUND, with how to create one. */
export async function readNodesFile(file: string): Promise<NodesFile> {
  const text = await readTextFile(file, { missingHint: NODES_FILE_MISSING_HINT });
  return validateNodesFile(parseJsonText(text, file), file, "INVALID_FILE");
}

/** Reads nodes.json, or an empty nodes file when there is none yet. */
export async function readNodesFileOrEmpty(file: string): Promise<NodesFile> {
  try {
    return await readNodesFile(file);
  } catch (error) {
    if (error instanceof MadError && error.code === "FILE_NOT_FOUND") return emptyNodesFile();
    throw error;
  }
}

/**
 * Validates and writes nodes.json (defaults filled in) through a temp file and a rename, creating
 * its directory when missing. Returns what was written.
 */
export async function writeNodesFile(file: string, data: NodesFileInput): Promise<NodesFile> {
  const valid = validateNodesFile(data, file, "INVALID_ARGS");
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  } catch (error) {
    throw new MadError("INVALID_FILE", `${file}: cannot create its directory: ${(error as Error).message}`, {
      file,
      hint: "check that the directory can be created",
      cause: error,
    });
  }
  await writeJsonAtomic(file, valid);
  return valid;
}

function validNode(node: NodeInput, where: string): Node {
  const result = nodeSchema.safeParse(node);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const at = formatJsonPath(issue.path);
  const found = describeValue(
    issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k], node),
  );
  throw new MadError("INVALID_ARGS", `${where}: ${at}: expected ${issue.message}, found ${found}`, {
    path: at,
    hint: `fix ${at}`,
  });
}

/** Adds a node to the file (created when missing). A name already there is an error unless `replace`. */
export async function addNode(
  file: string,
  node: NodeInput,
  options: { replace?: boolean } = {},
): Promise<Node> {
  const current = await readNodesFileOrEmpty(file);
  const valid = validNode(node, `node "${node.name}"`);
  const index = current.nodes.findIndex((n) => n.name === valid.name);
  if (index >= 0 && !options.replace) {
    throw new MadError("INVALID_ARGS", `${file}: a node named "${valid.name}" already exists`, {
      file,
      hint: "choose another name, remove the node first, or replace it",
    });
  }
  const nodes = [...current.nodes];
  if (index >= 0) nodes[index] = valid;
  else nodes.push(valid);
  await writeNodesFile(file, { ...current, nodes });
  return valid;
}

function unknownNodeError(file: string, name: string, names: readonly string[]): MadError {
  const near = nearestNames(name, names, 3);
  const listed = names.length > 0 ? names.join(", ") : "(none)";
  return new MadError("INVALID_ARGS", `${file}: no node named "${name}" (nodes: ${listed})`, {
    file,
    hint:
      near.length > 0
        ? `did you mean ${near.map((n) => `"${n}"`).join(", ")}?`
        : names.length > 0
          ? `use one of: ${listed}`
          : NODES_FILE_MISSING_HINT,
  });
}

/**
 * Removes a node by name; returns the removed node. An unknown name is an error listing the names.
 * Nodes whose ProxyJump goes through the removed node keep working only if the name also resolves
 * as a host, so removing a node that others jump through is refused.
 */
export async function removeNode(file: string, name: string): Promise<Node> {
  const current = await readNodesFile(file);
  const names = current.nodes.map((n) => n.name);
  const node = current.nodes.find((n) => n.name === name);
  if (!node) throw unknownNodeError(file, name, names);
  const dependents = current.nodes.filter(
    (n) => n.proxyJump !== undefined && proxyJumpHops(n.proxyJump).includes(name),
  );
  if (dependents.length > 0) {
    throw new MadError(
      "INVALID_ARGS",
      `${file}: node "${name}" is the ProxyJump of ${dependents.map((n) => `"${n.name}"`).join(", ")}`,
      { file, hint: "change or remove those nodes' proxyJump first" },
    );
  }
  await writeNodesFile(file, { ...current, nodes: current.nodes.filter((n) => n.name !== name) });
  return node;
}

/**
 * Merges imported nodes into a nodes file's data. Without `replace`, any name already present is an
 * error naming every clash; with it, a clashing node is replaced where it stands. New nodes follow.
 */
export function mergeImportedNodes(
  existing: NodesFile,
  imported: readonly NodeInput[],
  options: { replace: boolean },
): NodesFile {
  const valid = imported.map((node, i) => validNode(node, `imported node ${i} ("${node.name}")`));
  const seen = new Set<string>();
  const repeated = valid.filter((n) => seen.has(n.name) || !seen.add(n.name)).map((n) => n.name);
  if (repeated.length > 0) {
    throw new MadError(
      "INVALID_ARGS",
      `the imported nodes repeat the name ${[...new Set(repeated)].join(", ")}`,
      {
        hint: "give each imported node its own name",
      },
    );
  }
  const existingNames = new Set(existing.nodes.map((n) => n.name));
  const clashes = valid.filter((n) => existingNames.has(n.name)).map((n) => n.name);
  if (clashes.length > 0 && !options.replace) {
    throw new MadError(
      "INVALID_ARGS",
      `${clashes.length === 1 ? "a node" : "nodes"} already defined: ${clashes.join(", ")}`,
      { hint: "import with replace to overwrite them, or remove them first" },
    );
  }
  const byName = new Map(valid.map((n) => [n.name, n]));
  const nodes = existing.nodes.map((n) => byName.get(n.name) ?? n);
  for (const node of valid) if (!existingNames.has(node.name)) nodes.push(node);
  return validateNodesFile({ ...existing, nodes }, "the merged nodes", "INVALID_ARGS");
}

/** Parses `key=value` label selectors (as given on a command line) into a label filter. */
export function parseLabelSelectors(selectors: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const selector of selectors) {
    const eq = selector.indexOf("=");
    if (eq <= 0) {
      throw new MadError("INVALID_ARGS", `not a label selector: ${JSON.stringify(selector)}`, {
        hint: "write labels as key=value, e.g. gpu=MI300X",
      });
    }
    const key = selector.slice(0, eq).trim();
    const value = selector.slice(eq + 1).trim();
    if (labels[key] !== undefined && labels[key] !== value) {
      throw new MadError(
        "INVALID_ARGS",
        `label ${key} is selected with two values (${labels[key]}, ${value})`,
        {
          hint: "a node has one value per label: give each key once",
        },
      );
    }
    labels[key] = value;
  }
  return labels;
}

/**
 * The nodes to use: those named (in the order given; all when no names), then only those carrying
 * every given label. An unknown name is an error with the nearest names; an empty result is an error.
 */
export async function selectNodes(
  file: string,
  names?: readonly string[],
  labels?: Readonly<Record<string, string>>,
): Promise<Node[]> {
  const { nodes } = await readNodesFile(file);
  const allNames = nodes.map((n) => n.name);
  if (nodes.length === 0) {
    throw new MadError("INVALID_ARGS", `${file}: no nodes defined`, { file, hint: NODES_FILE_MISSING_HINT });
  }
  let selected = nodes;
  if (names !== undefined && names.length > 0) {
    selected = [...new Set(names)].map((name) => {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw unknownNodeError(file, name, allNames);
      return node;
    });
  }
  const filter = Object.entries(labels ?? {});
  if (filter.length === 0) return selected;
  const matching = selected.filter((node) => filter.every(([key, value]) => node.labels[key] === value));
  if (matching.length === 0) {
    const wanted = filter.map(([k, v]) => `${k}=${v}`).join(", ");
    const inUse = [
      ...new Set(selected.flatMap((n) => Object.entries(n.labels).map(([k, v]) => `${k}=${v}`))),
    ];
    throw new MadError(
      "INVALID_ARGS",
      `${file}: no ${names?.length ? "selected " : ""}node has the labels ${wanted}`,
      {
        file,
        hint: inUse.length > 0 ? `labels in use: ${inUse.sort().join(", ")}` : "no node has labels yet",
      },
    );
  }
  return matching;
}
