import path from "node:path";
import type { JobItem } from "../../shared/contract.js";
import type { BuildEvent, RunEvent } from "../../shared/events.js";

/** The log source of the job itself: what the service says about the job (start, warnings, errors). */
export const JOB_LOG_SOURCE = "job";

const MAX_DETAIL = 2000;

function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

/**
 * The progress table of one job (one row per image built, one per model run) and its log sources,
 * folded from the engine's events. Pure bookkeeping: no I/O, no timers.
 *
 * Keys: a build row is keyed by its image (a model with no matching Dockerfile, which has no image,
 * by its model name); a run row by its model name (`model (image)` when the manifest runs one model
 * from two images). The key is also the row's log source.
 */
/** What a job's snapshot shows: its rows and its log sources. */
export interface ProgressTable {
  readonly items: readonly JobItem[];
  readonly logs: readonly LogSource[];
  addLog(source: string, file: string): boolean;
  skipQueued(reason: string): boolean;
  /** Rows as an earlier service showed them (a job listed again after a restart). */
  restoreRows(rows: readonly JobItem[]): void;
}

export interface LogSource {
  source: string;
  file: string;
}

export class JobProgress implements ProgressTable {
  readonly items: JobItem[] = [];
  readonly logs: LogSource[];
  /** Rows of one node of a run on GPU nodes: keyed `node/model`, and marked with the node. */
  private readonly node: string | undefined;
  private readonly byKey = new Map<string, JobItem>();
  private readonly buildKeys = new Map<string, string>();
  private readonly buildFailureKeys = new Map<string, string>();
  private readonly runKeys = new Map<string, string>();
  /** Images whose build (and push) has started and not yet reached its last event. */
  private readonly inFlight = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  /** `logs`: a list shared with other tables of the same job (one job, one set of log sources). */
  constructor(
    private readonly pushes: boolean,
    options: { node?: string; logs?: LogSource[] } = {},
  ) {
    this.node = options.node;
    this.logs = options.logs ?? [];
  }

  item(key: string): JobItem | undefined {
    return this.byKey.get(key);
  }

  /** The row key (and log source) of a built image. */
  buildKey(image: string): string | undefined {
    return this.buildKeys.get(image);
  }

  runKey(model: string, image: string): string | undefined {
    return this.runKeys.get(`${model}\u0000${image}`);
  }

  get imagesInFlight(): number {
    return this.inFlight.size;
  }

  /** Resolves once no started image is still building or pushing. */
  whenNoImageInFlight(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Records a log source (once per source). */
  addLog(source: string, file: string): boolean {
    if (this.logs.some((log) => log.source === source)) return false;
    this.logs.push({ source, file });
    return true;
  }

  restoreRows(rows: readonly JobItem[]): void {
    for (const row of rows) {
      if (this.byKey.has(row.key)) continue;
      const item = { ...row };
      this.items.push(item);
      this.byKey.set(item.key, item);
    }
  }

  /** Rows that never started: skipped, with the reason. */
  skipQueued(reason: string): boolean {
    let changed = false;
    for (const item of this.items) {
      if (item.state === "queued") {
        item.state = "skipped";
        item.detail = reason;
        changed = true;
      }
    }
    return changed;
  }

  applyBuild(event: BuildEvent): boolean {
    switch (event.type) {
      case "build:planned":
        for (const planned of event.images) {
          const key = this.addItem(planned.image, `${planned.model} (${path.basename(planned.dockerfile)})`);
          this.buildKeys.set(planned.image, key);
        }
        return event.images.length > 0;
      case "build:start": {
        const key = this.buildKeyFor(event.image, event.model, event.dockerfile);
        this.inFlight.add(event.image);
        this.addLog(key, event.logFile);
        return this.update(key, { state: "building", detail: undefined });
      }
      case "build:step":
        return this.update(this.buildKeys.get(event.image), {
          detail: clip(`step ${event.step}/${event.totalSteps}: ${event.instruction}`),
        });
      case "build:skipped":
        if (!this.pushes) this.settle(event.image);
        return this.update(this.buildKeys.get(event.image), { state: "up to date", detail: event.reason });
      case "build:done":
        if (!this.pushes) this.settle(event.image);
        return this.update(this.buildKeys.get(event.image), {
          state: "built",
          detail: undefined,
          durationSec: Number(event.durationSec.toFixed(3)),
        });
      case "build:failed": {
        if (event.image) {
          this.settle(event.image);
          return this.update(this.buildKeys.get(event.image), { state: "failed", detail: clip(event.error) });
        }
        let key = this.buildFailureKeys.get(event.model);
        if (!key) {
          key = this.addItem(event.model, event.model);
          this.buildFailureKeys.set(event.model, key);
        }
        return this.update(key, { state: "failed", detail: clip(event.error) });
      }
      case "push:start":
        return this.update(this.buildKeys.get(event.image), {
          state: "pushing",
          detail: event.registryImage,
        });
      case "push:done":
        this.settle(event.image);
        return this.update(this.buildKeys.get(event.image), {
          state: "pushed",
          detail: `${event.registryImage}@${event.digest}`,
        });
      case "push:failed":
        this.settle(event.image);
        return this.update(this.buildKeys.get(event.image), {
          state: "failed",
          detail: clip(`push to ${event.registryImage} failed: ${event.error}`),
        });
      case "build:output":
      case "log":
        return false;
    }
  }

  applyRun(event: RunEvent): boolean {
    switch (event.type) {
      case "run:planned": {
        const counts = new Map<string, number>();
        for (const { model } of event.models) counts.set(model, (counts.get(model) ?? 0) + 1);
        for (const { model, image } of event.models) {
          const wanted = (counts.get(model) ?? 0) > 1 ? `${model} (${image})` : model;
          const key = this.addItem(wanted, wanted);
          this.runKeys.set(`${model}\u0000${image}`, key);
        }
        return event.models.length > 0;
      }
      case "run:image":
        return this.update(this.runKey(event.model, event.image), {
          detail: clip(`image ${event.reference} (${event.source})`),
        });
      case "run:start": {
        const key = this.runKeyFor(event.model, event.image);
        this.addLog(key, event.logFile);
        return this.update(key, {
          state: "running",
          detail: event.timeoutSec === undefined ? "no timeout" : `timeout ${event.timeoutSec} s`,
        });
      }
      case "run:done": {
        const key = this.runKeyFor(event.model, event.image);
        const state =
          event.status === "SUCCESS" ? "succeeded" : event.status === "SKIPPED" ? "skipped" : "failed";
        const result = event.performance ? `${event.performance} ${event.metric}`.trim() : undefined;
        return this.update(key, {
          state,
          detail: clip(
            event.reason ? (result ? `${event.reason} (${result})` : event.reason) : (result ?? ""),
          ),
          durationSec: Number(event.durationSec.toFixed(3)),
        });
      }
      case "run:kept":
        return this.update(this.runKeyByModel(event.model), {
          detail: clip(`kept: ${event.commands.join("; ")}`),
        });
      case "log":
        return false;
    }
  }

  private buildKeyFor(image: string, model: string, dockerfile: string): string {
    let key = this.buildKeys.get(image);
    if (!key) {
      key = this.addItem(image, `${model} (${path.basename(dockerfile)})`);
      this.buildKeys.set(image, key);
    }
    return key;
  }

  private runKeyFor(model: string, image: string): string {
    let key = this.runKey(model, image);
    if (!key) {
      key = this.addItem(model, model);
      this.runKeys.set(`${model}\u0000${image}`, key);
    }
    return key;
  }

  private runKeyByModel(model: string): string | undefined {
    for (const [pair, key] of this.runKeys) if (pair.startsWith(`${model}\u0000`)) return key;
    return undefined;
  }

  /** Adds a queued row under a key no other row (nor the job's own log) uses. */
  private addItem(wanted: string, label: string): string {
    const base = this.node === undefined ? wanted : `${this.node}/${wanted}`;
    let key = base;
    for (let n = 2; key === JOB_LOG_SOURCE || this.byKey.has(key); n++) key = `${base} #${n}`;
    const item: JobItem = {
      key,
      label,
      state: "queued",
      ...(this.node === undefined ? {} : { node: this.node }),
    };
    this.items.push(item);
    this.byKey.set(key, item);
    return key;
  }

  private update(key: string | undefined, change: Partial<Omit<JobItem, "key" | "label">>): boolean {
    const item = key === undefined ? undefined : this.byKey.get(key);
    if (!item) return false;
    for (const [field, value] of Object.entries(change) as [keyof typeof change, unknown][]) {
      if (value === undefined) delete item[field];
      else (item as Record<string, unknown>)[field] = value;
    }
    return true;
  }

  private settle(image: string): void {
    if (!this.inFlight.delete(image) || this.inFlight.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
