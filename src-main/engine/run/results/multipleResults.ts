/**
 * The multiple-results CSV a model script may write instead of a `performance:` line (spec §5.6):
 * columns `model`, `performance`, `metric` (header whitespace stripped), one perf.csv row per data row.
 */
import { MadError } from "../../../../shared/errors.js";
import { parseCsvRecords } from "./csv.js";

export const MULTIPLE_RESULTS_COLUMNS = ["model", "performance", "metric"] as const;

export interface MultipleResultsRow {
  model: string;
  /** The performance cell, or "" when the row has a problem (an empty or missing cell). */
  performance: string;
  metric: string;
  /** Every other column of the file, by header name. */
  extra: Record<string, string>;
}

export interface MultipleResults {
  rows: MultipleResultsRow[];
  /** One line per row with a problem, naming the file and line: "perf_x.csv line 3: ...". */
  problems: string[];
}

/**
 * Parses a multiple-results CSV. Cells are trimmed; blank lines are skipped. A data row with an
 * empty cell in any column, or with a cell count other than the header's, is reported in `problems`
 * and gets performance "" (the original treats such a row's performance as missing). Throws a
 * MadError naming the file when it has no header or lacks a required column.
 */
export function parseMultipleResults(csvText: string, file: string): MultipleResults {
  let records: ReturnType<typeof parseCsvRecords>;
  try {
    records = parseCsvRecords(csvText, { skipBlankLines: true });
  } catch (error) {
    throw new MadError("INVALID_FILE", `${file}: ${(error as Error).message}`, {
      file,
      hint: "the model script wrote a malformed CSV; close the quoted field or remove the stray '\"'",
      cause: error,
    });
  }
  const [headerRecord, ...data] = records;
  if (!headerRecord) {
    throw new MadError("INVALID_FILE", `${file}: the multiple-results CSV is empty`, {
      file,
      hint: `the model script must write a header line with the columns ${MULTIPLE_RESULTS_COLUMNS.join(",")}, then one line per result`,
    });
  }
  const header = headerRecord.cells.map((name) => name.trim());
  const missing = MULTIPLE_RESULTS_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    const list = missing.map((column) => `'${column}'`).join(", ");
    throw new MadError(
      "INVALID_FILE",
      `${file}: missing required column${missing.length > 1 ? "s" : ""} ${list} (header: ${header.join(",")})`,
      {
        file,
        hint: `the multiple-results CSV needs the columns ${MULTIPLE_RESULTS_COLUMNS.join(",")} in its first line`,
      },
    );
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name))
      problems.push(`${file} line ${headerRecord.line}: duplicate column '${name}' (the first one is used)`);
    seen.add(name);
  }
  const modelIndex = header.indexOf("model");
  const performanceIndex = header.indexOf("performance");
  const metricIndex = header.indexOf("metric");

  const rows: MultipleResultsRow[] = [];
  for (const record of data) {
    const cells = record.cells.map((cell) => cell.trim());
    const rowProblems: string[] = [];
    if (cells.length !== header.length) {
      rowProblems.push(
        `${cells.length} cell${cells.length === 1 ? "" : "s"}, the header has ${header.length}`,
      );
    }
    const empty = header.filter((_, index) => index < cells.length && cells[index] === "");
    if (empty.length === 1) rowProblems.push(`empty cell in column '${empty[0]}'`);
    else if (empty.length > 1) {
      rowProblems.push(`empty cells in columns ${empty.map((name) => `'${name}'`).join(", ")}`);
    }
    const extra = new Map<string, string>();
    header.forEach((name, index) => {
      if (index === modelIndex || index === performanceIndex || index === metricIndex) return;
      if (!extra.has(name)) extra.set(name, cells[index] ?? "");
    });
    for (const text of rowProblems) problems.push(`${file} line ${record.line}: ${text}`);
    rows.push({
      model: cells[modelIndex] ?? "",
      performance: rowProblems.length > 0 ? "" : (cells[performanceIndex] ?? ""),
      metric: cells[metricIndex] ?? "",
      extra: Object.fromEntries(extra),
    });
  }
  return { rows, problems };
}

const NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * Whether a performance cell is a number (the original's "not NaN" test, which decides between
 * SUCCESS and FAILURE). Surrounding whitespace is allowed; "", "nan", "N/A", "inf" and hex are not.
 */
export function isNumericPerformance(value: string): boolean {
  return NUMBER.test(value.trim());
}
