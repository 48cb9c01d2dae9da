import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../../src-main/app/lineSplitter.js";

function split(input: Buffer, chunkSizes: number[], maxLineBytes = 16, flush = true) {
  const splitter = new LineSplitter(0, maxLineBytes);
  const lines: { line: string; start: number }[] = [];
  const onLine = (line: string, start: number) => lines.push({ line, start });
  let position = 0;
  let index = 0;
  while (position < input.length) {
    const size = chunkSizes[index++ % chunkSizes.length]!;
    splitter.push(input.subarray(position, position + size), onLine);
    position += size;
  }
  if (flush) splitter.flush(onLine);
  return lines;
}

describe("LineSplitter", () => {
  it("splits on \\n, drops a \\r before it, keeps the offsets of line starts", () => {
    const lines = split(Buffer.from("one\r\ntwo\n\nthree"), [100]);
    expect(lines).toEqual([
      { line: "one", start: 0 },
      { line: "two", start: 5 },
      { line: "", start: 9 },
      { line: "three", start: 10 },
    ]);
  });

  it("holds a partial line until its newline or flush", () => {
    const splitter = new LineSplitter();
    const lines: string[] = [];
    splitter.push(Buffer.from("par"), (line) => lines.push(line));
    expect(lines).toEqual([]);
    expect(splitter.pendingBytes).toBe(3);
    splitter.push(Buffer.from("tial\nnext"), (line) => lines.push(line));
    expect(lines).toEqual(["partial"]);
    splitter.flush((line) => lines.push(line));
    expect(lines).toEqual(["partial", "next"]);
  });

  it("cuts long lines at the limit, the same way for every chunking, never inside a character", () => {
    // 3-byte characters around the 16-byte cut point, plus plain long lines
    const text = `${"a".repeat(15)}€€€bbb\n${"x".repeat(40)}\nshort\n${"é".repeat(20)}\n`;
    const input = Buffer.from(text);
    const reference = split(input, [input.length]);
    for (const sizes of [[1], [2], [3], [5, 7], [16], [17, 1, 4]]) {
      expect(split(input, sizes)).toEqual(reference);
    }
    for (const { line } of reference) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(16);
      expect(line).not.toContain("\uFFFD");
    }
    expect(reference.map((entry) => entry.line).join("")).toBe(text.replaceAll("\n", ""));
    expect(reference[0]).toEqual({ line: "a".repeat(15), start: 0 });
  });

  it("keeps a line of exactly the limit whole", () => {
    expect(split(Buffer.from(`${"z".repeat(16)}\nnext\n`), [4]).map((entry) => entry.line)).toEqual([
      "z".repeat(16),
      "next",
    ]);
  });
});
