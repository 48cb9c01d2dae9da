import { createWriteStream, type WriteStream } from "node:fs";
import type { Redactor } from "./redact.js";

/**
 * A log file written as output arrives (a crash loses nothing already received), with secrets
 * redacted on the way in. Keeps the last lines in memory for error reports.
 */
export class LiveLogFile {
  private readonly stream: WriteStream;
  private readonly tail: string[] = [];
  private partial = "";
  private closed = false;

  constructor(
    readonly path: string,
    private readonly redactor?: Redactor,
    private readonly tailSize = 20,
  ) {
    this.stream = createWriteStream(path, { flags: "w" });
    this.stream.on("error", () => {
      // a log that cannot be written must not kill the build; the error surfaces at close()
    });
  }

  /** Writes text (redacted) and returns what was written. */
  write(text: string): string {
    const safe = this.redactor ? this.redactor.redact(text) : text;
    if (this.closed) return safe;
    this.stream.write(safe);
    const lines = (this.partial + safe).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) {
      this.tail.push(line);
      if (this.tail.length > this.tailSize) this.tail.shift();
    }
    return safe;
  }

  line(text: string): string {
    return this.write(`${text}\n`);
  }

  lastLines(count = this.tailSize): string[] {
    const lines = this.partial === "" ? this.tail : [...this.tail, this.partial];
    return lines.slice(-count);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }
}
