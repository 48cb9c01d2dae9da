/**
 * JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters): one `<testsuite>` of model
 * runs inside `<testsuites>`. Text from model logs is escaped, and characters XML 1.0 cannot carry
 * (control characters other than tab, CR and LF, lone surrogates, U+FFFE/U+FFFF) are removed, so
 * the document always parses.
 */

export type JunitStatus = "SUCCESS" | "FAILURE" | "SKIPPED";

export interface JunitCase {
  name: string;
  className: string;
  /** Seconds; a negative or non-finite value is written as 0. */
  timeSec: number;
  status: JunitStatus;
  /** Why it failed or was skipped. */
  message?: string;
  /** The log tail, written as `<system-out>`. */
  output?: string;
}

/**
 * Characters outside XML 1.0's Char production, plus DEL and the C1 controls (allowed but
 * "discouraged", and rejected by some readers). With the `u` flag a lone surrogate is one code
 * point, outside every allowed range, so it is removed too.
 */
const INVALID_XML = /[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Removes characters that cannot appear in an XML 1.0 document. */
export function stripInvalidXmlChars(text: string): string {
  return text.replace(INVALID_XML, "");
}

const TEXT_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
};
const ATTRIBUTE_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, "\n": "&#10;", "\t": "&#9;" };

/** Escapes element text: &<>"' (and CR, which a parser would otherwise turn into LF). */
export function escapeXmlText(text: string): string {
  return stripInvalidXmlChars(text).replace(/[&<>"'\r]/g, (c) => TEXT_ESCAPES[c]!);
}

/** Escapes an attribute value; tab, CR and LF become references so that parsers keep them. */
export function escapeXmlAttribute(text: string): string {
  return stripInvalidXmlChars(text).replace(/[&<>"'\r\n\t]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

function seconds(value: number): string {
  return (Number.isFinite(value) && value > 0 ? value : 0).toFixed(3);
}

/** A JUnit XML document for one suite of cases. */
export function junitXml(suiteName: string, cases: readonly JunitCase[]): string {
  const failures = cases.filter((c) => c.status === "FAILURE").length;
  const skipped = cases.filter((c) => c.status === "SKIPPED").length;
  const total = seconds(
    cases.reduce((sum, c) => sum + (Number.isFinite(c.timeSec) && c.timeSec > 0 ? c.timeSec : 0), 0),
  );
  const name = escapeXmlAttribute(suiteName);
  const counts = `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${total}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${name}" ${counts}>`,
    `  <testsuite name="${name}" ${counts}>`,
  ];
  for (const c of cases) {
    const open = `    <testcase name="${escapeXmlAttribute(c.name)}" classname="${escapeXmlAttribute(c.className)}" time="${seconds(c.timeSec)}"`;
    const children: string[] = [];
    if (c.status === "FAILURE") {
      const message = c.message ?? "failed";
      children.push(
        `      <failure message="${escapeXmlAttribute(message)}">${escapeXmlText(message)}</failure>`,
      );
    } else if (c.status === "SKIPPED") {
      children.push(
        c.message === undefined
          ? "      <skipped/>"
          : `      <skipped message="${escapeXmlAttribute(c.message)}"/>`,
      );
    }
    if (c.output !== undefined && c.output !== "") {
      children.push(`      <system-out>${escapeXmlText(c.output)}</system-out>`);
    }
    if (children.length === 0) lines.push(`${open}/>`);
    else lines.push(`${open}>`, ...children, "    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>");
  return `${lines.join("\n")}\n`;
}
