import { open } from "node:fs/promises";
import { LineSplitter, MAX_LINE_BYTES } from "./lineSplitter.js";

/** A line start in a log file, so a read from line N need not scan from the top. */
export interface LineCheckpoint {
  line: number;
  offset: number;
}

export interface LogTailOptions {
  /** Receives the lines read since the last batch; `firstLine` is the 0-based number of lines[0]. */
  onLines: (firstLine: number, lines: string[]) => void;
  /** Output arriving within this window goes out as one batch (default 16 ms). */
  batchMs?: number;
  /** A batch is sent early when it reaches this many lines (default 2000) ... */
  maxBatchLines?: number;
  /** ... or this many characters (default 256 Ki). */
  maxBatchChars?: number;
  readChunkBytes?: number;
  /** A checkpoint every N lines (default 1000). */
  checkpointEvery?: number;
  maxLineBytes?: number;
}

/** Bytes read in one go before yielding to other work (a file growing faster than we read). */
const BURST_BYTES = 8 * 1024 * 1024;

/**
 * Follows one log file as it grows: `poke()` says "there may be new bytes" (a file-system event, the
 * engine's output callback); reads start a batch window later, so everything written within the
 * window goes out as one batch. Memory is bounded by one read chunk, one line and one batch: the
 * file is the store, never this object. `finish()` reads the rest, including a last line without
 * "\n", once the writer has closed the file.
 */
export class LogTail {
  readonly checkpoints: LineCheckpoint[] = [{ line: 0, offset: 0 }];
  private readonly splitter: LineSplitter;
  private readonly batchMs: number;
  private readonly maxBatchLines: number;
  private readonly maxBatchChars: number;
  private readonly chunk: Buffer;
  private readonly checkpointEvery: number;
  private offset = 0;
  private lines = 0;
  private batch: string[] = [];
  private batchFirst = 0;
  private batchChars = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private finishing: Promise<void> | undefined;
  private ended = false;
  private stopped = false;

  constructor(
    readonly file: string,
    private readonly options: LogTailOptions,
  ) {
    this.batchMs = options.batchMs ?? 16;
    this.maxBatchLines = options.maxBatchLines ?? 2000;
    this.maxBatchChars = options.maxBatchChars ?? 256 * 1024;
    this.chunk = Buffer.allocUnsafe(options.readChunkBytes ?? 64 * 1024);
    this.checkpointEvery = options.checkpointEvery ?? 1000;
    this.splitter = new LineSplitter(0, options.maxLineBytes ?? MAX_LINE_BYTES);
  }

  /** Lines read so far (all of them once `complete`). */
  get lineCount(): number {
    return this.lines;
  }

  /** True once the writer is done and every line has been read and sent. */
  get complete(): boolean {
    return this.ended;
  }

  /** New bytes may be there: read them at the end of the current batch window. */
  poke(): void {
    if (this.ended || this.stopped || this.finishing || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.read();
    }, this.batchMs);
  }

  /** The writer has closed the file: read and send the rest, then stop. Idempotent. */
  finish(): Promise<void> {
    if (!this.finishing) {
      this.finishing = (async () => {
        this.cancelTimer();
        await this.read();
        this.splitter.flush(this.onLine);
        this.sendBatch();
        this.ended = true;
      })();
    }
    return this.finishing;
  }

  /** Stops following without reading further (shutdown). */
  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reads to the end of the file; concurrent requests are folded into one more pass. */
  private read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.readAgain = false;
          if (!this.stopped) await this.readBurst();
        } while (this.readAgain && !this.stopped);
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  private async readBurst(): Promise<void> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.file, "r");
    } catch {
      return; // not created yet (or gone): the next poke or finish() tries again
    }
    let burst = 0;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(this.chunk, 0, this.chunk.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.splitter.push(this.chunk.subarray(0, bytesRead), this.onLine);
        burst += bytesRead;
        if (burst >= BURST_BYTES) {
          // let batches go out and other work run; pick up where we stopped right after
          this.readAgain = true;
          break;
        }
      }
    } catch {
      // a read error leaves the offset where it was; the next pass retries
    } finally {
      await handle.close().catch(() => {});
    }
    this.sendBatch();
  }

  private readonly onLine = (line: string, startOffset: number): void => {
    const number = this.lines++;
    if (number > 0 && number % this.checkpointEvery === 0)
      this.checkpoints.push({ line: number, offset: startOffset });
    if (this.batch.length === 0) this.batchFirst = number;
    this.batch.push(line);
    this.batchChars += line.length;
    if (this.batch.length >= this.maxBatchLines || this.batchChars >= this.maxBatchChars) this.sendBatch();
  };

  private sendBatch(): void {
    if (this.batch.length === 0) return;
    const lines = this.batch;
    const first = this.batchFirst;
    this.batch = [];
    this.batchChars = 0;
    this.options.onLines(first, lines);
  }
}
