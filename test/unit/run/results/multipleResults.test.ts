import { describe, expect, it } from "vitest";
import {
  isNumericPerformance,
  parseMultipleResults,
} from "../../../../src-main/engine/run/results/multipleResults.js";
import { thrown } from "../../../helpers/errors.js";

describe("parseMultipleResults", () => {
  it("parses MAD's dummy_multi output (spec §5.6)", () => {
    const csv = "model,performance,metric\n1,12345,samples_per_sec\n2,23456,samples_per_sec\n";
    expect(parseMultipleResults(csv, "perf_dummy.csv")).toEqual({
      rows: [
        { model: "1", performance: "12345", metric: "samples_per_sec", extra: {} },
        { model: "2", performance: "23456", metric: "samples_per_sec", extra: {} },
      ],
      problems: [],
    });
  });

  it("strips header whitespace and accepts columns in any order, keeping extra columns", () => {
    const csv = " metric , latency,model ,performance,temperature\r\nfps,3.2,a,10,71\r\ntok/s,4.5,b,20,72";
    const { rows, problems } = parseMultipleResults(csv, "perf_dummy.csv");
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { model: "a", performance: "10", metric: "fps", extra: { latency: "3.2", temperature: "71" } },
      { model: "b", performance: "20", metric: "tok/s", extra: { latency: "4.5", temperature: "72" } },
    ]);
  });

  it("trims cells, strips a BOM and skips blank lines", () => {
    const csv = "\uFEFFmodel,performance,metric\n\n  a , 1.5 , fps \n\n";
    expect(parseMultipleResults(csv, "x.csv")).toEqual({
      rows: [{ model: "a", performance: "1.5", metric: "fps", extra: {} }],
      problems: [],
    });
  });

  it("reports an empty cell in any column and clears that row's performance", () => {
    const csv = "model,performance,metric,latency\na,1,fps,2\nb,2,,3\nc,3,fps,\nd,,fps,4\n";
    const { rows, problems } = parseMultipleResults(csv, "perf_x.csv");
    expect(problems).toEqual([
      "perf_x.csv line 3: empty cell in column 'metric'",
      "perf_x.csv line 4: empty cell in column 'latency'",
      "perf_x.csv line 5: empty cell in column 'performance'",
    ]);
    expect(rows.map((r) => r.performance)).toEqual(["1", "", "", ""]);
    expect(rows[1]).toEqual({ model: "b", performance: "", metric: "", extra: { latency: "3" } });
    expect(rows[2]?.metric).toBe("fps");
  });

  it("names every empty column of a row in one problem", () => {
    const { problems } = parseMultipleResults("model,performance,metric\n,5,\n", "p.csv");
    expect(problems).toEqual(["p.csv line 2: empty cells in columns 'model', 'metric'"]);
  });

  it("counts a whitespace-only cell as empty", () => {
    const { rows, problems } = parseMultipleResults("model,performance,metric\na,  ,fps\n", "p.csv");
    expect(problems).toEqual(["p.csv line 2: empty cell in column 'performance'"]);
    expect(rows[0]?.performance).toBe("");
  });

  it("reports rows with too few or too many cells", () => {
    const csv = "model,performance,metric\na,1\nb,2,fps,extra\nc,3,fps\n";
    const { rows, problems } = parseMultipleResults(csv, "p.csv");
    expect(problems).toEqual([
      "p.csv line 2: 2 cells, the header has 3",
      "p.csv line 3: 4 cells, the header has 3",
    ]);
    expect(rows.map((r) => [r.model, r.performance, r.metric])).toEqual([
      ["a", "", ""],
      ["b", "", "fps"],
      ["c", "3", "fps"],
    ]);
  });

  it("reports the physical line of a row after a quoted multi-line cell", () => {
    const csv = 'model,performance,metric,note\na,1,fps,"two\nlines"\nb,2,fps,\n';
    const { rows, problems } = parseMultipleResults(csv, "p.csv");
    expect(rows[0]?.extra).toEqual({ note: "two\nlines" });
    expect(problems).toEqual(["p.csv line 4: empty cell in column 'note'"]);
  });

  it("keeps values such as NaN as they are (the status decides later)", () => {
    const { rows, problems } = parseMultipleResults("model,performance,metric\na,NaN,fps\n", "p.csv");
    expect(problems).toEqual([]);
    expect(rows[0]?.performance).toBe("NaN");
    expect(isNumericPerformance(rows[0]!.performance)).toBe(false);
  });

  it("accepts a header-only file", () => {
    expect(parseMultipleResults("model,performance,metric\n", "p.csv")).toEqual({ rows: [], problems: [] });
  });

  it("reports duplicate columns and uses the first", () => {
    const csv = "model,performance,metric,x,x\na,1,fps,first,second\n";
    const { rows, problems } = parseMultipleResults(csv, "p.csv");
    expect(problems).toEqual(["p.csv line 1: duplicate column 'x' (the first one is used)"]);
    expect(rows[0]?.extra).toEqual({ x: "first" });
  });

  it("keeps odd extra column names as plain keys", () => {
    const csv = "model,performance,metric,__proto__,constructor\na,1,fps,p,c\n";
    const { rows } = parseMultipleResults(csv, "p.csv");
    const extra = rows[0]!.extra;
    expect(Object.keys(extra)).toEqual(["__proto__", "constructor"]);
    expect(extra.constructor).toBe("c");
    expect(Object.getPrototypeOf(extra)).toBe(Object.prototype);
  });

  it("throws naming the file and the missing columns", () => {
    const one = thrown(() => parseMultipleResults("model,perf,metric\na,1,fps\n", "perf_x.csv"));
    expect(one.message).toBe("perf_x.csv: missing required column 'performance' (header: model,perf,metric)");
    expect(one.code).toBe("INVALID_FILE");
    expect(one.file).toBe("perf_x.csv");
    expect(one.hint).toMatch(/model,performance,metric/);
    const two = thrown(() => parseMultipleResults("name,value\n", "r.csv"));
    expect(two.message).toMatch(/^r\.csv: missing required columns 'model', 'performance', 'metric'/);
  });

  it("does not match columns case-insensitively", () => {
    expect(() => parseMultipleResults("Model,Performance,Metric\n", "r.csv")).toThrow(
      /missing required columns/,
    );
  });

  it("throws for an empty file and for an unterminated quote, naming the file", () => {
    expect(thrown(() => parseMultipleResults("", "e.csv")).message).toBe(
      "e.csv: the multiple-results CSV is empty",
    );
    expect(thrown(() => parseMultipleResults("\n\n", "e.csv")).message).toMatch(/empty/);
    const quote = thrown(() => parseMultipleResults('model,performance,metric\n"a,1,fps\n', "q.csv"));
    expect(quote.message).toMatch(/^q\.csv: CSV line 2: unterminated quoted field/);
  });
});

describe("isNumericPerformance", () => {
  it.each(["0", "12345", "1.5", "-3", "+7", ".5", "5.", "1e6", "1.5E-3", " 42 ", "007"])(
    "%j is numeric",
    (value) => {
      expect(isNumericPerformance(value)).toBe(true);
    },
  );

  it.each(["", " ", "NaN", "nan", "N/A", "inf", "Infinity", "0x10", "1,000", "12 fps", "e5", ".", "-", "1e"])(
    "%j is not numeric",
    (value) => {
      expect(isNumericPerformance(value)).toBe(false);
    },
  );
});
