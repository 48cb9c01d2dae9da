import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PythonLiteralError, parsePythonLiteral } from "../../../src-main/engine/build/pythonLiteral.js";

function literalError(text: string): PythonLiteralError {
  try {
    parsePythonLiteral(text);
  } catch (error) {
    if (error instanceof PythonLiteralError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("parsePythonLiteral: values", () => {
  it("reads the MAD Dockerfile headers", () => {
    expect(parsePythonLiteral("{'gpu_vendor': 'AMD', 'guest_os': 'UBUNTU'}")).toEqual({
      gpu_vendor: "AMD",
      guest_os: "UBUNTU",
    });
    expect(parsePythonLiteral("{'gpu_vendor': 'NVIDIA', 'guest_os': 'UBUNTU'}")).toEqual({
      gpu_vendor: "NVIDIA",
      guest_os: "UBUNTU",
    });
    expect(parsePythonLiteral("{'ctx_test': 'None'}")).toEqual({ ctx_test: "None" });
    expect(parsePythonLiteral('{"ctx_test": "1"}')).toEqual({ ctx_test: "1" });
    expect(parsePythonLiteral("{}")).toEqual({});
  });

  it("reads nested dicts, lists and tuples (tuples become arrays)", () => {
    expect(
      parsePythonLiteral("{'a': {'b': [1, (2, 3), {'c': None}]}, 'd': (True, False), 'e': [], 'f': ()}"),
    ).toEqual({ a: { b: [1, [2, 3], { c: null }] }, d: [true, false], e: [], f: [] });
    expect(parsePythonLiteral("[[[]]]")).toEqual([[[]]]);
    expect(parsePythonLiteral("(('x',),)")).toEqual([["x"]]);
  });

  it("reads True, False and None only as whole words", () => {
    expect(parsePythonLiteral("True")).toBe(true);
    expect(parsePythonLiteral("False")).toBe(false);
    expect(parsePythonLiteral("None")).toBeNull();
    expect(parsePythonLiteral("[None, True, False]")).toEqual([null, true, false]);
    expect(() => parsePythonLiteral("true")).toThrow(PythonLiteralError);
    expect(() => parsePythonLiteral("null")).toThrow(PythonLiteralError);
    expect(() => parsePythonLiteral("Truex")).toThrow(PythonLiteralError);
    expect(() => parsePythonLiteral("{'a': Nonesuch}")).toThrow(PythonLiteralError);
  });

  it("reads integers, decimals, signs and exponents", () => {
    expect(parsePythonLiteral("0")).toBe(0);
    expect(parsePythonLiteral("42")).toBe(42);
    expect(parsePythonLiteral("-7")).toBe(-7);
    expect(parsePythonLiteral("+3")).toBe(3);
    expect(parsePythonLiteral("3.25")).toBe(3.25);
    expect(parsePythonLiteral("-2.5e-3")).toBe(-0.0025);
    expect(parsePythonLiteral("1e5")).toBe(100000);
    expect(parsePythonLiteral("1E+2")).toBe(100);
    expect(parsePythonLiteral("{'n': -1, 'm': 6.02e23}")).toEqual({ n: -1, m: 6.02e23 });
    expect(parsePythonLiteral("[-1, -2]")).toEqual([-1, -2]);
  });

  it("reads both quote styles and the common escapes", () => {
    expect(parsePythonLiteral(`"it's"`)).toBe("it's");
    expect(parsePythonLiteral(`'say "hi"'`)).toBe('say "hi"');
    expect(parsePythonLiteral(String.raw`'it\'s'`)).toBe("it's");
    expect(parsePythonLiteral(String.raw`"say \"hi\""`)).toBe('say "hi"');
    expect(parsePythonLiteral(String.raw`'a\nb\tc\rd\\e'`)).toBe("a\nb\tc\rd\\e");
    expect(parsePythonLiteral("''")).toBe("");
    expect(parsePythonLiteral("'ünïcödé 模型 🎉'")).toBe("ünïcödé 模型 🎉");
    expect(parsePythonLiteral("'{not: a dict}'")).toBe("{not: a dict}");
  });

  it("accepts trailing commas like Python", () => {
    expect(parsePythonLiteral("{'a': 1,}")).toEqual({ a: 1 });
    expect(parsePythonLiteral("[1, 2,]")).toEqual([1, 2]);
    expect(parsePythonLiteral("(1,)")).toEqual([1]);
  });

  it("ignores whitespace around every token", () => {
    expect(parsePythonLiteral("  {  'a'  :  1  ,\t'b' :\n[ 1 , 2 ] ,  }  ")).toEqual({ a: 1, b: [1, 2] });
    expect(parsePythonLiteral("\t None \n")).toBeNull();
  });

  it("keeps the last value of a repeated key and turns number keys into strings", () => {
    expect(parsePythonLiteral("{'a': 1, 'a': 2}")).toEqual({ a: 2 });
    expect(parsePythonLiteral("{1: 'one', 2.5: 'x'}")).toEqual({ "1": "one", "2.5": "x" });
  });

  it("keeps a '__proto__' key as data instead of changing the dict's prototype", () => {
    const value = parsePythonLiteral("{'__proto__': {'polluted': 'yes'}, 'a': 1}") as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["__proto__", "a"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toEqual({ polluted: "yes" });
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("parsePythonLiteral: errors", () => {
  it("reports an unterminated string", () => {
    const error = literalError("{'a': 'b}");
    expect(error.message).toBe("unterminated string at column 10");
    expect(error.column).toBe(10);
    expect(literalError("'abc").message).toMatch(/unterminated string/);
    expect(literalError(String.raw`'abc\'`).message).toMatch(/unterminated string/);
  });

  it("rejects function calls and bare names without running them", () => {
    const error = literalError("__import__('os')");
    expect(error.message).toBe("unexpected '_' at column 1");
    expect(error.column).toBe(1);
    expect(literalError("{'a': os.system('id')}").message).toBe("unexpected 'o' at column 7");
    expect(literalError("{'gpu_vendor': AMD}").message).toBe("unexpected 'A' at column 16");
    expect(literalError("lambda: 0").column).toBe(1);
    expect(literalError("f'x'").column).toBe(1);
    expect(literalError("...").message).toMatch(/unexpected '\.'/);
    expect(literalError("{'a': [1, 2][0]}").message).toMatch(/expected ',' or '}' at column 13/);
  });

  describe("never evaluates code", () => {
    let dir = "";
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = "";
    });

    it("leaves the file system alone for an injected call", () => {
      dir = mkdtempSync(path.join(tmpdir(), "madengine-pylit-"));
      const marker = path.join(dir, "pwned");
      for (const text of [
        `{'a': __import__('os').system('touch ${marker}')}`,
        `__import__('os').system('touch ${marker}')`,
        `{'a': 1}; __import__('os').system('touch ${marker}')`,
        `{'a': eval("open('${marker}', 'w')")}`,
      ]) {
        expect(() => parsePythonLiteral(text)).toThrow(PythonLiteralError);
      }
      expect(existsSync(marker)).toBe(false);
    });
  });

  it("rejects adjacent strings without a colon", () => {
    const error = literalError("{'a' 'b'}");
    expect(error.message).toBe("expected ':' at column 6");
    expect(error.column).toBe(6);
  });

  it("rejects text after the literal", () => {
    expect(literalError("{'a': 1} x").message).toBe("unexpected text after the literal at column 10");
    expect(literalError("{'a': 1}; import os").column).toBe(9);
    expect(literalError("'a' 'b'").column).toBe(5);
    expect(literalError("1 2").column).toBe(3);
  });

  it("rejects an empty or blank text", () => {
    expect(literalError("").message).toBe("unexpected end of header at column 1");
    expect(literalError("   ").column).toBe(4);
  });

  it("rejects unclosed containers and missing separators", () => {
    expect(literalError("{").message).toMatch(/unexpected end of header at column 2/);
    expect(literalError("{'a': 1").message).toBe("expected ',' or '}' at column 8");
    expect(literalError("[1, 2").message).toBe("expected ',' or ']' at column 6");
    expect(literalError("(1, 2]").message).toBe("expected ',' or ')' at column 6");
    expect(literalError("{'a': 1 'b': 2}").message).toBe("expected ',' or '}' at column 9");
    expect(literalError("{'a': }").message).toBe("unexpected '}' at column 7");
    expect(literalError("{'a'}").message).toBe("expected ':' at column 5");
    expect(literalError("[1,,2]").message).toBe("unexpected ',' at column 4");
    expect(literalError("{,}").message).toBe("unexpected ',' at column 2");
  });

  it("rejects keys that are not strings or numbers", () => {
    expect(literalError("{[1]: 2}").message).toMatch(/dict keys must be strings or numbers/);
    expect(literalError("{None: 2}").message).toMatch(/dict keys must be strings or numbers/);
    expect(literalError("{{}: 2}").message).toMatch(/dict keys must be strings or numbers/);
  });

  it("rejects escapes it does not know instead of guessing", () => {
    expect(literalError(String.raw`'\x41'`).message).toMatch(/unsupported escape in string at column 2/);
    expect(literalError(String.raw`'\u0041'`).message).toMatch(/unsupported escape/);
    expect(literalError("'abc\\").message).toMatch(/unsupported escape|unterminated/);
  });

  it("rejects number forms outside the supported grammar", () => {
    for (const text of ["0x10", "1_000", ".5", "1.", "--1", "1e", "inf", "nan"]) {
      expect(() => parsePythonLiteral(text), text).toThrow(PythonLiteralError);
    }
  });

  it("is an Error whose message carries the column", () => {
    const error = literalError("?");
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("unexpected '?' at column 1");
  });
});
