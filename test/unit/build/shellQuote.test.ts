import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { shellJoin, shellQuote } from "../../../src-main/engine/util/shellQuote.js";

let dir = "";
let marker = "";

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "madengine-quote-"));
  marker = path.join(dir, "pwned");
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function nastyWords(): string[] {
  return [
    "a b",
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `;touch ${marker}`,
    `&& touch ${marker}`,
    `| touch ${marker}`,
    `> ${marker}`,
    "'",
    '"',
    "''",
    "'\"'\"'",
    "`",
    "``",
    "a\nb",
    "\n",
    "trailing\n",
    ";rm -rf /",
    "",
    " ",
    "\t",
    "héllo wörld 日本語 🎉",
    "$HOME",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal shell expansion that must stay unexpanded
    "${PATH}",
    "$",
    "\\",
    "\\n",
    "%s%d%%",
    "*",
    "?",
    "[a-z]",
    "~",
    "~root",
    "{a,b}",
    "!",
    "#not a comment",
    "-n",
    "--",
    "a=b",
    "key=value with space",
    "it's",
    'don\'t "quote" me',
    "plain",
    "/usr/bin/env",
    "user@host:1,2+3%",
  ];
}

/** Runs `printf "%s\n" <joined words>` in sh and returns what it printed. */
function printed(words: readonly string[]): string {
  const result = spawnSync("sh", ["-c", `printf "%s\\n" ${shellJoin(words)}`], { encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stderr).toBe("");
  return result.stdout;
}

describe("shellQuote", () => {
  it("leaves safe words bare", () => {
    for (const word of ["plain", "a-b_c.d", "/usr/bin/env", "KEY=value", "user@host:1,2+3%", "0"]) {
      expect(shellQuote(word)).toBe(word);
    }
  });

  it("quotes the empty word and anything with shell meaning", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("$(id)")).toBe("'$(id)'");
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`);
    expect(shellQuote("~")).toBe("'~'");
    expect(shellQuote("*")).toBe("'*'");
  });

  it("joins with single spaces", () => {
    expect(shellJoin(["docker", "run", "a b", ""])).toBe("docker run 'a b' ''");
    expect(shellJoin([])).toBe("");
  });
});

describe("shellJoin round trip through sh", () => {
  it("prints every nasty word back exactly, one at a time", () => {
    for (const word of nastyWords()) {
      expect(printed([word]), JSON.stringify(word)).toBe(`${word}\n`);
    }
  });

  it("prints a whole list of nasty words back exactly, in order", () => {
    const words = nastyWords();
    expect(printed(words)).toBe(words.map((word) => `${word}\n`).join(""));
  });

  it("runs none of the embedded commands", () => {
    printed(nastyWords());
    expect(existsSync(marker)).toBe(false);
  });

  it("keeps word boundaries: each word is one argument", () => {
    const words = ["a b", "", "c\nd", "e"];
    const result = spawnSync("sh", ["-c", `printf "%s\\0" ${shellJoin(words)}`], { encoding: "utf8" });
    expect(result.stdout.split("\0").slice(0, -1)).toEqual(words);
    const count = spawnSync("sh", ["-c", `set -- ${shellJoin(words)}; echo $#`], { encoding: "utf8" });
    expect(count.stdout.trim()).toBe(String(words.length));
  });
});
