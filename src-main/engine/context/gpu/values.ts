/**
 * Value handling shared by the GPU tool parsers. The tools print numbers with units ("81559 MiB",
 * "43.0°C", "(1402Mhz)") and several spellings of "no value"; parsers turn those into numbers or
 * leave the field out.
 */
import type { GpuDevice } from "../../../../shared/schemas/gpu.js";

/** What every parser returns: the devices it could read, plus lines saying what went wrong. */
export interface GpuParseResult {
  devices: GpuDevice[];
  problems: string[];
  driverVersion?: string;
  /** CUDA version (NVIDIA) or ROCm/HIP `major.minor` (AMD). */
  runtimeVersion?: string;
}

const MISSING_VALUES = new Set([
  "",
  "n/a",
  "na",
  "none",
  "not supported",
  "not available",
  "requested functionality has been deprecated",
  "unknown error",
  "unknown",
  "gpu is lost",
  "insufficient permissions",
  "err!",
  "redacted",
]);

/** The text of a cell, or undefined when the tool says there is no value (`[N/A]`, `<redacted>`, ...). */
export function presentText(raw: string | undefined | null): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = raw.trim();
  const bare = text.replace(/^[[<](.*)[\]>]$/, "$1").trim();
  return MISSING_VALUES.has(bare.toLowerCase()) ? undefined : text;
}

export interface Measure {
  value: number;
  unit: string;
}

/** The leading number of a cell and the unit right after it: "631.95 W", "43.0°C", "(1402Mhz)", "100 %". */
export function parseMeasure(raw: string | undefined | null): Measure | undefined {
  const text = presentText(raw);
  if (text === undefined) return undefined;
  const match = /^\(?\s*([-+]?\d+(?:\.\d+)?)\s*(°?[A-Za-z%]*)/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  return Number.isFinite(value) ? { value, unit: match[2] ?? "" } : undefined;
}

export function parseNumber(raw: string | undefined | null): number | undefined {
  return parseMeasure(raw)?.value;
}

const BYTES_PER_UNIT: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  // amd-smi labels MiB as "MB" (its 65520 MB is rocminfo's 67092480 KB), so the decimal units are binary here.
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Converts a memory amount to whole MiB; `defaultUnit` applies when the cell has none (`nounits` CSV). */
export function toMiB(raw: string | undefined | null, defaultUnit = "MiB"): number | undefined {
  const measure = parseMeasure(raw);
  if (measure === undefined) return undefined;
  const factor = BYTES_PER_UNIT[(measure.unit || defaultUnit).toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round((measure.value * factor) / 1024 ** 2);
}

/** `7.2.53211-9999` → `7.2`. */
export function majorMinor(version: string | undefined): string | undefined {
  const match = /(\d+)\.(\d+)/.exec(version ?? "");
  return match ? `${match[1]}.${match[2]}` : undefined;
}

const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");

export function stripAnsi(text: string): string {
  return text.replace(ANSI_ESCAPE, "");
}

export function splitLines(text: string): string[] {
  return stripAnsi(text).split(/\r?\n/);
}

/**
 * A PCI address in one spelling so that tools can be matched: lower case, 4-digit domain
 * (nvidia-smi prints 8 digits, amd-smi and rocm-smi 4).
 */
export function busIdKey(busId: string | undefined): string | undefined {
  const match = /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(busId?.trim() ?? "");
  if (!match) return undefined;
  const domain = (match[1] ?? "0").padStart(4, "0").slice(-4);
  return `${domain}:${match[2]?.padStart(2, "0")}:${match[3]?.padStart(2, "0")}.${match[4]}`.toLowerCase();
}

/** Drops undefined fields so that results compare and serialise cleanly. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/** The message of Python logging error lines (`ERROR:root:...`), which amd-smi and rocm-smi print on failure. */
export function pythonErrorMessages(text: string): string[] {
  return splitLines(text)
    .map((line) => /^(?:ERROR|CRITICAL):[\w.]*:\s*(.*\S)/.exec(line.trim())?.[1])
    .filter((message): message is string => message !== undefined);
}

export function firstNonEmptyLine(text: string): string | undefined {
  return splitLines(text)
    .map((line) => line.trim())
    .find((line) => line !== "");
}

/**
 * The JSON document in a tool's stdout, which may be preceded by warnings or log lines. Returns
 * undefined when there is none or it does not parse.
 */
export function parseEmbeddedJson(text: string): unknown {
  const start = /^[ \t]*[[{]/m.exec(text);
  if (!start) return undefined;
  const body = text.slice(start.index).trim();
  for (const candidate of [body, body.slice(0, Math.max(body.lastIndexOf("}"), body.lastIndexOf("]")) + 1)]) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next candidate: trailing log lines after the document are cut off
    }
  }
  return undefined;
}

/** Column name → cell, for fixed-width tables whose cells start where their header does. */
export function readColumns(header: string, line: string): Record<string, string> {
  const columns = [...header.matchAll(/\S+(?: \S+)*/g)].map((match) => ({
    name: match[0],
    start: match.index,
  }));
  return Object.fromEntries(
    columns.map((column, i) => [
      column.name,
      line.slice(column.start, columns[i + 1]?.start ?? line.length).trim(),
    ]),
  );
}
