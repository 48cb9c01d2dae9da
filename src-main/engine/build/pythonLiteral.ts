/**
 * A safe reader for the Python literals found in Dockerfile `# CONTEXT {...}` headers
 * (`{'gpu_vendor': 'AMD', 'guest_os': 'UBUNTU'}`): dicts, lists, tuples, strings, numbers,
 * True/False/None. Nothing is evaluated; anything else is a syntax error with its column.
 */
export type PythonValue = string | number | boolean | null | PythonValue[] | { [key: string]: PythonValue };

export class PythonLiteralError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`${message} at column ${column}`);
  }
}

export function parsePythonLiteral(text: string): PythonValue {
  let pos = 0;

  const fail = (message: string): never => {
    throw new PythonLiteralError(message, pos + 1);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expected '${char}'`);
    pos++;
  };

  const readString = (): string => {
    const quote = text[pos]!;
    pos++;
    let out = "";
    while (pos < text.length && text[pos] !== quote) {
      if (text[pos] === "\\") {
        const next = text[pos + 1];
        const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
        if (next === undefined || !(next in escapes)) fail("unsupported escape in string");
        out += escapes[next!];
        pos += 2;
      } else {
        out += text[pos];
        pos++;
      }
    }
    if (pos >= text.length) fail("unterminated string");
    pos++;
    return out;
  };

  const readValue = (): PythonValue => {
    skipSpace();
    const char = text[pos];
    if (char === undefined) return fail("unexpected end of header");
    if (char === "'" || char === '"') return readString();
    if (char === "{") {
      pos++;
      const dict: { [key: string]: PythonValue } = {};
      skipSpace();
      while (text[pos] !== "}") {
        const key = readValue();
        if (typeof key !== "string" && typeof key !== "number") fail("dict keys must be strings or numbers");
        expect(":");
        // defineProperty, not assignment: a '__proto__' key must stay data, not replace the dict's prototype
        Object.defineProperty(dict, String(key), {
          value: readValue(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skipSpace();
        if (text[pos] === ",") {
          pos++;
          skipSpace();
        } else if (text[pos] !== "}") fail("expected ',' or '}'");
      }
      pos++;
      return dict;
    }
    if (char === "[" || char === "(") {
      const close = char === "[" ? "]" : ")";
      pos++;
      const list: PythonValue[] = [];
      skipSpace();
      while (text[pos] !== close) {
        list.push(readValue());
        skipSpace();
        if (text[pos] === ",") {
          pos++;
          skipSpace();
        } else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
      }
      pos++;
      return list;
    }
    const word = /^(True|False|None|[+-]?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(pos));
    if (!word) return fail(`unexpected '${char}'`);
    pos += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    return Number(word[0]);
  };

  const value = readValue();
  skipSpace();
  if (pos !== text.length) fail("unexpected text after the literal");
  return value;
}
