/** Longest line kept whole; longer lines are cut into pieces of at most this many bytes. */
export const MAX_LINE_BYTES = 64 * 1024;

export type LineListener = (line: string, startOffset: number) => void;

/**
 * Splits a byte stream into lines the same way wherever it is cut into chunks, so a live tail and a
 * later read from any line start agree on line numbers. A line ends at "\n" (a "\r" before it is
 * dropped); a line longer than `maxLineBytes` is cut there, never inside a UTF-8 character. Holds
 * at most one line's bytes.
 */
export class LineSplitter {
  private readonly buffer: Buffer;
  private length = 0;
  /** Byte offset (in the stream) of the line being collected. */
  private lineStart: number;

  constructor(
    startOffset = 0,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {
    this.buffer = Buffer.allocUnsafe(maxLineBytes);
    this.lineStart = startOffset;
  }

  /** Bytes held for a line that has not ended yet. */
  get pendingBytes(): number {
    return this.length;
  }

  /** Feeds a chunk; `onLine` gets every line it completes. The chunk may be reused afterwards. */
  push(chunk: Buffer, onLine: LineListener): void {
    let position = 0;
    while (position < chunk.length) {
      const newline = chunk.indexOf(0x0a, position);
      const segmentEnd = newline === -1 ? chunk.length : newline;
      const take = Math.min(segmentEnd - position, this.maxLineBytes - this.length);
      chunk.copy(this.buffer, this.length, position, position + take);
      this.length += take;
      position += take;
      if (position === segmentEnd) {
        if (newline === -1) return;
        this.emit(this.length, 1, onLine);
        position = newline + 1;
        continue;
      }
      // the line is full and goes on: cut it, but not inside a multi-byte character
      this.emit(this.cutPoint(chunk[position]!), 0, onLine);
    }
  }

  /** Ends the stream: the bytes after the last "\n", if any, as a last line. */
  flush(onLine: LineListener): void {
    if (this.length > 0) this.emit(this.length, 0, onLine);
  }

  private cutPoint(nextByte: number): number {
    if ((nextByte & 0xc0) !== 0x80) return this.length;
    // the next byte continues a character that began in the buffer: cut before its lead byte
    for (let index = this.length - 1; index >= Math.max(1, this.length - 3); index--) {
      const byte = this.buffer[index]!;
      if ((byte & 0xc0) === 0xc0) return index;
      if ((byte & 0xc0) !== 0x80) break;
    }
    return this.length;
  }

  /** Emits buffer[0, end) as a line, consumes `terminator` more bytes, keeps buffer[end, length). */
  private emit(end: number, terminator: number, onLine: LineListener): void {
    const textEnd = terminator === 1 && end > 0 && this.buffer[end - 1] === 0x0d ? end - 1 : end;
    const line = this.buffer.toString("utf8", 0, textEnd);
    const start = this.lineStart;
    const rest = this.length - end;
    if (rest > 0) this.buffer.copy(this.buffer, 0, end, this.length);
    this.length = rest;
    this.lineStart = start + end + terminator;
    onLine(line, start);
  }
}
