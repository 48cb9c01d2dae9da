import { describe, expect, it } from "vitest";
import { mapWithConcurrency } from "../../../src-main/engine/util/pool.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A worker that records how many calls run at once. */
function tracked<T>(delay: (item: T, index: number) => number) {
  const stats = { running: 0, max: 0, calls: [] as number[] };
  const worker = async (item: T, index: number) => {
    stats.calls.push(index);
    stats.running++;
    stats.max = Math.max(stats.max, stats.running);
    try {
      await sleep(delay(item, index));
      return { item, index };
    } finally {
      stats.running--;
    }
  };
  return { stats, worker };
}

describe("mapWithConcurrency", () => {
  it.each([1, 2, 3, 5])("never runs more than %i at once, and uses the whole limit", async (limit) => {
    const items = Array.from({ length: 12 }, (_, i) => i);
    const { stats, worker } = tracked<number>((_, index) => 2 + ((index * 7) % 5));
    await mapWithConcurrency(items, limit, worker);
    expect(stats.max).toBe(limit);
    expect(stats.running).toBe(0);
  });

  it("keeps the input order when later items finish first", async () => {
    const items = ["slow", "medium", "fast", "instant"];
    const delays: Record<string, number> = { slow: 30, medium: 15, fast: 5, instant: 0 };
    const finished: string[] = [];
    const results = await mapWithConcurrency(items, 4, async (item) => {
      await sleep(delays[item]!);
      finished.push(item);
      return item.toUpperCase();
    });
    expect(results).toEqual(["SLOW", "MEDIUM", "FAST", "INSTANT"]);
    expect(finished).toEqual(["instant", "fast", "medium", "slow"]);
  });

  it("calls the worker once per item with its index, starting in order", async () => {
    const items = ["a", "b", "c", "d", "e"];
    const { stats, worker } = tracked<string>(() => 1);
    const results = await mapWithConcurrency(items, 2, worker);
    expect(results).toEqual(items.map((item, index) => ({ item, index })));
    expect(stats.calls).toEqual([0, 1, 2, 3, 4]);
  });

  it("runs everything at once when the limit exceeds the items", async () => {
    const { stats, worker } = tracked<number>(() => 5);
    const results = await mapWithConcurrency([1, 2, 3], 100, worker);
    expect(stats.max).toBe(3);
    expect(results.map((r) => r.item)).toEqual([1, 2, 3]);
  });

  it("runs one at a time for a limit below 1", async () => {
    for (const limit of [0, -3]) {
      const { stats, worker } = tracked<number>(() => 1);
      const results = await mapWithConcurrency([1, 2, 3], limit, worker);
      expect(stats.max).toBe(1);
      expect(results.map((r) => r.item)).toEqual([1, 2, 3]);
    }
  });

  it("returns [] for no items without calling the worker", async () => {
    let called = false;
    const results = await mapWithConcurrency([], 4, async () => {
      called = true;
    });
    expect(results).toEqual([]);
    expect(called).toBe(false);
  });

  it("handles synchronous-looking workers", async () => {
    const results = await mapWithConcurrency([1, 2, 3], 2, async (n) => n * 2);
    expect(results).toEqual([2, 4, 6]);
  });

  it("rejects with the first failure", async () => {
    const first = new Error("first");
    const second = new Error("second");
    const promise = mapWithConcurrency([0, 1, 2, 3], 4, async (n) => {
      if (n === 1) {
        await sleep(5);
        throw first;
      }
      if (n === 3) {
        await sleep(25);
        throw second;
      }
      await sleep(1);
      return n;
    });
    await expect(promise).rejects.toBe(first);
  });

  it("rejects even when the failing item is the last one started", async () => {
    const failure = new Error("last one");
    await expect(
      mapWithConcurrency([0, 1, 2, 3, 4], 2, async (n) => {
        await sleep(1);
        if (n === 4) throw failure;
        return n;
      }),
    ).rejects.toBe(failure);
  });

  it("rejects on a worker that throws before awaiting", async () => {
    await expect(
      mapWithConcurrency([1, 2], 1, async (n) => {
        if (n === 1) throw new TypeError("boom");
        return n;
      }),
    ).rejects.toThrow(TypeError);
  });
});
