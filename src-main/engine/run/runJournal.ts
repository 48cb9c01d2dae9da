import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import type { PerfRow } from "../../../shared/schemas/perf.js";
import { type RunEntry, type RunState, runStateSchema } from "../../../shared/schemas/runState.js";
import { readJsonFile, writeJsonAtomic } from "../util/jsonFiles.js";

/** `20261129-031502-a1b2`: sortable, readable, unique enough for one machine. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(2).toString("hex")}`;
}

export function runStateFile(outputDir: string, runId: string): string {
  return path.join(outputDir, ".madengine", "runs", `${runId}.json`);
}

/**
 * The run's journal: every transition of every (target, image) entry is written to disk at once
 * (atomically, in order), so a killed CLI loses nothing and a resume neither loses nor repeats results.
 */
export class RunJournal {
  /** The write in progress or last done. */
  private writes = Promise.resolve();
  /** The next write, waiting for the one in progress; it snapshots the state when it starts. */
  private queued: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private readonly state: RunState,
  ) {}

  static async create(file: string, runId: string, request: RunState["request"]): Promise<RunJournal> {
    await mkdir(path.dirname(file), { recursive: true });
    const now = new Date().toISOString();
    const journal = new RunJournal(file, {
      version: 1,
      runId,
      createdAt: now,
      updatedAt: now,
      finished: false,
      request,
      entries: [],
    });
    await journal.save();
    return journal;
  }

  static async open(outputDir: string, runId: string): Promise<RunJournal> {
    const file = runStateFile(outputDir, runId);
    if (!existsSync(file)) {
      throw new MadError("FILE_NOT_FOUND", `no run ${runId} here (${file} not found)`, {
        hint: "run --resume in the directory the run was started from; the run id is printed at its start",
      });
    }
    return new RunJournal(file, await readJsonFile(file, runStateSchema));
  }

  get runId(): string {
    return this.state.runId;
  }

  get request(): RunState["request"] {
    return this.state.request;
  }

  get finished(): boolean {
    return this.state.finished;
  }

  entry(target: string, image: string): RunEntry | undefined {
    return this.state.entries.find((entry) => entry.target === target && entry.image === image);
  }

  entries(): readonly RunEntry[] {
    return this.state.entries;
  }

  private upsert(target: string, image: string, model: string): RunEntry {
    let entry = this.entry(target, image);
    if (!entry) {
      entry = { target, image, model, state: "pending" };
      this.state.entries.push(entry);
    }
    return entry;
  }

  /**
   * Resolves once a file holding this transition is on disk. Transitions made while a write is in
   * progress share the one write that follows it (it snapshots the state when it starts), so many
   * targets recording at once cost two writes, not one each in a queue.
   */
  private save(): Promise<void> {
    this.state.updatedAt = new Date().toISOString();
    if (this.queued) return this.queued;
    const next = this.writes.then(
      () => {
        this.queued = undefined;
        return writeJsonAtomic(this.file, structuredClone(this.state), runStateSchema);
      },
      (error: unknown) => {
        this.queued = undefined;
        throw error;
      },
    );
    this.queued = next;
    this.writes = next;
    return next;
  }

  planned(target: string, images: { image: string; model: string }[]): Promise<void> {
    for (const { image, model } of images) this.upsert(target, image, model);
    return this.save();
  }

  started(
    target: string,
    image: string,
    model: string,
    container: NonNullable<RunEntry["container"]>,
  ): Promise<void> {
    Object.assign(this.upsert(target, image, model), { state: "running", container });
    return this.save();
  }

  /** The results are known; the rows are recorded before they are appended to perf.csv. */
  collecting(
    target: string,
    image: string,
    model: string,
    status: RunEntry["status"],
    reason: string | undefined,
    rows: PerfRow[],
  ): Promise<void> {
    Object.assign(this.upsert(target, image, model), {
      state: "collecting",
      status,
      rows,
      ...(reason ? { reason } : {}),
    });
    return this.save();
  }

  done(target: string, image: string, model: string): Promise<void> {
    this.upsert(target, image, model).state = "done";
    return this.save();
  }

  finish(): Promise<void> {
    this.state.finished = true;
    return this.save();
  }
}
