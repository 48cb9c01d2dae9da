import type { EventName, EventPayload } from "../../shared/contract.js";

/** An event as it travels: the contract's `{ event, payload }` envelope, typed per event. */
export type EventMessage = { [N in EventName]: { event: N; payload: EventPayload<N> } }[EventName];
type LogLinesMessage = Extract<EventMessage, { event: "log.lines" }>;

/** Where a subscriber's events go (a WebSocket, an Electron window). Must not throw. */
export interface EventSink {
  send(message: EventMessage): void;
}

export interface EventSubscription {
  /**
   * The transport says it is behind (true) or has caught up (false). While behind, events wait in a
   * bounded queue: job updates are folded into the latest per job, log lines beyond the bound are
   * dropped (oldest first), which shows as a gap in `firstLine`; the subscriber then re-reads the
   * missing lines with `logs.read`.
   */
  setBacklogged(backlogged: boolean): void;
  close(): void;
  readonly stats: SubscriptionStats;
}

export interface SubscriptionStats {
  queuedMessages: number;
  /** Approximate size of the queued log lines, in characters. */
  queuedLineChars: number;
  droppedLines: number;
  backlogged: boolean;
}

export interface SubscriberLimits {
  /** Log text a slow subscriber may have waiting (default 1 Mi characters). */
  maxQueuedLineChars?: number;
  /** Notices a slow subscriber may have waiting; older ones are dropped (default 100). */
  maxQueuedNotices?: number;
}

/** Per-line overhead in the queue's accounting (JSON quotes and comma, array slot). */
const LINE_OVERHEAD = 8;

const linesChars = (lines: readonly string[]) =>
  lines.reduce((sum, line) => sum + line.length + LINE_OVERHEAD, 0);

class Subscriber implements EventSubscription {
  private queue: EventMessage[] = [];
  private backlogged = false;
  private closed = false;
  private lineChars = 0;
  private dropped = 0;
  private readonly maxLineChars: number;
  private readonly maxNotices: number;

  constructor(
    private readonly sink: EventSink,
    limits: SubscriberLimits,
    private readonly onClose: (subscriber: Subscriber) => void,
  ) {
    this.maxLineChars = limits.maxQueuedLineChars ?? 1024 * 1024;
    this.maxNotices = limits.maxQueuedNotices ?? 100;
  }

  get stats(): SubscriptionStats {
    return {
      queuedMessages: this.queue.length,
      queuedLineChars: this.lineChars,
      droppedLines: this.dropped,
      backlogged: this.backlogged,
    };
  }

  publish(message: EventMessage): void {
    if (this.closed) return;
    if (!this.backlogged && this.queue.length === 0) this.deliver(message);
    else this.enqueue(message);
  }

  setBacklogged(backlogged: boolean): void {
    if (this.closed) return;
    this.backlogged = backlogged;
    if (!backlogged) this.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.lineChars = 0;
    this.onClose(this);
  }

  private deliver(message: EventMessage): void {
    try {
      this.sink.send(message);
    } catch {
      this.close(); // a sink that throws is gone
    }
  }

  private flush(): void {
    while (!this.backlogged && !this.closed && this.queue.length > 0) {
      const message = this.queue.shift()!;
      if (message.event === "log.lines") this.lineChars -= linesChars(message.payload.lines);
      this.deliver(message);
    }
  }

  private enqueue(message: EventMessage): void {
    switch (message.event) {
      case "job.updated": {
        // only the latest state of a job matters
        const id = message.payload.job.id;
        this.queue = this.queue.filter(
          (queued) => queued.event !== "job.updated" || queued.payload.job.id !== id,
        );
        this.queue.push(message);
        return;
      }
      case "engine.notice": {
        this.queue.push(message);
        const notices = this.queue.filter((queued) => queued.event === "engine.notice");
        if (notices.length > this.maxNotices) {
          const oldest = notices[0];
          this.queue = this.queue.filter((queued) => queued !== oldest);
        }
        return;
      }
      case "log.lines":
        this.enqueueLines(message);
        return;
    }
  }

  private enqueueLines(message: LogLinesMessage): void {
    const { jobId, source, firstLine, lines } = message.payload;
    // append to the batch already waiting for this log when it continues it (payloads are shared
    // between subscribers: build a new one, never change one)
    let merged = false;
    for (let index = this.queue.length - 1; index >= 0; index--) {
      const queued = this.queue[index]!;
      if (queued.event !== "log.lines" || queued.payload.jobId !== jobId || queued.payload.source !== source)
        continue;
      if (queued.payload.firstLine + queued.payload.lines.length === firstLine) {
        this.queue[index] = {
          event: "log.lines",
          payload: { ...queued.payload, lines: [...queued.payload.lines, ...lines] },
        };
        merged = true;
      }
      break;
    }
    if (!merged) this.queue.push(message);
    this.lineChars += linesChars(lines);
    this.trimLines();
  }

  /** Drops the oldest queued log lines until the queue is within its bound. */
  private trimLines(): void {
    while (this.lineChars > this.maxLineChars) {
      const index = this.queue.findIndex((queued) => queued.event === "log.lines");
      if (index === -1) return;
      const oldest = this.queue[index] as LogLinesMessage;
      const excess = this.lineChars - this.maxLineChars;
      let drop = 0;
      let freed = 0;
      const { lines } = oldest.payload;
      while (drop < lines.length && freed < excess) freed += lines[drop++]!.length + LINE_OVERHEAD;
      this.lineChars -= freed;
      this.dropped += drop;
      if (drop >= lines.length) this.queue.splice(index, 1);
      else
        this.queue[index] = {
          event: "log.lines",
          payload: {
            ...oldest.payload,
            firstLine: oldest.payload.firstLine + drop,
            lines: lines.slice(drop),
          },
        };
    }
  }
}

/**
 * Fans events out to subscribers, each with its own bounded queue, so one slow subscriber neither
 * slows the others nor makes the service hold unbounded data. Nothing is replayed to a new
 * subscriber: it reads the state it needs (jobs.list, logs.read) and then follows the events.
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();

  constructor(private readonly limits: SubscriberLimits = {}) {}

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  subscribe(sink: EventSink, limits: SubscriberLimits = {}): EventSubscription {
    const subscriber = new Subscriber(sink, { ...this.limits, ...limits }, (gone) =>
      this.subscribers.delete(gone),
    );
    this.subscribers.add(subscriber);
    return subscriber;
  }

  publish(message: EventMessage): void {
    for (const subscriber of [...this.subscribers]) subscriber.publish(message);
  }

  close(): void {
    for (const subscriber of [...this.subscribers]) subscriber.close();
  }
}
