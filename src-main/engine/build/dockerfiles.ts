import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Context } from "../../../shared/schemas/context.js";
import { PythonLiteralError, type PythonValue, parsePythonLiteral } from "./pythonLiteral.js";

const HEADER_MARKER = "# CONTEXT ";
const HEADER_SEARCH_LINES = 5;

export interface DockerfileCandidate {
  /** Path relative to the MAD root, e.g. `docker/dummy.ubuntu.amd.Dockerfile`. */
  file: string;
  /** The parsed `# CONTEXT` header (an empty object if there is none). */
  header: Record<string, PythonValue>;
}

export type DockerfileSelection =
  | { ok: true; matching: DockerfileCandidate[]; candidates: DockerfileCandidate[] }
  | { ok: false; error: string; hint: string };

/** Reads the `# CONTEXT {...}` header among the first lines of a Dockerfile. */
export function parseContextHeader(text: string, file: string): Record<string, PythonValue> {
  const lines = text.split("\n").slice(0, HEADER_SEARCH_LINES);
  const headers = lines.filter((line) => line.includes(HEADER_MARKER));
  if (headers.length === 0) return {};
  if (headers.length > 1) throw new Error(`${file}: more than one '# CONTEXT' header line`);
  const literal = headers[0]!.slice(headers[0]!.indexOf(HEADER_MARKER) + HEADER_MARKER.length).trim();
  let value: PythonValue;
  try {
    value = parsePythonLiteral(literal);
  } catch (error) {
    const reason = error instanceof PythonLiteralError ? error.message : String(error);
    throw new Error(`${file}: malformed '# CONTEXT' header (${reason}): ${literal}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(
      `${file}: '# CONTEXT' header must be a dict such as {'gpu_vendor': 'AMD'}, found: ${literal}`,
    );
  }
  return value;
}

/** Every Dockerfile of a family: files named `<prefix>.*` next to the prefix, in sorted order. */
export async function listFamily(madRoot: string, prefix: string): Promise<string[]> {
  const dir = path.dirname(path.join(madRoot, prefix));
  const stem = `${path.basename(prefix)}.`;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isFile() && entry.name.startsWith(stem) && !entry.name.endsWith(".dockerignore"))
    .map((entry) => entry.name)
    .sort()
    .map((name) => path.posix.join(path.posix.dirname(prefix), name));
}

/** The context's own value for a key: `constructor` or `__proto__` in a header must not find Object's. */
function contextValue(context: Context, key: string): unknown {
  return Object.hasOwn(context, key) ? (context as Record<string, unknown>)[key] : undefined;
}

function headerMatches(header: Record<string, PythonValue>, context: Context): boolean {
  return Object.entries(header).every(([key, wanted]) => {
    const actual = contextValue(context, key);
    if (actual === undefined) return true;
    return String(actual) === String(wanted);
  });
}

function describeHeader(header: Record<string, PythonValue>): string {
  const pairs = Object.entries(header).map(([key, value]) => `${key}=${String(value)}`);
  return pairs.length === 0 ? "no header" : pairs.join(", ");
}

/**
 * Picks the Dockerfiles of a family whose `# CONTEXT` header agrees with the context on every key the
 * context has (spec §4.2). Unlike the original, finding none is reported, never silently skipped.
 */
export async function selectDockerfiles(
  madRoot: string,
  prefix: string,
  context: Context,
): Promise<DockerfileSelection> {
  const files = await listFamily(madRoot, prefix);
  if (files.length === 0) {
    return {
      ok: false,
      error: `no Dockerfile matches ${prefix}.*`,
      hint: `add a Dockerfile such as ${prefix}.ubuntu.amd.Dockerfile, or fix the model's "dockerfile" prefix`,
    };
  }
  const candidates: DockerfileCandidate[] = [];
  for (const file of files) {
    const text = await readFile(path.join(madRoot, file), "utf8");
    try {
      candidates.push({ file, header: parseContextHeader(text, file) });
    } catch (error) {
      return {
        ok: false,
        error: (error as Error).message,
        hint: "write the header as a Python dict on one of the first 5 lines: # CONTEXT {'gpu_vendor': 'AMD', 'guest_os': 'UBUNTU'}",
      };
    }
  }
  const matching = candidates.filter((candidate) => headerMatches(candidate.header, context));
  if (matching.length === 0) {
    const wanted = Object.keys(Object.assign({}, ...candidates.map((c) => c.header)))
      .filter((key) => contextValue(context, key) !== undefined)
      .map((key) => `${key}=${String(contextValue(context, key))}`)
      .join(", ");
    return {
      ok: false,
      error: `no Dockerfile of ${prefix}.* matches the context (${wanted}); candidates: ${candidates
        .map((c) => `${path.posix.basename(c.file)} (${describeHeader(c.header)})`)
        .join("; ")}`,
      hint: "pass a context that matches one of the candidates (-c), or add a Dockerfile for this target",
    };
  }
  return { ok: true, matching, candidates };
}
