import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InterleavedLog } from "../../../src-main/app/interleavedLog.js";
import { tempTree } from "../../helpers/tempDir.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: the log's colour sequences are what is checked
const plain = (text: string) => text.replace(/\u001b\[\d+m/g, "");

describe("InterleavedLog", () => {
  it("writes whole lines only, each prefixed with its node (a colour per node) and model", async () => {
    const file = path.join(tempTree(), "all-nodes.log");
    const log = new InterleavedLog(file, ["n1", "n2"]);
    log.output("n1", "m", Buffer.from("first half of a li"));
    log.output("n2", "m", Buffer.from("n2 line\r\nn2 partial"));
    log.output("n1", "m", Buffer.from("ne\n"));
    log.note("n2", "lost: connection reset");
    log.endOf("n2", "m");
    log.output("n1", "m", Buffer.from("no newline at the end"));
    await log.close();
    const text = readFileSync(file, "utf8");
    expect(plain(text).split("\n")).toEqual([
      "n2 m │ n2 line",
      "n1 m │ first half of a line",
      "n2 │ lost: connection reset",
      "n2 m │ n2 partial",
      "n1 m │ no newline at the end",
      "",
    ]);
    expect(text.startsWith("\u001b[33mn2 m\u001b[0m │ ")).toBe(true);
    expect(text).toContain("\u001b[36mn1 m\u001b[0m │ ");
  });

  it("after a restart, skips the output a resumed container replays and adds only what is new", async () => {
    const file = path.join(tempTree(), "all-nodes.log");
    const before = new InterleavedLog(file, ["n1"]);
    before.output("n1", "m", Buffer.from("one\ntwo\n"));
    before.note("n1", "the app is closing");
    await before.close();
    const after = new InterleavedLog(file, ["n1"]);
    await after.countExisting();
    after.output("n1", "m", Buffer.from("one\ntwo\nthree\n"));
    after.output("n1", "other", Buffer.from("new model\n"));
    await after.close();
    expect(plain(readFileSync(file, "utf8")).split("\n")).toEqual([
      "n1 m │ one",
      "n1 m │ two",
      "n1 │ the app is closing",
      "n1 m │ three",
      "n1 other │ new model",
      "",
    ]);
  });
});
