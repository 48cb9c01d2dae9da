/**
 * ANSI escape handling for log lines. SGR sequences (colours, bold, ...) become CSS class names on
 * text segments; every other escape (cursor movement, erase, OSC titles/links) is dropped. The
 * output is plain text plus class names, rendered as React text nodes: a log line can never
 * become markup or code. Each line is parsed on its own (state does not carry across lines), so
 * any line can be rendered without reading the ones before it.
 */

export interface Segment {
  text: string;
  /** Space-separated CSS classes (ansi-fg-1 ansi-bold ...), "" for plain text. */
  className: string;
}

interface Style {
  fg: number; // -1 default, 0..15
  bg: number;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
}

const PLAIN: Style = {
  fg: -1,
  bg: -1,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
  strike: false,
};

// The 16 basic colours in RGB, for mapping 256-colour and true-colour codes to the nearest class.
const BASIC_RGB: readonly [number, number, number][] = [
  [0, 0, 0],
  [205, 49, 49],
  [13, 188, 121],
  [229, 229, 16],
  [36, 114, 200],
  [188, 63, 188],
  [17, 168, 205],
  [229, 229, 229],
  [102, 102, 102],
  [241, 76, 76],
  [35, 209, 139],
  [245, 245, 67],
  [59, 142, 234],
  [214, 112, 214],
  [41, 184, 219],
  [255, 255, 255],
];

function nearestBasic(r: number, g: number, b: number): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  BASIC_RGB.forEach(([br, bg, bb], index) => {
    const distance = (r - br) ** 2 + (g - bg) ** 2 + (b - bb) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  });
  return best;
}

function color256(n: number): number {
  if (n < 16) return n;
  if (n >= 232) {
    const level = 8 + (n - 232) * 10;
    return nearestBasic(level, level, level);
  }
  const index = n - 16;
  const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
  return nearestBasic(level(Math.floor(index / 36)), level(Math.floor(index / 6) % 6), level(index % 6));
}

function applySgr(style: Style, params: number[]): Style {
  const next = { ...style };
  if (params.length === 0) return { ...PLAIN };
  for (let i = 0; i < params.length; i++) {
    const code = params[i]!;
    if (code === 0) Object.assign(next, PLAIN);
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 9) next.strike = true;
    else if (code === 21 || code === 22) {
      next.bold = false;
      next.dim = false;
    } else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code === 27) next.inverse = false;
    else if (code === 29) next.strike = false;
    else if (code >= 30 && code <= 37) next.fg = code - 30;
    else if (code === 39) next.fg = -1;
    else if (code >= 40 && code <= 47) next.bg = code - 40;
    else if (code === 49) next.bg = -1;
    else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
    else if (code >= 100 && code <= 107) next.bg = code - 100 + 8;
    else if (code === 38 || code === 48) {
      const mode = params[i + 1];
      let value: number | undefined;
      if (mode === 5 && params[i + 2] !== undefined) {
        value = color256(params[i + 2]!);
        i += 2;
      } else if (mode === 2 && params[i + 4] !== undefined) {
        value = nearestBasic(params[i + 2]!, params[i + 3]!, params[i + 4]!);
        i += 4;
      } else {
        i = params.length; // malformed extended colour: ignore the rest
      }
      if (value !== undefined) {
        if (code === 38) next.fg = value;
        else next.bg = value;
      }
    }
  }
  return next;
}

function classOf(style: Style): string {
  let fg = style.fg;
  let bg = style.bg;
  const classes: string[] = [];
  if (style.inverse) {
    [fg, bg] = [bg, fg];
    if (fg === -1) classes.push("ansi-fg-inverse");
    if (bg === -1) classes.push("ansi-bg-inverse");
  }
  if (fg >= 0) classes.push(`ansi-fg-${fg}`);
  if (bg >= 0) classes.push(`ansi-bg-${bg}`);
  if (style.bold) classes.push("ansi-bold");
  if (style.dim) classes.push("ansi-dim");
  if (style.italic) classes.push("ansi-italic");
  if (style.underline) classes.push("ansi-underline");
  if (style.strike) classes.push("ansi-strike");
  return classes.join(" ");
}

/** What a terminal would leave of a line rewritten with carriage returns (progress bars). */
function afterCarriageReturn(line: string): string {
  const trimmed = line.endsWith("\r") ? line.replace(/\r+$/, "") : line;
  const last = trimmed.lastIndexOf("\r");
  return last < 0 ? trimmed : trimmed.slice(last + 1);
}

/** Parses one line into styled segments; the segments' text joined is `plainText(line)`. */
export function parseAnsi(line: string): Segment[] {
  const text = line.indexOf("\r") >= 0 ? afterCarriageReturn(line) : line;
  if (text.indexOf("\x1b") < 0 && text.indexOf("\x9b") < 0) {
    return text === "" ? [] : [{ text: stripControls(text), className: "" }];
  }
  const segments: Segment[] = [];
  let style: Style = PLAIN;
  let buffer = "";
  const flush = () => {
    if (buffer === "") return;
    const className = classOf(style);
    const last = segments[segments.length - 1];
    if (last && last.className === className) last.text += buffer;
    else segments.push({ text: buffer, className });
    buffer = "";
  };
  let i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    const isCsi = (ch === 0x1b && text[i + 1] === "[") || ch === 0x9b;
    if (isCsi) {
      let j = i + (ch === 0x9b ? 1 : 2);
      const start = j;
      // parameter and intermediate bytes, then one final byte in 0x40-0x7e
      while (j < text.length && (text.charCodeAt(j) < 0x40 || text.charCodeAt(j) > 0x7e)) j++;
      if (j >= text.length) break; // truncated sequence: drop the rest
      if (text[j] === "m") {
        flush();
        const raw = text.slice(start, j);
        const params =
          raw === ""
            ? []
            : raw.split(/[;:]/).map((p) => {
                const n = Number.parseInt(p, 10);
                return Number.isNaN(n) ? 0 : n;
              });
        style = applySgr(style, params);
      }
      i = j + 1;
      continue;
    }
    if (ch === 0x1b) {
      const kind = text[i + 1];
      if (kind === "]" || kind === "P" || kind === "_" || kind === "^") {
        // OSC / DCS / APC / PM: up to BEL or ST (ESC \)
        let j = i + 2;
        while (
          j < text.length &&
          text.charCodeAt(j) !== 0x07 &&
          !(text[j] === "\x1b" && text[j + 1] === "\\")
        )
          j++;
        i = j >= text.length ? j : text.charCodeAt(j) === 0x07 ? j + 1 : j + 2;
        continue;
      }
      i += 2; // two-byte escape (ESC c, ESC 7, ...)
      continue;
    }
    if (ch < 0x20 && ch !== 0x09) {
      i++; // other control characters (BEL, backspace) are not shown
      continue;
    }
    buffer += text[i];
    i++;
  }
  flush();
  return segments;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const HAS_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

function stripControls(text: string): string {
  return HAS_CONTROL.test(text) ? text.replace(CONTROLS, "") : text;
}

/** The text a line shows (escapes removed), used for search, copy and save. */
export function plainText(line: string): string {
  if (line.indexOf("\x1b") < 0 && line.indexOf("\r") < 0 && line.indexOf("\x9b") < 0) {
    return stripControls(line);
  }
  let out = "";
  for (const segment of parseAnsi(line)) out += segment.text;
  return out;
}
