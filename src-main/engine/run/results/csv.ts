/**
 * RFC 4180 CSV, as pandas and Python's csv module write it: comma separator, `"` quoting with
 * doubled quotes inside, CRLF or LF (or a lone CR) between records, newlines allowed inside quoted
 * fields. Lenient where the RFC is strict but real files are not: a quote inside an unquoted field is
 * kept literally, and text after a closing quote is appended to the field (as Python's csv does).
 */

/** One record and the 1-based physical line on which it starts. */
export interface CsvRecord {
  cells: string[];
  line: number;
}

export interface ParseCsvOptions {
  /** Drop records that are an empty line (a single empty cell). Default false. */
  skipBlankLines?: boolean;
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;

/** Parses CSV text into records with their starting line numbers; see {@link parseCsv}. */
export function parseCsvRecords(text: string, options: ParseCsvOptions = {}): CsvRecord[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  const n = src.length;
  let line = 1;
  let i = 0;
  let cells: string[] = [];
  let recordLine = 1;
  let sawQuote = false;

  const endRecord = (): void => {
    const blank = cells.length === 1 && cells[0] === "" && !sawQuote;
    if (!(options.skipBlankLines && blank)) {
      records.push({ cells, line: recordLine });
    }
    cells = [];
    sawQuote = false;
  };

  while (i < n) {
    if (cells.length === 0) recordLine = line;
    let value = "";
    let code = src.charCodeAt(i);
    if (code === QUOTE) {
      sawQuote = true;
      // quoted field: runs to the next quote that is not doubled
      const startLine = line;
      i++;
      let segmentStart = i;
      for (;;) {
        const q = src.indexOf('"', i);
        if (q === -1) {
          throw new Error(
            `CSV line ${startLine}: unterminated quoted field (a '"' opens a field that is never closed before the end of the text)`,
          );
        }
        line += countLineBreaks(src, i, q);
        if (src.charCodeAt(q + 1) === QUOTE) {
          value += src.slice(segmentStart, q + 1);
          i = q + 2;
          segmentStart = i;
          continue;
        }
        value += src.slice(segmentStart, q);
        i = q + 1;
        break;
      }
      // lenient: anything between the closing quote and the next separator belongs to the field
      const stop = nextSeparator(src, i);
      if (stop > i) {
        value += src.slice(i, stop);
        i = stop;
      }
    } else {
      const stop = nextSeparator(src, i);
      value = src.slice(i, stop);
      i = stop;
    }
    cells.push(value);
    if (i >= n) break;
    code = src.charCodeAt(i);
    if (code === COMMA) {
      i++;
      if (i >= n) {
        // "a," at the very end: the record ends with an empty cell
        cells.push("");
      }
      continue;
    }
    // line break: CRLF, LF or CR
    if (code === CR && src.charCodeAt(i + 1) === LF) i += 2;
    else i++;
    line++;
    endRecord();
  }
  if (cells.length > 0) endRecord();
  return records;
}

/**
 * Parses CSV text (RFC 4180) into rows of cells. A UTF-8 BOM is stripped; the last record may lack
 * a line break; an empty line is a record with one empty cell (unless `skipBlankLines`). Throws an
 * Error naming the line on which an unterminated quoted field starts.
 */
export function parseCsv(text: string, options: ParseCsvOptions = {}): string[][] {
  return parseCsvRecords(text, options).map((record) => record.cells);
}

/** Index of the next `,`, CR or LF at or after `from` (or the text length). */
function nextSeparator(src: string, from: number): number {
  const n = src.length;
  for (let j = from; j < n; j++) {
    const c = src.charCodeAt(j);
    if (c === COMMA || c === LF || c === CR) return j;
  }
  return n;
}

/** Physical line breaks (CRLF, LF, lone CR) in src[from, to). */
function countLineBreaks(src: string, from: number, to: number): number {
  let count = 0;
  for (let j = from; j < to; j++) {
    const c = src.charCodeAt(j);
    if (c === LF) count++;
    else if (c === CR && src.charCodeAt(j + 1) !== LF) count++;
  }
  return count;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** Formats one CSV record: a cell is quoted only if it holds `,` `"` CR or LF. No line break added. */
export function formatCsvRow(cells: readonly string[]): string {
  return cells.map(formatCsvCell).join(",");
}

/** Formats one CSV cell (see {@link formatCsvRow}). */
export function formatCsvCell(cell: string): string {
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
