import { describe, expect, it } from "vitest";
import {
  extractPerformance,
  MAX_KEPT_LINE_BYTES,
  MAX_MATCHES,
  type PerformanceMatch,
  PerformanceScanner,
} from "../../../../src-main/engine/run/results/performanceLine.js";

describe("extractPerformance", () => {
  it.each([
    ["performance: 21355 samples_per_second", "21355", "samples_per_second"],
    ["performance: 123.45 samples/sec", "123.45", "samples/sec"],
    ["performance: -3 delta", "-3", "delta"],
    ["performance: +7 gain", "+7", "gain"],
    ["performance: .5 it/s", ".5", "it/s"],
    ["performance: 5. fps", "5.", "fps"],
    ["performance: 1.5e+03 tokens", "1.5e+03", "tokens"],
    ["performance: 2E-4 s", "2E-4", "s"],
    ["performance: 14164/s images", "14164", "images"],
    ["performance: 14164 /s, images", "14164", "images"],
    ["performance: 99, samples_per_second", "99", "samples_per_second"],
    ["performance: 12 fps, batch 32", "12", "fps"],
    ["performance:\t42\ttok/s", "42", "tok/s"],
    ["performance:   42    ms", "42", "ms"],
    ["[rank0]: INFO performance: 1024 bytes", "1024", "bytes"],
    ["performance: 42 fps\r", "42", "fps"],
    ["performance: 007 pass", "007", "pass"],
  ])("%j", (line, value, metric) => {
    expect(extractPerformance(line)).toEqual({ value, metric });
  });

  it.each([
    "no result here",
    "performance: N/A",
    "performance: nan samples",
    "performance:42 fps",
    "performance: 42",
    "performance: 42 ",
    "performance: fast",
    "Performance: 42 fps",
    "performance: - fps",
    "",
  ])("finds nothing in %j", (line) => {
    expect(extractPerformance(line)).toBeUndefined();
  });

  it("keeps the value exactly as printed", () => {
    expect(extractPerformance("performance: 0001.2300e+010 x")?.value).toBe("0001.2300e+010");
  });

  it("takes the first match on a line", () => {
    expect(extractPerformance("performance: 1 a performance: 2 b")).toEqual({ value: "1", metric: "a" });
    expect(extractPerformance("performance: N/A then performance: 2 b")).toEqual({ value: "2", metric: "b" });
  });

  it("ignores ANSI colour codes around the line", () => {
    expect(extractPerformance("\u001b[32mperformance: 42 samples_per_second\u001b[0m")).toEqual({
      value: "42",
      metric: "samples_per_second",
    });
  });
});

const enc = (text: string) => Buffer.from(text, "utf8");

function scan(chunks: readonly Buffer[]): PerformanceScanner {
  const scanner = new PerformanceScanner();
  for (const chunk of chunks) scanner.push(chunk);
  scanner.end();
  return scanner;
}

function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** A deterministic pseudo-random generator (tests must be reproducible). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomChunks(data: Buffer, random: () => number, maxSize: number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < data.length) {
    const size = 1 + Math.floor(random() * maxSize);
    out.push(data.subarray(i, i + size));
    i += size;
  }
  return out;
}

/** What the scanner must find, computed the slow way: split, decode every line, match. */
function reference(data: Buffer): PerformanceMatch[] {
  const out: PerformanceMatch[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(10, start);
    if (end === -1) end = data.length;
    let line = data.toString("utf8", start, end);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const found = extractPerformance(line);
    if (found) out.push({ ...found, line });
    start = end + 1;
  }
  return out;
}

describe("PerformanceScanner", () => {
  it("finds performance lines in one chunk", () => {
    const scanner = scan([enc("hello\nperformance: 21355 samples_per_second\nbye\n")]);
    expect(scanner.matches).toEqual([
      { value: "21355", metric: "samples_per_second", line: "performance: 21355 samples_per_second" },
    ]);
    expect(scanner.last).toEqual(scanner.matches[0]);
    expect(scanner.count).toBe(1);
  });

  it("finds every matching line, in order, and skips lines that only mention performance:", () => {
    const scanner = scan([
      enc("performance: 1 a\nx performance: N/A\nperformance: 2 b\r\nno\nperformance: 3 c"),
    ]);
    expect(scanner.matches.map((m) => [m.value, m.metric])).toEqual([
      ["1", "a"],
      ["2", "b"],
      ["3", "c"],
    ]);
    expect(scanner.matches[1]?.line).toBe("performance: 2 b");
    expect(scanner.last?.value).toBe("3");
  });

  it("matches a last line without a line break only at end()", () => {
    const scanner = new PerformanceScanner();
    scanner.push(enc("abc\nperformance: 5 fps"));
    expect(scanner.last).toBeUndefined();
    scanner.end();
    expect(scanner.last).toEqual({ value: "5", metric: "fps", line: "performance: 5 fps" });
    scanner.end();
    expect(scanner.count).toBe(1);
    expect(() => scanner.push(enc("x"))).toThrow(/after end/);
  });

  it("reports nothing for empty input or empty chunks", () => {
    const scanner = scan([Buffer.alloc(0), Buffer.alloc(0)]);
    expect(scanner.matches).toEqual([]);
    expect(scanner.last).toBeUndefined();
    expect(scanner.count).toBe(0);
  });

  it("accepts Uint8Array chunks", () => {
    const bytes = new Uint8Array(enc("xx performance: 3 ops\n"));
    const scanner = new PerformanceScanner();
    scanner.push(bytes.subarray(2));
    scanner.end();
    expect(scanner.last?.line).toBe(" performance: 3 ops");
  });

  it("finds a needle split across two chunks at every position", () => {
    const text = enc("first line\nsome prefix performance: 12.5 samples/sec suffix\nlast\n");
    for (let cut = 0; cut <= text.length; cut++) {
      const scanner = scan([text.subarray(0, cut), text.subarray(cut)]);
      expect(scanner.matches, `cut at ${cut}`).toEqual([
        {
          value: "12.5",
          metric: "samples/sec",
          line: "some prefix performance: 12.5 samples/sec suffix",
        },
      ]);
    }
  });

  it("gives the same answer for one-byte chunks", () => {
    const text = enc("a\nperformance: 1 x\n\n\r\nperf performance: 2 y\nperformance:\nperformance: 3 z");
    const scanner = scan(chunked(text, 1));
    expect(scanner.matches).toEqual(reference(text));
    expect(scanner.count).toBe(3);
  });

  it("decodes multi-byte UTF-8 split across chunks", () => {
    const text = enc("résultat → performance: 3.5 échantillons/s ✓\n");
    for (let cut = 1; cut < text.length; cut++) {
      const scanner = scan([text.subarray(0, cut), text.subarray(cut)]);
      expect(scanner.last).toEqual({
        value: "3.5",
        metric: "échantillons/s",
        line: "résultat → performance: 3.5 échantillons/s ✓",
      });
    }
  });

  it("agrees with the split-and-match reference on random text in random chunkings", () => {
    const random = prng(42);
    const pieces = [
      "performance: 1 a",
      "performance: -2.5e3 b/s",
      "performance: N/A",
      "perform",
      "ance: 9 z",
      "performance:",
      " ",
      "\n",
      "\r\n",
      "text",
      "é",
      "7",
      " fps",
    ];
    for (let trial = 0; trial < 200; trial++) {
      const parts: string[] = [];
      for (let k = Math.floor(random() * 60); k > 0; k--)
        parts.push(pieces[Math.floor(random() * pieces.length)]!);
      const data = enc(parts.join(""));
      const expected = reference(data);
      expect(scan(randomChunks(data, random, 1 + Math.floor(random() * 40))).matches).toEqual(expected);
      expect(scan([data]).matches).toEqual(expected);
    }
  });

  it("tolerates binary garbage (random bytes, NULs, invalid UTF-8) around performance lines", () => {
    const random = prng(7);
    for (let trial = 0; trial < 30; trial++) {
      const parts: Buffer[] = [];
      for (let k = 0; k < 20; k++) {
        const garbage = Buffer.alloc(Math.floor(random() * 2000));
        for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
        parts.push(garbage);
        if (random() < 0.5) parts.push(enc(`\nperformance: ${k}.${trial} samples_per_second\n`));
      }
      const data = Buffer.concat(parts);
      const expected = reference(data);
      expect(expected.length).toBeGreaterThan(0);
      expect(scan(randomChunks(data, random, 5000)).matches).toEqual(expected);
      expect(scan(chunked(data, 65536)).matches).toEqual(expected);
    }
  });

  it("does not keep the caller's chunk (it may be reused after push)", () => {
    const scanner = new PerformanceScanner();
    const chunk = enc("performance: 77 fps");
    scanner.push(chunk);
    chunk.fill(0x78);
    scanner.push(enc("\n"));
    expect(scanner.last?.value).toBe("77");
  });

  it("finds 1 line among 1,000,000 short lines fed in 64 KiB chunks", () => {
    const parts: string[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      parts.push(`line ${i}\n`);
      if (i === 500_000) parts.push("step 500000 performance: 1234.5 samples/sec\n");
    }
    const data = Buffer.from(parts.join(""), "latin1");
    const scanner = new PerformanceScanner();
    for (const chunk of chunked(data, 64 * 1024)) scanner.push(chunk);
    scanner.end();
    expect(scanner.matches).toEqual([
      { value: "1234.5", metric: "samples/sec", line: "step 500000 performance: 1234.5 samples/sec" },
    ]);
  });

  describe("long lines", () => {
    const tenMb = 10 * 1024 * 1024;

    it("keeps a 10 MB line without line break bounded, and still finds a needle at its end", () => {
      const data = Buffer.concat([Buffer.alloc(tenMb, "x"), enc(" performance: 8 fps")]);
      const scanner = scan(chunked(data, 64 * 1024));
      expect(scanner.last?.value).toBe("8");
      expect(scanner.last?.metric).toBe("fps");
      expect(Buffer.byteLength(scanner.last!.line)).toBeLessThanOrEqual(MAX_KEPT_LINE_BYTES);
      expect(scanner.last?.line).toBe(`${"x".repeat(63)} performance: 8 fps`);
    });

    it("finds a needle at the start of a 10 MB line, keeping its first 4 KiB", () => {
      const data = Buffer.concat([enc("performance: 8 fps "), Buffer.alloc(tenMb, "y"), enc("\nnext\n")]);
      for (const size of [1000, 64 * 1024, data.length]) {
        const scanner = scan(chunked(data, size));
        expect(scanner.matches).toHaveLength(1);
        expect(scanner.last?.line).toHaveLength(MAX_KEPT_LINE_BYTES);
        expect(scanner.last?.line.startsWith("performance: 8 fps yyy")).toBe(true);
      }
    });

    it("finds a needle in the middle of a 10 MB line in one chunk and in many", () => {
      const data = Buffer.concat([
        Buffer.alloc(5_000_000, "a"),
        enc(" performance: 1e6 ops "),
        Buffer.alloc(5_000_000, "b"),
      ]);
      const one = scan([data]).last;
      expect(one?.value).toBe("1e6");
      for (const size of [1, 7, 4096, 65536]) {
        if (size === 1) {
          // one-byte chunks over 10 MB are slow; a shorter line exercises the same path
          const small = Buffer.concat([
            Buffer.alloc(9000, "a"),
            enc(" performance: 1e6 ops "),
            Buffer.alloc(9000, "b"),
          ]);
          expect(scan(chunked(small, 1)).last).toEqual(scan([small]).last);
          continue;
        }
        expect(scan(chunked(data, size)).last).toEqual(one);
      }
      expect(one?.line).toHaveLength(MAX_KEPT_LINE_BYTES);
      expect(one?.line.startsWith(`${"a".repeat(63)} performance: 1e6 ops bbb`)).toBe(true);
    });

    it("windows a long line the same way whatever the chunking", () => {
      const random = prng(99);
      // needles at offsets around the 4 KiB window rules, in lines around 4 KiB long
      const offsets = [0, 100, 3500, 3584, 3585, 3600, 4000, 4083, 4084, 4090, 4096, 5000, 20000];
      const lengths = [4000, 4096, 4097, 5000, 30000];
      for (const offset of offsets) {
        for (const length of lengths) {
          const needle = enc("performance: 3 z/s");
          if (offset + needle.length > length) continue;
          const line = Buffer.alloc(length, "q");
          needle.copy(line, offset);
          const data = Buffer.concat([enc("before\n"), line, enc("\nafter\n")]);
          const whole = scan([data]).matches;
          expect(whole, `offset ${offset}, length ${length}`).toHaveLength(1);
          if (length <= MAX_KEPT_LINE_BYTES) expect(whole[0]?.line).toBe(line.toString());
          expect(Buffer.byteLength(whole[0]!.line)).toBeLessThanOrEqual(MAX_KEPT_LINE_BYTES);
          for (let trial = 0; trial < 5; trial++) {
            const chunks = randomChunks(data, random, [3, 50, 700, 5000][trial % 4]!);
            expect(scan(chunks).matches, `offset ${offset}, length ${length}`).toEqual(whole);
          }
          expect(scan(chunked(data, 1)).matches).toEqual(whole);
        }
      }
    });
  });

  it("keeps the first 1000 matches, counts all and remembers the last", () => {
    const lines: string[] = [];
    for (let i = 0; i < 2500; i++) lines.push(`performance: ${i} it/s`);
    const scanner = scan(chunked(enc(lines.join("\n")), 333));
    expect(scanner.matches).toHaveLength(MAX_MATCHES);
    expect(scanner.matches[999]?.value).toBe("999");
    expect(scanner.count).toBe(2500);
    expect(scanner.last?.value).toBe("2499");
  });
});
