import { describe, expect, it } from "vitest";
import type { JobSummary } from "../../../shared/contract.js";
import { EventHub, type EventMessage } from "../../../src-main/app/eventHub.js";

const lines = (
  jobId: string,
  source: string,
  firstLine: number,
  count: number,
  width = 10,
): EventMessage => ({
  event: "log.lines",
  payload: {
    jobId,
    source,
    firstLine,
    lines: Array.from({ length: count }, (_, i) => `${String(firstLine + i).padStart(width, "0")}`),
  },
});

const job = (id: string, state: JobSummary["state"]): EventMessage => ({
  event: "job.updated",
  payload: {
    job: {
      id,
      kind: "run",
      state,
      title: id,
      startedAt: "2026-11-29T00:00:00Z",
      outputDir: "/tmp/x",
      logs: [],
    },
    items: [],
  },
});

/** The log lines a subscriber received, checking for gaps: returns the line numbers it got. */
function receivedLineNumbers(messages: EventMessage[], source: string): { numbers: number[]; gaps: number } {
  const numbers: number[] = [];
  let gaps = 0;
  for (const message of messages) {
    if (message.event !== "log.lines" || message.payload.source !== source) continue;
    const last = numbers.at(-1);
    if (last !== undefined && message.payload.firstLine !== last + 1) gaps++;
    for (let i = 0; i < message.payload.lines.length; i++) numbers.push(message.payload.firstLine + i);
  }
  return { numbers, gaps };
}

describe("EventHub", () => {
  it("delivers everything, in order, to a subscriber that keeps up", () => {
    const hub = new EventHub();
    const got: EventMessage[] = [];
    hub.subscribe({ send: (message) => got.push(message) });
    for (let i = 0; i < 10; i++) hub.publish(lines("j1", "dummy", i * 100, 100));
    hub.publish(job("j1", "succeeded"));
    const { numbers, gaps } = receivedLineNumbers(got, "dummy");
    expect(numbers).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(gaps).toBe(0);
    expect(got.at(-1)?.event).toBe("job.updated");
  });

  it("a slow subscriber: lines beyond its bound are dropped oldest first, the gap shows in firstLine, memory stays bounded", () => {
    const hub = new EventHub({ maxQueuedLineChars: 20_000 });
    const fast: EventMessage[] = [];
    const slow: EventMessage[] = [];
    hub.subscribe({ send: (message) => fast.push(message) });
    const slowSubscription = hub.subscribe({ send: (message) => slow.push(message) });

    hub.publish(lines("j1", "dummy", 0, 100));
    slowSubscription.setBacklogged(true); // its transport reports a backlog
    let maxQueued = 0;
    for (let batch = 1; batch <= 200; batch++) {
      hub.publish(lines("j1", "dummy", batch * 100, 100));
      maxQueued = Math.max(maxQueued, slowSubscription.stats.queuedLineChars);
    }
    // 20,000 lines of ~18 characters went past; the queue never held more than its bound
    expect(maxQueued).toBeLessThanOrEqual(20_000);
    expect(slowSubscription.stats.droppedLines).toBeGreaterThan(18_000);
    expect(slow).toHaveLength(1);

    slowSubscription.setBacklogged(false); // caught up: the queue goes out
    const { numbers, gaps } = receivedLineNumbers(slow, "dummy");
    expect(gaps).toBe(1);
    expect(numbers.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // what arrived after the gap is the newest lines, contiguous up to the last one
    expect(numbers.at(-1)).toBe(20_099);
    const afterGap = numbers.slice(100);
    expect(afterGap).toEqual(Array.from({ length: afterGap.length }, (_, i) => 20_100 - afterGap.length + i));
    expect(numbers.length + slowSubscription.stats.droppedLines).toBe(20_100);
    expect(slowSubscription.stats.queuedMessages).toBe(0);

    // the subscriber that kept up lost nothing
    expect(receivedLineNumbers(fast, "dummy")).toEqual({
      numbers: Array.from({ length: 20_100 }, (_, i) => i),
      gaps: 0,
    });
  });

  it("while backlogged, merges contiguous batches per log and keeps only the latest job update", () => {
    const hub = new EventHub();
    const got: EventMessage[] = [];
    const subscription = hub.subscribe({ send: (message) => got.push(message) });
    subscription.setBacklogged(true);
    hub.publish(job("j1", "running"));
    hub.publish(lines("j1", "a", 0, 5));
    hub.publish(lines("j1", "b", 0, 5));
    hub.publish(lines("j1", "a", 5, 5));
    hub.publish(job("j2", "running"));
    hub.publish(job("j1", "succeeded"));
    expect(subscription.stats.queuedMessages).toBe(4);
    subscription.setBacklogged(false);
    expect(got.map((message) => message.event)).toEqual([
      "log.lines",
      "log.lines",
      "job.updated",
      "job.updated",
    ]);
    const first = got[0]!;
    expect(first.event === "log.lines" && first.payload.source === "a" && first.payload.lines.length).toBe(
      10,
    );
    const updates = got.filter((message) => message.event === "job.updated");
    expect(updates.map((message) => message.event === "job.updated" && message.payload.job.state)).toEqual([
      "running",
      "succeeded",
    ]);
  });

  it("never changes a payload another subscriber holds", () => {
    const hub = new EventHub({ maxQueuedLineChars: 100 });
    const a: EventMessage[] = [];
    const subscription = hub.subscribe({ send: () => {} });
    hub.subscribe({ send: (message) => a.push(message) });
    subscription.setBacklogged(true);
    const message = lines("j", "s", 0, 50);
    hub.publish(message);
    hub.publish(lines("j", "s", 50, 50));
    expect(message.event === "log.lines" && message.payload.lines.length).toBe(50);
    expect(a[0]).toBe(message);
  });

  it("keeps at most the configured number of notices and drops a sink that throws", () => {
    const hub = new EventHub({ maxQueuedNotices: 3 });
    const got: EventMessage[] = [];
    const subscription = hub.subscribe({ send: (message) => got.push(message) });
    subscription.setBacklogged(true);
    for (let i = 0; i < 10; i++)
      hub.publish({ event: "engine.notice", payload: { level: "warn", message: `n${i}` } });
    subscription.setBacklogged(false);
    expect(got.map((message) => message.event === "engine.notice" && message.payload.message)).toEqual([
      "n7",
      "n8",
      "n9",
    ]);

    hub.subscribe({
      send: () => {
        throw new Error("socket gone");
      },
    });
    expect(hub.subscriberCount).toBe(2);
    hub.publish(job("j", "running"));
    expect(hub.subscriberCount).toBe(1);
    subscription.close();
    expect(hub.subscriberCount).toBe(0);
  });
});
