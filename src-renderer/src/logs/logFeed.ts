import type { EventPayload } from "../../../shared/contract.js";
import type { ContractClient } from "../contract/client.js";
import { toContractError } from "../contract/errors.js";
import { LineStore } from "./lineStore.js";

/** Lines asked for per logs.read call. */
const READ_PAGE = 10_000;
/** Attempts to fill a gap before it is marked as lost. */
const MAX_STALLS = 6;
/** Shown for lines the engine dropped and could not give back. */
export const GAP_LINE = "\x1b[2m[line not available: dropped while the app was not listening]\x1b[0m";

type LogLines = EventPayload<"log.lines">;

export type FeedStatus = "loading" | "live" | "complete" | "error";

/**
 * One job log (jobId + source) kept in a LineStore from the engine: first its history via
 * `logs.read`, then live `log.lines` events. An event whose firstLine is past the lines we hold
 * means lines were dropped (back-pressure) or missed (a reconnect): the gap is filled with
 * `logs.read` before the event is applied. Events overlapping lines we already hold are trimmed.
 */
export class LogFeed {
  readonly store = new LineStore();
  private pending: LogLines[] = [];
  private filling = false;
  private stalls = 0;
  private disposed = false;
  private status_: FeedStatus = "loading";
  private error_: string | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    private readonly client: ContractClient,
    readonly jobId: string,
    readonly source: string,
  ) {
    this.unsubscribers.push(
      client.on("log.lines", (payload) => {
        if (payload.jobId === this.jobId && payload.source === this.source) this.receive(payload);
      }),
      // after a reconnect, events sent while we were away are gone: read on from our last line
      client.onReconnect(() => void this.fill()),
    );
    void this.fill();
  }

  get status(): FeedStatus {
    return this.status_;
  }
  get error(): string | undefined {
    return this.error_;
  }

  /** Status changes (not line appends: subscribe to the store for those). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads on from the last line (a job that may have written more, e.g. when it ends). */
  refresh(): void {
    void this.fill();
  }

  dispose(): void {
    this.disposed = true;
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.listeners.clear();
  }

  private setStatus(status: FeedStatus, error?: string): void {
    if (status === this.status_ && error === this.error_) return;
    this.status_ = status;
    this.error_ = error;
    for (const listener of [...this.listeners]) listener();
  }

  private receive(payload: LogLines): void {
    if (this.filling) {
      this.pending.push(payload);
      return;
    }
    if (!this.apply(payload)) {
      this.pending.push(payload);
      void this.fill();
    }
  }

  /** Appends the part of an event we do not hold yet; false when there is a gap before it. */
  private apply(payload: LogLines): boolean {
    const have = this.store.length;
    if (payload.firstLine > have) return false;
    const skip = have - payload.firstLine;
    if (skip < payload.lines.length) {
      this.store.append(skip === 0 ? payload.lines : payload.lines.slice(skip));
    }
    if (this.status_ !== "complete") this.setStatus("live");
    return true;
  }

  private async fill(): Promise<void> {
    if (this.filling || this.disposed) return;
    this.filling = true;
    try {
      for (;;) {
        const fromLine = this.store.length;
        const answer = await this.client.call("logs.read", {
          jobId: this.jobId,
          source: this.source,
          fromLine,
          maxLines: READ_PAGE,
        });
        if (this.disposed) return;
        // lines may have arrived by another path meanwhile: only take what extends the store
        const skip = this.store.length - fromLine;
        if (skip < answer.lines.length)
          this.store.append(skip === 0 ? answer.lines : answer.lines.slice(skip));
        if (answer.complete) this.setStatus("complete");
        const caughtUp = this.pending.length > 0 && this.store.length >= this.pending[0]!.firstLine;
        if (answer.lines.length < READ_PAGE || answer.complete || caughtUp) break;
      }
      if (this.status_ === "loading") this.setStatus("live");
      else if (this.status_ === "error") this.setStatus("live");
    } catch (error) {
      if (!this.disposed) this.setStatus("error", toContractError(error).message);
    } finally {
      this.filling = false;
    }
    if (this.disposed) return;
    // apply what arrived while reading; a gap left over (lines not in the file yet) is read again
    const queued = this.pending.sort((a, b) => a.firstLine - b.firstLine);
    this.pending = [];
    for (let i = 0; i < queued.length; i++) {
      if (this.apply(queued[i]!)) continue;
      this.pending = queued.slice(i);
      if (this.status_ === "error") return; // retried on reconnect or refresh
      this.stalls++;
      if (this.stalls > MAX_STALLS) {
        // the engine cannot give these lines back: mark the hole, keep numbering, carry on
        const missing = this.pending[0]!.firstLine - this.store.length;
        this.store.append(Array.from({ length: missing }, () => GAP_LINE));
        this.stalls = 0;
        void this.fill();
        return;
      }
      setTimeout(() => void this.fill(), Math.min(5000, 100 * 2 ** this.stalls));
      return;
    }
    this.stalls = 0;
  }
}
