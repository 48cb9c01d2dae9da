import { open } from "node:fs/promises";
import { LineSplitter, MAX_LINE_BYTES } from "./lineSplitter.js";
import type { LineCheckpoint } from "./logTail.js";

export interface ReadLinesOptions {
  /** Line starts known from the live tail: the read starts at the nearest one at or before `fromLine`. */
  checkpoints?: readonly LineCheckpoint[];
  /** The writer is done: bytes after the last "\n" count as a last line. */
  includePartialLastLine: boolean;
  /** Stop early once this many characters are collected (default 4 Mi). */
  maxChars?: number;
  maxLineBytes?: number;
}

export interface ReadLinesResult {
  lines: string[];
  nextLine: number;
  /** No line after `nextLine` exists (yet): the reader is at the end of what was written. */
  atEnd: boolean;
}

class Stop extends Error {}

/**
 * Reads lines [fromLine, fromLine + maxLines) of a log file with the same line rules as the live tail
 * (LineSplitter), streaming from the nearest checkpoint: never the whole file in memory.
 */
export async function readLogLines(
  file: string,
  fromLine: number,
  maxLines: number,
  options: ReadLinesOptions,
): Promise<ReadLinesResult> {
  let start: LineCheckpoint = { line: 0, offset: 0 };
  for (const checkpoint of options.checkpoints ?? []) {
    if (checkpoint.line <= fromLine && checkpoint.line >= start.line) start = checkpoint;
  }
  const maxChars = options.maxChars ?? 4 * 1024 * 1024;
  const lines: string[] = [];
  let chars = 0;
  let number = start.line;
  let full = false;
  const onLine = (line: string) => {
    const current = number++;
    if (current < fromLine) return;
    if (lines.length >= maxLines || (lines.length > 0 && chars + line.length > maxChars)) {
      full = true;
      throw new Stop();
    }
    lines.push(line);
    chars += line.length;
  };

  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { lines, nextLine: fromLine, atEnd: true };
    throw error;
  }
  try {
    const splitter = new LineSplitter(start.offset, options.maxLineBytes ?? MAX_LINE_BYTES);
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let offset = start.offset;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        splitter.push(chunk.subarray(0, bytesRead), onLine);
      }
      if (options.includePartialLastLine) splitter.flush(onLine);
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
    }
  } finally {
    await handle.close().catch(() => {});
  }
  return { lines, nextLine: fromLine + lines.length, atEnd: !full };
}
