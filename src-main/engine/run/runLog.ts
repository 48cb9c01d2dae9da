import { createWriteStream, type WriteStream } from "node:fs";
import type { Redactor } from "../util/redact.js";

const TAIL_BYTES = 16 * 1024;

/**
 * The run log: container output written as it arrives, as bytes (binary output survives), with
 * secrets redacted when there are any. `write` reports back-pressure so the producer can pause;
 * the last bytes are kept for error reports.
 */
export class RunLogWriter {
  private readonly stream: WriteStream;
  private tail: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  constructor(
    readonly path: string,
    private readonly redactor?: Redactor,
  ) {
    this.stream = createWriteStream(path, { flags: "w" });
    this.stream.on("error", (error) => {
      this.failure = error;
    });
  }

  /** Writes a chunk; false means the file is behind and the producer should wait for `drained()`. */
  write(chunk: Buffer): boolean {
    let data = chunk;
    if (this.redactor && !this.redactor.isEmpty)
      data = Buffer.from(this.redactor.redact(chunk.toString("utf8")), "utf8");
    this.tail =
      data.length >= TAIL_BYTES
        ? data.subarray(data.length - TAIL_BYTES)
        : Buffer.concat([this.tail, data]).subarray(-TAIL_BYTES);
    return this.stream.write(data);
  }

  line(text: string): void {
    this.write(Buffer.from(`${text}\n`, "utf8"));
  }

  drained(): Promise<void> {
    return new Promise((resolve) => this.stream.once("drain", resolve));
  }

  /** The last lines of output, as text, for error messages and JUnit. */
  lastLines(count: number): string[] {
    return this.tail.toString("utf8").replace(/\n$/, "").split("\n").slice(-count);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end(() => (this.failure ? reject(this.failure) : resolve()));
    });
  }
}
