/**
 * perf.csv (spec §5.7): the 25 columns in the original order are a compatibility contract. Unlike
 * the original (which read the file with pandas and rewrote it), rows are only ever appended, in one
 * write, and an existing file with another header is refused rather than rewritten.
 */
import { randomBytes } from "node:crypto";
import { appendFile, open, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { MadError } from "../../../../shared/errors.js";
import {
  PERF_CSV_COLUMNS,
  PERF_CSV_HEADER,
  type PerfRow,
  perfRowSchema,
} from "../../../../shared/schemas/perf.js";
import { validateWithSchema } from "../../../../shared/schemas/validate.js";
import { readTextFile } from "../../util/jsonFiles.js";
import { formatCsvRow, parseCsv, parseCsvRecords } from "./csv.js";

export const PERF_ENTRY_JSON = "perf_entry.json";
export const PERF_ENTRY_CSV = "perf_entry.csv";

/** How much of an existing perf.csv is read to find its header line. */
const HEADER_PROBE_BYTES = 64 * 1024;

const perfRowsSchema = z.array(perfRowSchema);

function validateRows(rows: readonly PerfRow[], target: string): PerfRow[] {
  return validateWithSchema(perfRowsSchema, rows, {
    file: `perf rows for ${target}`,
    code: "INTERNAL",
    hint: "a perf row needs a model name, status SUCCESS, FAILURE or SKIPPED and string cells only (a bug in the caller)",
  });
}

/** One perf row as a CSV line, columns in the contract's order, with its "\n". */
export function formatPerfRow(row: PerfRow): string {
  return `${formatCsvRow(PERF_CSV_COLUMNS.map((column) => row[column]))}\n`;
}

interface ExistingFile {
  /** The first line, without BOM and line break; undefined for an empty file. */
  header: string | undefined;
  endsWithNewline: boolean;
}

/** Reads just the start and the last byte of an existing file; undefined when there is none. */
async function probeFile(file: string): Promise<ExistingFile | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw cannotAccess(file, error);
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return { header: undefined, endsWithNewline: true };
    const head = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    let text = head.toString("utf8", 0, bytesRead);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const nl = text.indexOf("\n");
    let header = nl === -1 ? text : text.slice(0, nl);
    if (header.endsWith("\r")) header = header.slice(0, -1);
    return { header, endsWithNewline: last[0] === 0x0a };
  } catch (error) {
    throw cannotAccess(file, error);
  } finally {
    await handle.close();
  }
}

function cannotAccess(file: string, error: unknown): MadError {
  const errno = (error as NodeJS.ErrnoException).code;
  if (errno === "EISDIR") {
    return new MadError("INVALID_FILE", `${file}: is a directory, expected the perf CSV file`, {
      file,
      hint: "pass the path of a file with --output",
      cause: error,
    });
  }
  return new MadError("INVALID_FILE", `${file}: cannot access: ${(error as Error).message}`, {
    file,
    hint: "check the file's and its directory's permissions, or pass another --output path",
    cause: error,
  });
}

/** Says how a header line differs from the contract: the first differing column and the counts. */
export function describeHeaderDifference(header: string): string {
  let columns: string[];
  try {
    columns = parseCsv(header)[0] ?? [""];
  } catch {
    columns = header.split(",");
  }
  const expected: readonly string[] = PERF_CSV_COLUMNS;
  const parts: string[] = [];
  const sameCount = columns.length === expected.length;
  if (sameCount && columns.every((name, i) => name === expected[i])) {
    parts.push("the column names match but the line is written differently (quoted names?)");
  } else if (sameCount && columns.every((name, i) => name.trim() === expected[i])) {
    parts.push("the column names match but are padded with spaces (the legacy ', ' separator)");
  } else {
    const i = columns.findIndex((name, index) => name !== expected[index]);
    const first = i === -1 ? columns.length : i;
    if (first < columns.length && first < expected.length) {
      parts.push(
        `column ${first + 1} is ${JSON.stringify(columns[first])}, expected ${JSON.stringify(expected[first])}`,
      );
    } else if (first < columns.length) {
      parts.push(`column ${first + 1} ${JSON.stringify(columns[first])} is not in the expected header`);
    } else {
      parts.push(`column ${first + 1} ${JSON.stringify(expected[first])} is missing`);
    }
  }
  parts.push(
    `the file has ${columns.length} column${columns.length === 1 ? "" : "s"}, expected ${expected.length}`,
  );
  return parts.join("; ");
}

function headerMismatch(file: string, header: string): MadError {
  return new MadError(
    "INVALID_FILE",
    `${file}: its header is not the ${PERF_CSV_COLUMNS.length}-column perf.csv header this version writes: ${describeHeaderDifference(header)}`,
    {
      file,
      hint: `use another --output path, or move ${file} aside; the existing file was not changed`,
    },
  );
}

/** Pending appends per resolved path (see appendPerfRows). */
const appendQueue = new Map<string, Promise<void>>();

/**
 * Appends rows to a perf CSV. A missing or empty file is created with the exact 25-column header.
 * An existing file must start with exactly that header (a UTF-8 BOM and a CR are tolerated), else a
 * MadError (INVALID_FILE, exit code 1) explains the difference; an existing file is never rewritten.
 * All rows go out in one append, so an interrupted run never leaves half a row of ours; a missing
 * final line break of the existing file is added first. Appends to one file from this process are
 * serialized, so concurrent calls never both write a header.
 */
export async function appendPerfRows(file: string, rows: readonly PerfRow[]): Promise<void> {
  const valid = validateRows(rows, file);
  const body = valid.map(formatPerfRow).join("");
  const key = path.resolve(file);
  const previous = appendQueue.get(key) ?? Promise.resolve();
  const current = previous.then(
    () => appendBody(file, body),
    () => appendBody(file, body),
  );
  appendQueue.set(key, current);
  try {
    await current;
  } finally {
    if (appendQueue.get(key) === current) appendQueue.delete(key);
  }
}

async function appendBody(file: string, body: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const existing = await probeFile(file);
    if (existing === undefined) {
      try {
        // "wx": if another writer created the file meanwhile, look at it again instead of overwriting
        await writeFile(file, `${PERF_CSV_HEADER}\n${body}`, { encoding: "utf8", flag: "wx" });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST" && attempt === 0) continue;
        throw cannotWrite(file, error);
      }
    }
    let text: string;
    if (existing.header === undefined) text = `${PERF_CSV_HEADER}\n${body}`;
    else if (existing.header !== PERF_CSV_HEADER) throw headerMismatch(file, existing.header);
    else if (body === "") return;
    else text = `${existing.endsWithNewline ? "" : "\n"}${body}`;
    try {
      await appendFile(file, text, "utf8");
    } catch (error) {
      throw cannotWrite(file, error);
    }
    return;
  }
}

function cannotWrite(file: string, error: unknown): MadError {
  return new MadError("INVALID_FILE", `${file}: cannot write: ${(error as Error).message}`, {
    file,
    hint: "check that the directory exists and is writable, or pass another --output path",
    cause: error,
  });
}

export interface PerfCsvContents {
  /** Column names in file order, whitespace stripped. */
  columns: string[];
  /** One object per data row, keyed by column name ("" for a missing cell). */
  rows: Record<string, string>[];
}

/**
 * Reads a perf CSV by column name, so files of other madengine versions load too (the 29-column
 * one, the legacy ", "-separated one). Blank lines are skipped; a row with more cells than the
 * header is an error naming its line.
 */
/** The CSV records of a file (blank lines skipped); a syntax error names the file and the line. */
export async function readCsvFileRecords(file: string): Promise<ReturnType<typeof parseCsvRecords>> {
  const text = await readTextFile(file);
  try {
    return parseCsvRecords(text, { skipBlankLines: true });
  } catch (error) {
    throw new MadError("INVALID_FILE", `${file}: ${(error as Error).message}`, {
      file,
      hint: "the file is not valid CSV; fix or remove the unterminated quoted field",
      cause: error,
    });
  }
}

export async function readPerfCsv(file: string): Promise<PerfCsvContents> {
  const [headerRecord, ...data] = await readCsvFileRecords(file);
  if (!headerRecord) return { columns: [], rows: [] };
  const columns = headerRecord.cells.map((name) => name.trim());
  const rows = data.map((record) => {
    if (record.cells.length > columns.length) {
      throw new MadError(
        "INVALID_FILE",
        `${file} line ${record.line}: ${record.cells.length} cells, but the header has ${columns.length} columns`,
        { file, hint: `fix line ${record.line} of ${file}; a cell with a ',' must be quoted` },
      );
    }
    const row = new Map<string, string>();
    columns.forEach((name, index) => {
      if (!row.has(name)) row.set(name, record.cells[index] ?? "");
    });
    return Object.fromEntries(row);
  });
  return { columns, rows };
}

/** Writes text so readers never see a half-written file: a sibling temp file, then rename. */
async function writeTextAtomic(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text, "utf8");
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw cannotWrite(file, error);
  }
}

/** A perf row as a plain object with the 25 keys in the contract's order. */
export function orderedPerfRow(row: PerfRow): Record<string, string> {
  return Object.fromEntries(PERF_CSV_COLUMNS.map((column) => [column, row[column]]));
}

/**
 * Writes the side files of one perf update into `dir` (spec §5.7), each atomically:
 * `perf_entry.json` (the last row as a JSON object, keys in column order) and `perf_entry.csv`
 * (the header and just these rows).
 */
export async function writePerfEntryFiles(dir: string, rows: readonly PerfRow[]): Promise<void> {
  const valid = validateRows(rows, PERF_ENTRY_CSV);
  const last = valid[valid.length - 1];
  if (!last) {
    throw new MadError("INTERNAL", "writePerfEntryFiles: no perf rows to write", {
      hint: "a bug: perf_entry files are written only after a run produced at least one row",
    });
  }
  await writeTextAtomic(
    path.join(dir, PERF_ENTRY_JSON),
    `${JSON.stringify(orderedPerfRow(last), null, 2)}\n`,
  );
  await writeTextAtomic(
    path.join(dir, PERF_ENTRY_CSV),
    `${PERF_CSV_HEADER}\n${valid.map(formatPerfRow).join("")}`,
  );
}
