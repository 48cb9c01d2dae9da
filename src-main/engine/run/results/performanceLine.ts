/**
 * Finding `performance: <value> <metric>` in model output (spec §5.6). The pattern is the later
 * upstream one ([HEAD]): it takes signs, leading dots, exponents, `14164/s`-style units and metrics
 * such as `samples/sec`, which the July 2025 sed expressions missed.
 */

/** The later upstream pattern, verbatim (spec §5.6, "HEAD's improved pattern"). */
export const PERFORMANCE_PATTERN =
  /performance:\s+([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(?:,?\s*\/[a-zA-Z]+\s*,?|,)?\s+([^\s,]+)/;

/** ANSI CSI escape sequences (colours, cursor moves), which a TTY log may wrap around the line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC that starts an ANSI sequence is the point
const ANSI_CSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export interface Performance {
  /** The value exactly as printed, e.g. `1.5e+03` or `-3`. */
  value: string;
  metric: string;
}

export interface PerformanceMatch extends Performance {
  /** The line the value came from, without its line break (at most 4 KiB of it). */
  line: string;
}

/**
 * Extracts the first `performance: <value> <metric>` on a line. ANSI colour sequences are removed
 * first, so a coloured metric does not carry escape codes.
 */
export function extractPerformance(line: string): Performance | undefined {
  const text = line.includes("\u001b") ? line.replace(ANSI_CSI, "") : line;
  const match = PERFORMANCE_PATTERN.exec(text);
  if (!match) return undefined;
  return { value: match[1]!, metric: match[2]! };
}

const NEEDLE = Buffer.from("performance:", "latin1");
const NEEDLE_TAIL = NEEDLE.length - 1;
/** The most of one line the scanner keeps. */
export const MAX_KEPT_LINE_BYTES = 4096;
/** When the first `performance:` of a long line lies too far in, the kept window starts this far before it. */
const CONTEXT_BEFORE = 64;
/** The room a needle needs after it to stay inside the first 4 KiB of a long line. */
const ROOM_AFTER = 512;
/** Bytes of the current line remembered for a needle split across chunks and for context. */
const TAIL_BYTES = NEEDLE_TAIL + CONTEXT_BEFORE;
/** How many matches {@link PerformanceScanner.matches} holds. */
export const MAX_MATCHES = 1000;
const LF = 10;
const CR = 13;

/**
 * Finds `performance:` lines in raw output bytes, chunked in any way, without decoding the stream:
 * a native `Buffer.indexOf` looks for `performance:` in each chunk, and only the lines that contain
 * it are decoded and matched. A line is what lies between `\n` bytes (a trailing `\r` is dropped).
 *
 * Memory stays bounded whatever the input (binary data, a 10 MB line without a line break): of the
 * line being read across chunks at most {@link MAX_KEPT_LINE_BYTES} bytes are kept. A line up to
 * that size is matched whole; of a longer one the scanner keeps its first 4 KiB, or, when its first
 * `performance:` starts too far in for that, the 4 KiB that start 64 bytes before it.
 *
 * `matches` holds the first {@link MAX_MATCHES} matches; `count` counts all of them and `last` is
 * the latest.
 */
export class PerformanceScanner {
  /** The first {@link MAX_MATCHES} matching lines, in order. */
  readonly matches: PerformanceMatch[] = [];
  /** How many lines matched in all (may exceed `matches.length`). */
  count = 0;
  /** The latest match. */
  last: PerformanceMatch | undefined;

  private ended = false;
  /** Bytes of the current (unterminated) line seen so far. */
  private lineLen = 0;
  /** Line offset of the first `performance:` on the current line, or -1. */
  private needleAt = -1;
  /** The kept window of the current line: line[winStart, winStart + winLen). */
  private readonly win = Buffer.allocUnsafe(MAX_KEPT_LINE_BYTES);
  private winStart = 0;
  private winLen = 0;
  /** The last `tailLen` bytes of the current line (kept only until a needle is seen). */
  private readonly tail = Buffer.allocUnsafe(TAIL_BYTES);
  private tailLen = 0;

  /** Feeds the next piece of output. The chunk is read during the call and not kept. */
  push(chunk: Buffer | Uint8Array): void {
    if (this.ended) throw new Error("PerformanceScanner: push() after end()");
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = c.length;
    if (n === 0) return;
    const firstNl = c.indexOf(LF);
    if (firstNl === -1) {
      this.feedPartial(c);
      return;
    }
    let start = 0;
    if (this.lineLen > 0) {
      // the line carried over from earlier chunks ends in this one
      this.feedPartial(c.subarray(0, firstNl));
      this.finishPartial();
      start = firstNl + 1;
    }
    const lastNl = c.lastIndexOf(LF);
    // complete lines in c[start, lastNl]: search the needle natively, decode only lines that hold it
    let pos = start;
    while (pos < lastNl) {
      const hit = c.indexOf(NEEDLE, pos);
      if (hit === -1 || hit >= lastNl) break;
      const lineStart = c.lastIndexOf(LF, hit) + 1;
      const lineEnd = c.indexOf(LF, hit);
      this.matchWindow(c, lineStart, lineEnd, hit - lineStart);
      pos = lineEnd + 1;
    }
    if (lastNl + 1 < n) this.feedPartial(c.subarray(lastNl + 1));
  }

  /** Ends the stream: a last line without a line break is matched too. */
  end(): void {
    if (this.ended) return;
    this.finishPartial();
    this.ended = true;
  }

  /** A complete line buf[lineStart, lineEnd) whose first needle is at line offset p. */
  private matchWindow(buf: Buffer, lineStart: number, lineEnd: number, p: number): void {
    const length = lineEnd - lineStart;
    let from = 0;
    let to = length;
    if (length > MAX_KEPT_LINE_BYTES) {
      from = p + ROOM_AFTER <= MAX_KEPT_LINE_BYTES ? 0 : p - CONTEXT_BEFORE;
      to = Math.min(length, from + MAX_KEPT_LINE_BYTES);
    }
    this.matchText(buf.toString("utf8", lineStart + from, lineStart + to));
  }

  private matchText(text: string): void {
    const line = text.charCodeAt(text.length - 1) === CR ? text.slice(0, -1) : text;
    const found = extractPerformance(line);
    if (!found) return;
    const match: PerformanceMatch = { value: found.value, metric: found.metric, line };
    this.count++;
    this.last = match;
    if (this.matches.length < MAX_MATCHES) this.matches.push(match);
  }

  /** A piece of the current line (no `\n` in it). */
  private feedPartial(seg: Buffer): void {
    const L = this.lineLen;
    const newLen = L + seg.length;
    if (this.needleAt < 0) this.needleAt = this.findNeedle(seg, L);
    const p = this.needleAt;
    if (
      p >= 0 &&
      this.winStart === 0 &&
      newLen > MAX_KEPT_LINE_BYTES &&
      p + ROOM_AFTER > MAX_KEPT_LINE_BYTES
    ) {
      // a long line whose needle lies too far in: move the window to start shortly before the needle
      const s = p - CONTEXT_BEFORE;
      if (s < L) {
        if (L <= MAX_KEPT_LINE_BYTES) this.win.copyWithin(0, s, L);
        else this.tail.copy(this.win, 0, this.tailLen - (L - s), this.tailLen);
        this.winLen = L - s;
      } else {
        this.winLen = 0;
      }
      this.winStart = s;
    }
    if (this.winLen < MAX_KEPT_LINE_BYTES) {
      const from = Math.max(L, this.winStart + this.winLen);
      if (from < newLen) {
        const count = Math.min(newLen - from, MAX_KEPT_LINE_BYTES - this.winLen);
        seg.copy(this.win, this.winLen, from - L, from - L + count);
        this.winLen += count;
      }
    }
    if (this.needleAt < 0) this.rememberTail(seg);
    this.lineLen = newLen;
  }

  /** Line offset of the first needle in seg or across the seam with the bytes before it, or -1. */
  private findNeedle(seg: Buffer, L: number): number {
    if (this.tailLen > 0) {
      const before = Math.min(NEEDLE_TAIL, this.tailLen);
      const after = Math.min(NEEDLE_TAIL, seg.length);
      if (before + after >= NEEDLE.length) {
        const seam = Buffer.concat([
          this.tail.subarray(this.tailLen - before, this.tailLen),
          seg.subarray(0, after),
        ]);
        const i = seam.indexOf(NEEDLE);
        if (i !== -1) return L - before + i;
      }
    }
    const i = seg.indexOf(NEEDLE);
    return i === -1 ? -1 : L + i;
  }

  private rememberTail(seg: Buffer): void {
    if (seg.length >= TAIL_BYTES) {
      seg.copy(this.tail, 0, seg.length - TAIL_BYTES);
      this.tailLen = TAIL_BYTES;
      return;
    }
    const keep = Math.min(this.tailLen, TAIL_BYTES - seg.length);
    this.tail.copyWithin(0, this.tailLen - keep, this.tailLen);
    seg.copy(this.tail, keep);
    this.tailLen = keep + seg.length;
  }

  /** The current line has ended (a `\n`, or the end of the stream). */
  private finishPartial(): void {
    if (this.needleAt >= 0) this.matchText(this.win.toString("utf8", 0, this.winLen));
    this.lineLen = 0;
    this.needleAt = -1;
    this.winStart = 0;
    this.winLen = 0;
    this.tailLen = 0;
  }
}
