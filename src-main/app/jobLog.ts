import { createWriteStream, type WriteStream } from "node:fs";

/**
 * The job's own log (`job.log` in its output directory): what the service says about the job, one
 * timestamped line per message: start, the engine's notes and warnings, errors with their hint,
 * the outcome. Shown like any other log source.
 */
export class JobLog {
  private readonly stream: WriteStream;
  private closed = false;

  constructor(readonly file: string) {
    this.stream = createWriteStream(file, { flags: "a" });
    this.stream.on("error", () => {
      // a job log that cannot be written must not fail the job
    });
  }

  line(text: string, level: "info" | "warn" | "error" = "info"): void {
    if (this.closed) return;
    const stamp = new Date().toISOString();
    const tag = level === "info" ? "" : `${level}: `;
    for (const part of text.split("\n")) this.stream.write(`${stamp} ${tag}${part}\n`);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }
}
