import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  escapeXmlAttribute,
  escapeXmlText,
  type JunitCase,
  junitXml,
  stripInvalidXmlChars,
} from "../../../../src-main/engine/run/results/junit.js";

/** Parses the document with Python's expat-based minidom and returns what a JUnit reader sees. */
const PARSE = `
import json, sys, xml.dom.minidom as minidom
doc = minidom.parseString(sys.stdin.buffer.read())
root = doc.documentElement
def attrs(node): return dict(node.attributes.items())
def text(node): return "".join(c.data for c in node.childNodes if c.nodeType in (c.TEXT_NODE, c.CDATA_SECTION_NODE))
def child(node, tag):
    found = [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE and c.tagName == tag]
    return found[0] if found else None
suites = []
for suite in [c for c in root.childNodes if c.nodeType == c.ELEMENT_NODE]:
    cases = []
    for case in [c for c in suite.childNodes if c.nodeType == c.ELEMENT_NODE]:
        failure, skipped, out = child(case, "failure"), child(case, "skipped"), child(case, "system-out")
        cases.append({
            "tag": case.tagName,
            "attrs": attrs(case),
            "failure": None if failure is None else {"attrs": attrs(failure), "text": text(failure)},
            "skipped": None if skipped is None else attrs(skipped),
            "out": None if out is None else text(out),
        })
    suites.append({"tag": suite.tagName, "attrs": attrs(suite), "cases": cases})
print(json.dumps({"tag": root.tagName, "attrs": attrs(root), "suites": suites}))
`;

interface Parsed {
  tag: string;
  attrs: Record<string, string>;
  suites: {
    tag: string;
    attrs: Record<string, string>;
    cases: {
      tag: string;
      attrs: Record<string, string>;
      failure: { attrs: Record<string, string>; text: string } | null;
      skipped: Record<string, string> | null;
      out: string | null;
    }[];
  }[];
}

function parseWithPython(xml: string): Parsed {
  // a lone surrogate would be silently replaced when encoding to UTF-8: make sure there is none
  expect(/\p{Cs}/u.test(xml)).toBe(false);
  const result = spawnSync("python3", ["-c", PARSE], { input: Buffer.from(xml, "utf8"), encoding: "utf8" });
  if (result.status !== 0) throw new Error(`not well-formed XML: ${result.stderr}\n${xml}`);
  return JSON.parse(result.stdout) as Parsed;
}

const NASTY = `a & b < c > d "e" 'f'`;
const CONTROL = "x\u0000\u0001\u0008\u000b\u000c\u000e\u001b[31m\u001f\u007f\u0085\u009fy";
const SURROGATES = "lone \ud800 high, lone \udfff low, pair \ud83d\ude00, reversed \ude00\ud83d end";
const NONCHARS = "a\ufffeb\uffffc\ufffdd";

const CASES: JunitCase[] = [
  { name: "dummy", className: "madengine.dummy", timeSec: 3.2, status: "SUCCESS" },
  {
    name: "dummy_fail",
    className: "madengine.dummy",
    timeSec: 1.23456,
    status: "FAILURE",
    message: `no performance line\nexit code 1 ${NASTY}`,
    output: `line 1\r\nline 2\n${CONTROL}\n${SURROGATES}\n${NONCHARS}\n]]> <![CDATA[ x ]]>\ttab`,
  },
  {
    name: "dummy_skip",
    className: "madengine.dummy",
    timeSec: 0,
    status: "SKIPPED",
    message: "gpu arch gfx90a",
  },
  { name: "bare_skip", className: "madengine.dummy", timeSec: Number.NaN, status: "SKIPPED" },
  { name: `weird ${NASTY} ${CONTROL}`, className: `k${SURROGATES}`, timeSec: -5, status: "FAILURE" },
  { name: "with_output", className: "c", timeSec: 10, status: "SUCCESS", output: "performance: 1 fps\n" },
];

describe("stripInvalidXmlChars", () => {
  it("removes control characters other than tab, CR and LF", () => {
    expect(stripInvalidXmlChars(CONTROL)).toBe("x[31my");
    expect(stripInvalidXmlChars("a\tb\rc\nd")).toBe("a\tb\rc\nd");
  });

  it("removes lone surrogates and keeps pairs", () => {
    expect(stripInvalidXmlChars(SURROGATES)).toBe("lone  high, lone  low, pair \u{1F600}, reversed  end");
  });

  it("removes U+FFFE and U+FFFF and keeps U+FFFD and other text", () => {
    expect(stripInvalidXmlChars(NONCHARS)).toBe("abc\ufffdd");
    expect(stripInvalidXmlChars("ünïcode 模型 \u00a0\ud7ff\ue000\u{10ffff}")).toBe(
      "ünïcode 模型 \u00a0\ud7ff\ue000\u{10ffff}",
    );
  });
});

describe("escaping", () => {
  it("escapes the five XML specials in text and attributes", () => {
    expect(escapeXmlText(NASTY)).toBe("a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;");
    expect(escapeXmlAttribute(NASTY)).toBe("a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;");
  });

  it("keeps line breaks and tabs in attributes as character references", () => {
    expect(escapeXmlAttribute("a\nb\tc\r")).toBe("a&#10;b&#9;c&#13;");
    expect(escapeXmlText("a\nb\tc\r")).toBe("a\nb\tc&#13;");
  });

  it("does not double-escape", () => {
    expect(escapeXmlText("&amp;")).toBe("&amp;amp;");
  });
});

describe("junitXml", () => {
  it("writes one suite with counts, cases, failures, skips and output", () => {
    const xml = junitXml("madengine run", CASES);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="madengine run"')).toBe(
      true,
    );
    expect(xml).toContain(
      '<testsuite name="madengine run" tests="6" failures="2" errors="0" skipped="2" time="14.435">',
    );
    expect(xml).toContain('<testcase name="dummy" classname="madengine.dummy" time="3.200"/>');
    expect(xml).toContain(
      '<testcase name="bare_skip" classname="madengine.dummy" time="0.000">\n      <skipped/>',
    );
    expect(xml).toContain('<skipped message="gpu arch gfx90a"/>');
    expect(xml.endsWith("</testsuites>\n")).toBe(true);
  });

  it("writes an empty suite", () => {
    expect(junitXml("empty", [])).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="empty" tests="0" failures="0" errors="0" skipped="0" time="0.000">',
        '  <testsuite name="empty" tests="0" failures="0" errors="0" skipped="0" time="0.000">',
        "  </testsuite>",
        "</testsuites>",
        "",
      ].join("\n"),
    );
  });

  it("leaves no character that XML 1.0 forbids", () => {
    const xml = junitXml(`suite ${CONTROL} ${SURROGATES}`, CASES);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for the forbidden control characters
    expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/.test(xml)).toBe(false);
    expect(/\p{Cs}/u.test(xml)).toBe(false);
    expect(xml.match(/<testcase /g)).toHaveLength(CASES.length);
  });

  it("is well-formed, and a parser reads back the counts and the escaped text", () => {
    const parsed = parseWithPython(junitXml(`suite ${NASTY}`, CASES));
    expect(parsed.tag).toBe("testsuites");
    expect(parsed.attrs).toMatchObject({ name: `suite ${NASTY}`, tests: "6", failures: "2", skipped: "2" });
    expect(parsed.suites).toHaveLength(1);
    const suite = parsed.suites[0]!;
    expect(suite.tag).toBe("testsuite");
    expect(suite.attrs).toEqual({
      name: `suite ${NASTY}`,
      tests: "6",
      failures: "2",
      errors: "0",
      skipped: "2",
      time: "14.435",
    });
    expect(suite.cases).toHaveLength(CASES.length);
    expect(suite.cases.every((c) => c.tag === "testcase")).toBe(true);
    expect(suite.cases.filter((c) => c.failure !== null)).toHaveLength(2);
    expect(suite.cases.filter((c) => c.skipped !== null)).toHaveLength(2);

    const [ok, fail, skip, bare, weird, withOutput] = suite.cases;
    expect(ok).toEqual({
      tag: "testcase",
      attrs: { name: "dummy", classname: "madengine.dummy", time: "3.200" },
      failure: null,
      skipped: null,
      out: null,
    });
    expect(fail?.attrs.time).toBe("1.235");
    expect(fail?.failure).toEqual({
      attrs: { message: `no performance line\nexit code 1 ${NASTY}` },
      text: `no performance line\nexit code 1 ${NASTY}`,
    });
    expect(fail?.out).toBe(
      `line 1\r\nline 2\n${stripInvalidXmlChars(CONTROL)}\n${stripInvalidXmlChars(SURROGATES)}\nabc\ufffdd\n]]> <![CDATA[ x ]]>\ttab`,
    );
    expect(skip?.skipped).toEqual({ message: "gpu arch gfx90a" });
    expect(bare?.skipped).toEqual({});
    expect(bare?.attrs.time).toBe("0.000");
    expect(weird?.attrs).toEqual({
      name: `weird ${NASTY} x[31my`,
      classname: `k${stripInvalidXmlChars(SURROGATES)}`,
      time: "0.000",
    });
    expect(weird?.failure).toEqual({ attrs: { message: "failed" }, text: "failed" });
    expect(withOutput?.out).toBe("performance: 1 fps\n");
  });

  it("stays well-formed for every single code unit in names, messages and output", () => {
    const cases: JunitCase[] = [];
    for (let code = 0; code < 0x10000; code += 1) {
      if (code % 64 !== 0 && !(code < 0x100 || (code >= 0xd7f0 && code < 0xe010) || code >= 0xfff0)) continue;
      const ch = String.fromCharCode(code);
      cases.push({
        name: `n${ch}`,
        className: `c${ch}`,
        timeSec: 1,
        status: code % 3 === 0 ? "FAILURE" : code % 3 === 1 ? "SKIPPED" : "SUCCESS",
        message: `m${ch}`,
        output: `o${ch}`,
      });
    }
    const parsed = parseWithPython(junitXml("all code units", cases));
    expect(parsed.suites[0]?.cases).toHaveLength(cases.length);
    expect(parsed.attrs.tests).toBe(String(cases.length));
  });
});
