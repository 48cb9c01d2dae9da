import type { z } from "zod";
import { MadError, type MadErrorCode } from "../errors.js";

/** Formats a JSON path the way users read it: `[3].n_gpus`, `built_images["ci-a"].dockerfile`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(top level)" : out;
}

/** Short description of a JSON value for error messages: its type and, if small, the value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value);
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `${typeof value} ${shown}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function expectationOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `a value of type ${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return issue.message;
    case "too_big":
      return issue.message;
    case "unrecognized_keys":
      return `no key named ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    default:
      return issue.message;
  }
}

export interface ValidationOptions {
  /** The file the data came from, named in the error (or a label like "--additional-context"). */
  file: string;
  /** Extra advice appended to the generic hint, e.g. how the field is used. */
  hint?: string;
  code?: MadErrorCode;
}

/**
 * Validates parsed JSON against a schema; on failure throws a MadError naming the file, the JSON
 * path of the first problem, what was expected and what was found (plus a count of further problems).
 */
export function validateWithSchema<S extends z.ZodType>(
  schema: S,
  data: unknown,
  options: ValidationOptions,
): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0]!;
  const path = formatJsonPath(first.path);
  const found = describeValue(valueAt(data, first.path));
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  // a refinement's message already says what is expected
  const expectation = first.code === "custom" ? first.message : `expected ${expectationOf(first)}`;
  const message = `${options.file}: ${path}: ${expectation}, found ${found}${more}`;
  const hint = options.hint ?? `fix ${path} in ${options.file}`;
  throw new MadError(options.code ?? "INVALID_FILE", message, { file: options.file, path, hint });
}

/** Line and column (1-based) of a character offset in a text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** JSON.parse with an error that names the file, line and column of the syntax error. */
export function parseJsonText(text: string, file: string, code: MadErrorCode = "INVALID_FILE"): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(raw);
    const lineCol = /\(line (\d+) column (\d+)\)/.exec(raw);
    let where = "";
    if (lineCol) where = `line ${lineCol[1]}, column ${lineCol[2]}`;
    else if (position) {
      const { line, column } = lineAndColumn(text, Number(position[1]));
      where = `line ${line}, column ${column}`;
    } else if (/Unexpected end of JSON input/.test(raw)) {
      const { line, column } = lineAndColumn(text, text.length);
      where = `line ${line}, column ${column} (end of input)`;
    }
    const reason = raw.replace(/\s*\(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+/, "");
    throw new MadError(code, `${file}: not valid JSON${where ? ` at ${where}` : ""}: ${reason}`, {
      file,
      ...(where ? { path: where } : {}),
      hint: `fix the JSON syntax in ${file}${where ? ` near ${where}` : ""} (a missing comma or quote is common)`,
      cause: error,
    });
  }
}
