import { plainText } from "./ansi.js";
import type { LineStore, Segment } from "./lineStore.js";

/** Matches kept at most (the count says "+" beyond it). */
const MAX_MATCHES = 2_000_000;
/** Work per slice before yielding to the page, so typing and scrolling stay smooth on huge logs. */
const SLICE_MS = 8;

/**
 * Case-insensitive search over a LineStore's shown text (escapes removed). Runs in time slices and
 * keeps up with lines appended later. Matches are (line, column) pairs in growable typed arrays.
 */
export class LogSearch {
  private query = "";
  private needle = "";
  private lines = new Int32Array(1024);
  private cols = new Int32Array(1024);
  private total = 0;
  private scanned = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<() => void>();
  private version = 0;

  constructor(private readonly store: LineStore) {}

  /** Follows the store's new lines until the returned function is called (mount / unmount). */
  attach(): () => void {
    const unsubscribe = this.store.subscribe(() => this.storeChanged());
    this.storeChanged();
    return () => {
      unsubscribe();
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
    };
  }

  private storeChanged(): void {
    if (this.store.length < this.scanned) this.restart();
    else if (this.needle !== "" && this.scanned < this.store.length) this.schedule();
  }

  get text(): string {
    return this.query;
  }
  /** Matches found so far. */
  get count(): number {
    return this.total;
  }
  /** True while lines remain to be scanned. */
  get searching(): boolean {
    return this.needle !== "" && this.scanned < this.store.length;
  }
  get capped(): boolean {
    return this.total >= MAX_MATCHES;
  }
  /** Changes whenever the matches change (for React snapshots). */
  get snapshot(): number {
    return this.version;
  }

  setQuery(query: string): void {
    if (query === this.query) return;
    this.query = query;
    this.needle = query.toLowerCase();
    this.restart();
  }

  match(index: number): { line: number; col: number } | undefined {
    if (index < 0 || index >= this.total) return undefined;
    return { line: this.lines[index]!, col: this.cols[index]! };
  }

  /** Index of the first match on or after `line` (count when there is none). */
  firstAtOrAfter(line: number): number {
    let lo = 0;
    let hi = this.total;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lines[mid]! < line) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Occurrences of the query in one line's shown text, for highlighting visible rows. */
  static occurrences(text: string, query: string): number[] {
    if (query === "") return [];
    const haystack = text.toLowerCase();
    const needle = query.toLowerCase();
    const out: number[] = [];
    let from = 0;
    for (;;) {
      const at = haystack.indexOf(needle, from);
      if (at < 0) break;
      out.push(at);
      from = at + Math.max(1, needle.length);
    }
    return out;
  }

  private restart(): void {
    this.total = 0;
    this.scanned = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.changed();
    if (this.needle !== "") this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.scanSlice();
    }, 0);
  }

  private push(line: number, col: number): void {
    if (this.total === this.lines.length) {
      const lines = new Int32Array(this.lines.length * 2);
      lines.set(this.lines);
      this.lines = lines;
      const cols = new Int32Array(this.cols.length * 2);
      cols.set(this.cols);
      this.cols = cols;
    }
    this.lines[this.total] = line;
    this.cols[this.total] = col;
    this.total++;
  }

  private scanSlice(): void {
    const needle = this.needle;
    if (needle === "") return;
    const deadline = performance.now() + SLICE_MS;
    const end = this.store.length;
    let i = this.scanned;
    while (i < end && this.total < MAX_MATCHES) {
      const packed = this.store.segmentOf(i);
      if (packed && packed.first === i && packed.segment.plain && this.scanSegment(packed.segment, i)) {
        i += packed.segment.ends.length;
      } else {
        const stop = packed ? packed.first + packed.segment.ends.length : Math.min(end, i + 2000);
        for (; i < stop && this.total < MAX_MATCHES; i++) this.scanLine(plainText(this.store.get(i)), i);
      }
      if (performance.now() > deadline) break;
    }
    this.scanned = this.total >= MAX_MATCHES ? end : i;
    this.changed();
    if (this.scanned < this.store.length) this.schedule();
  }

  private scanLine(text: string, line: number): void {
    const haystack = text.toLowerCase();
    let from = 0;
    for (;;) {
      const at = haystack.indexOf(this.needle, from);
      if (at < 0 || this.total >= MAX_MATCHES) return;
      this.push(line, at);
      from = at + this.needle.length;
    }
  }

  /**
   * A packed segment without escapes is searched as one string (no per-line strings at all);
   * false when lower-casing changes its length (offsets would no longer map), so lines are used.
   */
  private scanSegment(segment: Segment, first: number): boolean {
    const haystack = segment.text.toLowerCase();
    if (haystack.length !== segment.text.length) return false;
    const { ends } = segment;
    let from = 0;
    let line = 0;
    for (;;) {
      const at = haystack.indexOf(this.needle, from);
      if (at < 0 || this.total >= MAX_MATCHES) return true;
      while (ends[line]! < at) line++; // the needle holds no "\n": a match lies inside one line
      const start = line === 0 ? 0 : ends[line - 1]! + 1;
      this.push(first + line, at - start);
      from = at + this.needle.length;
    }
  }

  private changed(): void {
    this.version++;
    for (const listener of [...this.listeners]) listener();
  }
}
