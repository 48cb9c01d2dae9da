import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { type JobRecord, jobRecordSchema } from "../../shared/schemas/jobRecord.js";
import { readJsonFile, writeJsonAtomic } from "../engine/util/jsonFiles.js";

export const JOB_RECORD_FILE = "job.json";

/** How often a running job's record is rewritten at most (its end is always written at once). */
const WRITE_INTERVAL_MS = 500;

/**
 * Keeps one job's `job.json` up to date without writing on every event: at most one write in
 * flight, at most one every WRITE_INTERVAL_MS, always the latest state, and `flush` waits for it.
 */
export class JobRecordWriter {
  private pending: (() => JobRecord) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;

  constructor(readonly file: string) {}

  /** Schedules a write of what `snapshot` returns when the write happens. */
  update(snapshot: () => JobRecord): void {
    this.pending = snapshot;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + WRITE_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeNow();
    }, wait);
    this.timer.unref();
  }

  /** Writes the latest state now and waits until it is on disk. */
  async flush(snapshot?: () => JobRecord): Promise<void> {
    if (snapshot) this.pending = snapshot;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writeNow();
  }

  private writeNow(): Promise<void> {
    const snapshot = this.pending;
    this.pending = undefined;
    if (!snapshot) return this.writing;
    this.lastWrite = Date.now();
    this.writing = this.writing
      .then(() => writeJsonAtomic(this.file, snapshot(), jobRecordSchema))
      .catch((error: unknown) => {
        // the job goes on; only its listing after a restart would be stale
        console.error(`madengine Control Center: cannot write ${this.file}:`, (error as Error).message);
      });
    return this.writing;
  }
}

/** The records of the jobs under `jobsDir`, oldest first; unreadable ones are reported and left alone. */
export async function readJobRecords(
  jobsDir: string,
  warn: (message: string) => void,
): Promise<{ dir: string; record: JobRecord }[]> {
  if (!existsSync(jobsDir)) return [];
  const names = (await readdir(jobsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const records: { dir: string; record: JobRecord }[] = [];
  for (const name of names) {
    const dir = path.join(jobsDir, name);
    const file = path.join(dir, JOB_RECORD_FILE);
    if (!existsSync(file)) continue;
    try {
      const record = await readJsonFile(file, jobRecordSchema);
      if (record.summary.id === name && path.resolve(record.summary.outputDir) === dir)
        records.push({ dir, record });
      else
        warn(
          `${file}: names job ${record.summary.id} in ${record.summary.outputDir}, not this folder: skipped`,
        );
    } catch (error) {
      warn(`${file}: ${(error as Error).message}: skipped`);
    }
  }
  return records;
}
