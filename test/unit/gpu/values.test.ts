import { describe, expect, it } from "vitest";
import {
  busIdKey,
  parseEmbeddedJson,
  parseMeasure,
  presentText,
  toMiB,
} from "../../../src-main/engine/context/gpu/values.js";

describe("GPU tool values", () => {
  it("parses numbers with units as the tools print them", () => {
    expect(parseMeasure("81559 MiB")).toEqual({ value: 81559, unit: "MiB" });
    expect(parseMeasure("100 %")).toEqual({ value: 100, unit: "%" });
    expect(parseMeasure("631.95 W")).toEqual({ value: 631.95, unit: "W" });
    expect(parseMeasure("38 C")).toEqual({ value: 38, unit: "C" });
    expect(parseMeasure("43.0°C")).toEqual({ value: 43, unit: "°C" });
    expect(parseMeasure("(1402Mhz)")).toEqual({ value: 1402, unit: "Mhz" });
  });

  it("treats every spelling of 'no value' as missing", () => {
    for (const missing of [
      "[N/A]",
      "N/A",
      "[Not Supported]",
      "[Requested functionality has been deprecated]",
      "<redacted>",
      "",
      "  ",
    ]) {
      expect(presentText(missing)).toBeUndefined();
      expect(parseMeasure(missing)).toBeUndefined();
    }
    expect(parseMeasure("Default")).toBeUndefined();
  });

  it("converts memory to MiB", () => {
    expect(toMiB("81559 MiB")).toBe(81559);
    expect(toMiB("8114")).toBe(8114);
    expect(toMiB("34342961152", "B")).toBe(32752);
    expect(toMiB("67092480 KB")).toBe(65520);
    expect(toMiB("65520 MB")).toBe(65520);
    expect(toMiB("[N/A]")).toBeUndefined();
    expect(toMiB("12 parsecs")).toBeUndefined();
  });

  it("matches PCI addresses across the tools' spellings", () => {
    expect(busIdKey("00000000:19:00.0")).toBe("0000:19:00.0");
    expect(busIdKey("0000:A3:00.0")).toBe("0000:a3:00.0");
    expect(busIdKey("3b:00.0")).toBe("0000:3b:00.0");
    expect(busIdKey("N/A")).toBeUndefined();
  });

  it("finds JSON after log lines and ignores trailing ones", () => {
    expect(parseEmbeddedJson('WARNING: x\n{"a": 1}\nINFO: done')).toEqual({ a: 1 });
    expect(parseEmbeddedJson("[\n  1\n]")).toEqual([1]);
    expect(parseEmbeddedJson("no json here")).toBeUndefined();
    expect(parseEmbeddedJson("{ broken")).toBeUndefined();
  });
});
