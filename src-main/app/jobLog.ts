import { createWriteStream, type WriteStream } from "node:fs";

/**
 * The job's own log (`job.log` in its output directory): what the service says about the job, one
 * timestamped line per message: start, the engine's notes and warnings, errors with their hint,
 * the outcome. Shown like any other log source.
 */
export class JobLog {
  /** Opened on the first line: a job listed again after a restart never writes, so it holds no file open. */
  private stream: WriteStream | undefined;
  private closed = false;

  constructor(readonly file: string) {}

  line(text: string, level: "info" | "warn" | "error" = "info"): void {
    if (this.closed) return;
    if (!this.stream) {
      this.stream = createWriteStream(this.file, { flags: "a" });
      this.stream.on("error", () => {
        // a job log that cannot be written must not fail the job
      });
    }
    const stamp = new Date().toISOString();
    const tag = level === "info" ? "" : `${level}: `;
    for (const part of text.split("\n")) this.stream.write(`${stamp} ${tag}${part}\n`);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const stream = this.stream;
    if (!stream) return Promise.resolve();
    return new Promise((resolve) => stream.end(() => resolve()));
  }
}
