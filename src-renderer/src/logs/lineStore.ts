/**
 * An append-only list of log lines in fixed-size segments, never one giant string and never one
 * giant array that must be copied as it grows. New lines wait in a small open array; every
 * SEGMENT_SIZE lines they are packed into one string plus an array of line ends. A million lines
 * are then ~250 strings instead of a million: far less memory per line and, above all, almost
 * nothing for the garbage collector to trace, so a huge log does not cause long GC pauses (janky
 * frames). A line is sliced out of its segment only when it is shown.
 * Listeners are told synchronously; views batch their repaint per frame.
 */
const SEGMENT_BITS = 12;
const SEGMENT_SIZE = 1 << SEGMENT_BITS; // 4,096 lines
const SEGMENT_MASK = SEGMENT_SIZE - 1;

// biome-ignore lint/suspicious/noControlCharactersInRegex: escapes and control characters are what we look for
const NEEDS_PARSING = /[\x00-\x08\x0b-\x1f\x7f\x9b]/;

export interface Segment {
  /** The lines joined with "\n". */
  readonly text: string;
  /** ends[i]: offset in text just past line i (line i+1 starts one further, after the "\n"). */
  readonly ends: Uint32Array;
  /** True when no line holds an escape or control character (its text is what is shown). */
  readonly plain: boolean;
}

export class LineStore {
  private readonly segments: Segment[] = [];
  private open: string[] = [];
  private readonly listeners = new Set<() => void>();

  get length(): number {
    return this.segments.length * SEGMENT_SIZE + this.open.length;
  }

  /** The line at `index` (0-based), or "" outside the store. */
  get(index: number): string {
    if (index < 0 || index >= this.length) return "";
    const n = index >>> SEGMENT_BITS;
    const segment = this.segments[n];
    if (!segment) return this.open[index - n * SEGMENT_SIZE]!;
    const k = index & SEGMENT_MASK;
    const start = k === 0 ? 0 : segment.ends[k - 1]! + 1;
    return segment.text.slice(start, segment.ends[k]);
  }

  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    for (const line of lines) {
      this.open.push(line);
      if (this.open.length === SEGMENT_SIZE) this.seal();
    }
    this.notify();
  }

  /** Drops every line (a restarted log). */
  clear(): void {
    this.segments.length = 0;
    this.open = [];
    this.notify();
  }

  /** Lines [from, to) as an array (for copy/save of a bounded range). */
  slice(from: number, to: number): string[] {
    const out: string[] = [];
    const end = Math.min(to, this.length);
    for (let i = Math.max(0, from); i < end; i++) out.push(this.get(i));
    return out;
  }

  /** Packed segments, then the open lines, for whole-log work (search) without copying. */
  forEachPart(
    visit: (part: { segment: Segment; first: number } | { lines: readonly string[]; first: number }) => void,
  ): void {
    this.segments.forEach((segment, n) => {
      visit({ segment, first: n * SEGMENT_SIZE });
    });
    if (this.open.length > 0) visit({ lines: this.open, first: this.segments.length * SEGMENT_SIZE });
  }

  /** The segment holding line `index`, if it is packed. */
  segmentOf(index: number): { segment: Segment; first: number } | undefined {
    const n = index >>> SEGMENT_BITS;
    const segment = this.segments[n];
    return segment && index < this.length ? { segment, first: n * SEGMENT_SIZE } : undefined;
  }

  /** Every line, in runs of at most SEGMENT_SIZE (save, copy all). */
  forEachChunk(visit: (lines: readonly string[], firstIndex: number) => void): void {
    const total = this.length;
    for (let first = 0; first < total; first += SEGMENT_SIZE) {
      visit(this.slice(first, Math.min(total, first + SEGMENT_SIZE)), first);
    }
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private seal(): void {
    const lines = this.open;
    const ends = new Uint32Array(lines.length);
    let position = 0;
    for (let i = 0; i < lines.length; i++) {
      position += lines[i]!.length;
      ends[i] = position;
      position += 1;
    }
    const text = lines.join("\n");
    this.segments.push({ text, ends, plain: !NEEDS_PARSING.test(text) });
    this.open = [];
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
