import { appendFileSync, createWriteStream, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readLogLines } from "../../../src-main/app/logRead.js";
import { LogTail } from "../../../src-main/app/logTail.js";
import { tempTree } from "../../helpers/tempDir.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Batch {
  firstLine: number;
  lines: string[];
}

function collectingTail(file: string, options: Partial<ConstructorParameters<typeof LogTail>[1]> = {}) {
  const batches: Batch[] = [];
  const tail = new LogTail(file, {
    onLines: (firstLine, lines) => batches.push({ firstLine, lines }),
    ...options,
  });
  return { tail, batches };
}

/** The batches joined, checking that each starts where the previous one ended. */
function joined(batches: Batch[]): string[] {
  const all: string[] = [];
  for (const batch of batches) {
    expect(batch.firstLine).toBe(all.length);
    all.push(...batch.lines);
  }
  return all;
}

describe("LogTail", () => {
  it("follows a growing file: lines written within a window arrive as one batch, numbered from 0", async () => {
    const dir = tempTree();
    const file = path.join(dir, "model.run.live.log");
    writeFileSync(file, "");
    const { tail, batches } = collectingTail(file, { batchMs: 40 });
    const stream = createWriteStream(file, { flags: "a" });
    // 5 bursts of 20 writes; each write is poked, as a file-system event would
    for (let burst = 0; burst < 5; burst++) {
      for (let i = 0; i < 20; i++) {
        stream.write(`burst ${burst} line ${i}\n`);
        tail.poke();
      }
      await sleep(90);
    }
    stream.write("no newline yet");
    tail.poke();
    await new Promise<void>((resolve) => stream.end(resolve));
    tail.poke(); // as the file-system event of the last write would
    await sleep(80);
    expect(joined(batches)).toHaveLength(100); // the partial line waits for the end
    // coalesced: far fewer batches than the 101 writes, and one per burst at most twice
    expect(batches.length).toBeGreaterThanOrEqual(5);
    expect(batches.length).toBeLessThanOrEqual(10);
    expect(tail.complete).toBe(false);

    await tail.finish();
    const lines = joined(batches);
    expect(lines).toHaveLength(101);
    expect(lines[0]).toBe("burst 0 line 0");
    expect(lines[99]).toBe("burst 4 line 19");
    expect(lines[100]).toBe("no newline yet");
    expect(tail.complete).toBe(true);
    expect(tail.lineCount).toBe(101);
  });

  it("sends a large backlog in bounded batches and records checkpoints that reads can start from", async () => {
    const dir = tempTree();
    const file = path.join(dir, "big.log");
    const total = 25_000;
    writeFileSync(
      file,
      Array.from({ length: total }, (_, i) => `line ${i} ${"x".repeat(i % 50)}\n`).join(""),
    );
    const { tail, batches } = collectingTail(file, { maxBatchLines: 1000, checkpointEvery: 1000 });
    await tail.finish();
    const lines = joined(batches);
    expect(lines).toHaveLength(total);
    expect(Math.max(...batches.map((batch) => batch.lines.length))).toBeLessThanOrEqual(1000);
    expect(tail.checkpoints.length).toBe(25);

    const fromCheckpoint = await readLogLines(file, 12_345, 10, {
      checkpoints: tail.checkpoints,
      includePartialLastLine: true,
    });
    expect(fromCheckpoint.lines).toEqual(lines.slice(12_345, 12_355));
    expect(fromCheckpoint.nextLine).toBe(12_355);
    expect(fromCheckpoint.atEnd).toBe(false);
    const fromTop = await readLogLines(file, 12_345, 10, { includePartialLastLine: true });
    expect(fromTop).toEqual(fromCheckpoint);
    const last = await readLogLines(file, total - 3, 100, {
      checkpoints: tail.checkpoints,
      includePartialLastLine: true,
    });
    expect(last).toEqual({ lines: lines.slice(-3), nextLine: total, atEnd: true });
  });

  it("waits for a file that does not exist yet", async () => {
    const dir = tempTree();
    const file = path.join(dir, "later.log");
    const { tail, batches } = collectingTail(file, { batchMs: 5 });
    tail.poke();
    await sleep(30);
    expect(batches).toEqual([]);
    appendFileSync(file, "arrived\n");
    tail.poke();
    await sleep(30);
    expect(batches).toEqual([{ firstLine: 0, lines: ["arrived"] }]);
    await tail.finish();
  });
});

describe("readLogLines", () => {
  it("leaves out a partial last line until the writer is done, and reports the end", async () => {
    const dir = tempTree({ "a.log": "one\ntwo\nthr" });
    const file = path.join(dir, "a.log");
    expect(await readLogLines(file, 0, 10, { includePartialLastLine: false })).toEqual({
      lines: ["one", "two"],
      nextLine: 2,
      atEnd: true,
    });
    expect(await readLogLines(file, 1, 10, { includePartialLastLine: true })).toEqual({
      lines: ["two", "thr"],
      nextLine: 3,
      atEnd: true,
    });
    expect(await readLogLines(file, 0, 2, { includePartialLastLine: true })).toEqual({
      lines: ["one", "two"],
      nextLine: 2,
      atEnd: false,
    });
    expect(await readLogLines(path.join(dir, "missing.log"), 0, 5, { includePartialLastLine: true })).toEqual(
      {
        lines: [],
        nextLine: 0,
        atEnd: true,
      },
    );
  });

  it("stops at the character budget", async () => {
    const dir = tempTree({ "wide.log": `${"a".repeat(100)}\n`.repeat(50) });
    const read = await readLogLines(path.join(dir, "wide.log"), 0, 1000, {
      includePartialLastLine: true,
      maxChars: 1000,
    });
    expect(read.lines).toHaveLength(10);
    expect(read.atEnd).toBe(false);
  });
});
