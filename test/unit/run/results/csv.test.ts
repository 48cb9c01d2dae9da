import { describe, expect, it } from "vitest";
import {
  formatCsvCell,
  formatCsvRow,
  parseCsv,
  parseCsvRecords,
} from "../../../../src-main/engine/run/results/csv.js";

describe("parseCsv", () => {
  it("splits plain records on LF", () => {
    expect(parseCsv("a,b,c\n1,2,3\n")).toEqual([
      ["a", "b", "c"],
      ["1", "2", "3"],
    ]);
  });

  it("accepts CRLF, and a lone CR, as record separators", () => {
    expect(parseCsv("a,b\r\n1,2\r\n")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("a,b\r1,2\r")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("a\r\nb\nc\rd")).toEqual([["a"], ["b"], ["c"], ["d"]]);
  });

  it("keeps a final record without a line break", () => {
    expect(parseCsv("a,b\n1,2")).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parseCsv("x")).toEqual([["x"]]);
  });

  it("returns nothing for empty text or a lone BOM", () => {
    expect(parseCsv("")).toEqual([]);
    expect(parseCsv("\uFEFF")).toEqual([]);
  });

  it("strips a UTF-8 BOM at the start only", () => {
    expect(parseCsv("\uFEFFmodel,metric\n")).toEqual([["model", "metric"]]);
    expect(parseCsv('\uFEFF"q",x\n')).toEqual([["q", "x"]]);
    expect(parseCsv("a,\uFEFFb")).toEqual([["a", "\uFEFFb"]]);
  });

  it("handles quoted fields with commas, doubled quotes and newlines", () => {
    const text = 'name,note\n"a,b","say ""hi"""\n"multi\nline\r\nvalue",x\n';
    expect(parseCsv(text)).toEqual([
      ["name", "note"],
      ["a,b", 'say "hi"'],
      ["multi\nline\r\nvalue", "x"],
    ]);
  });

  it("handles empty cells, empty quoted cells and trailing commas", () => {
    expect(parseCsv(',,\n"",x,""\na,\na,')).toEqual([
      ["", "", ""],
      ["", "x", ""],
      ["a", ""],
      ["a", ""],
    ]);
  });

  it("treats an empty line as one empty cell, or skips it on request", () => {
    expect(parseCsv("a\n\nb\n")).toEqual([["a"], [""], ["b"]]);
    expect(parseCsv("a\n\nb\n\n", { skipBlankLines: true })).toEqual([["a"], ["b"]]);
    expect(parseCsv("a\r\n\r\nb", { skipBlankLines: true })).toEqual([["a"], ["b"]]);
  });

  it("does not treat a quoted empty cell as a blank line", () => {
    expect(parseCsv('a\n""\nb', { skipBlankLines: true })).toEqual([["a"], [""], ["b"]]);
  });

  it("keeps a quote inside an unquoted field literally", () => {
    expect(parseCsv('5" screen,x\n')).toEqual([['5" screen', "x"]]);
  });

  it("appends text after a closing quote to the field, as Python's csv does", () => {
    expect(parseCsv('"ab"cd,e\n')).toEqual([["abcd", "e"]]);
  });

  it("keeps spaces as they are", () => {
    expect(parseCsv(" a , b \n")).toEqual([[" a ", " b "]]);
  });

  it("reports the physical line on which each record starts", () => {
    const records = parseCsvRecords('h1,h2\n"x\ny\r\nz",1\n\nlast,2\r"a\rb",3');
    expect(records.map((r) => r.line)).toEqual([1, 2, 5, 6, 7]);
    expect(records[1]?.cells).toEqual(["x\ny\r\nz", "1"]);
    expect(records[4]?.cells).toEqual(["a\rb", "3"]);
    const skipped = parseCsvRecords("a\n\n\nb\n", { skipBlankLines: true });
    expect(skipped).toEqual([
      { cells: ["a"], line: 1 },
      { cells: ["b"], line: 4 },
    ]);
  });

  it("throws on an unterminated quote, naming the line where the field starts", () => {
    expect(() => parseCsv('a,b\n1,"open\nstill open\n')).toThrow(/line 2: unterminated quoted field/);
    expect(() => parseCsv('"')).toThrow(/line 1: unterminated/);
    expect(() => parseCsv('x\ny\n"a""')).toThrow(/line 3/);
  });

  it("parses a large file quickly and correctly", () => {
    const lines = ["model,performance,metric"];
    for (let i = 0; i < 50_000; i++) lines.push(`m${i},${i}.5,"samples, per sec"`);
    const rows = parseCsv(`${lines.join("\r\n")}\r\n`);
    expect(rows).toHaveLength(50_001);
    expect(rows[50_000]).toEqual(["m49999", "49999.5", "samples, per sec"]);
  });
});

describe("formatCsvRow", () => {
  it("leaves plain cells unquoted", () => {
    expect(formatCsvRow(["dummy", "1", "", "sha256:abc", "samples_per_second"])).toBe(
      "dummy,1,,sha256:abc,samples_per_second",
    );
  });

  it("quotes only cells with a comma, quote, CR or LF, doubling quotes", () => {
    expect(formatCsvCell("a,b")).toBe('"a,b"');
    expect(formatCsvCell('say "hi"')).toBe('"say ""hi"""');
    expect(formatCsvCell("a\nb")).toBe('"a\nb"');
    expect(formatCsvCell("a\rb")).toBe('"a\rb"');
    expect(formatCsvCell(" spaced ")).toBe(" spaced ");
    expect(formatCsvCell("tab\there")).toBe("tab\there");
    expect(formatCsvCell("")).toBe("");
  });

  it("adds no line break", () => {
    expect(formatCsvRow(["a", "b"])).toBe("a,b");
    expect(formatCsvRow([])).toBe("");
  });

  it("round-trips through parseCsv", () => {
    const rows = [
      ["model", "tags", "docker_sha", "note"],
      ["dummy", "dummies,dummy_group_1", "line one\n\nline two\r\nthree", 'He said "ok", then left'],
      ["", "", "", ""],
      ["ünïcode 模型", "\u{1F600}", '"', ","],
    ];
    const text = `${rows.map(formatCsvRow).join("\n")}\n`;
    expect(parseCsv(text)).toEqual(rows);
  });

  it("round-trips random cells", () => {
    const alphabet = ["a", "b", ",", '"', "\n", "\r", " ", "x", "é"];
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    for (let trial = 0; trial < 300; trial++) {
      const width = 1 + Math.floor(random() * 5);
      const rows: string[][] = [];
      for (let r = 0; r < 1 + Math.floor(random() * 4); r++) {
        const row: string[] = [];
        for (let c = 0; c < width; c++) {
          let cell = "";
          for (let k = Math.floor(random() * 6); k > 0; k--)
            cell += alphabet[Math.floor(random() * alphabet.length)];
          row.push(cell);
        }
        // a record that is one empty cell is written as an empty line: give it a value
        if (width === 1 && row[0] === "") row[0] = "z";
        rows.push(row);
      }
      const text = rows.map(formatCsvRow).join(random() < 0.5 ? "\n" : "\r\n");
      expect(parseCsv(text)).toEqual(rows);
    }
  });
});
