import type { ExportFile } from "../../../shared/contract.js";

/**
 * A small line tokenizer for the Export preview: YAML, JSON, shell and INI text split into
 * tokens, each with a CSS class. It never produces markup: the renderer puts each token's text in a
 * <span> as text, so whatever a file holds (a `<script>` tag included) stays text.
 */

export type TokenKind =
  | "comment"
  | "key"
  | "string"
  | "number"
  | "keyword"
  | "variable"
  | "punct"
  | "section";

export interface Token {
  text: string;
  kind?: TokenKind;
}

type Rule = [RegExp, TokenKind];

const rules = (list: [string, TokenKind][]): Rule[] =>
  list.map(([source, kind]) => [new RegExp(source, "y"), kind]);

const STRING_DQ = String.raw`"(?:[^"\\]|\\.)*"?`;
const STRING_SQ = String.raw`'[^']*'?`;

const RULES: Record<ExportFile["language"], Rule[]> = {
  yaml: rules([
    [String.raw`#.*`, "comment"],
    [String.raw`(?:---|\.\.\.)(?=\s*$)`, "punct"],
    [String.raw`[\w./-]+(?=:(?:\s|$))`, "key"],
    [`${STRING_DQ}|${STRING_SQ}`, "string"],
    [String.raw`-?\d+(?:\.\d+)?(?![\w.])`, "number"],
    [String.raw`(?:true|false|null|~)(?![\w-])`, "keyword"],
    [String.raw`[:\-|>\[\]{},]`, "punct"],
  ]),
  json: rules([
    [`${STRING_DQ}(?=\\s*:)`, "key"],
    [STRING_DQ, "string"],
    [String.raw`-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`, "number"],
    [String.raw`(?:true|false|null)\b`, "keyword"],
    [String.raw`[{}\[\]:,]`, "punct"],
  ]),
  shell: rules([
    [String.raw`#.*`, "comment"],
    [STRING_DQ, "string"],
    [STRING_SQ, "string"],
    [String.raw`\$(?:\{[^}]*\}?|\w+|[@*#?$!0-9])`, "variable"],
    [
      String.raw`(?:if|then|else|elif|fi|for|while|until|do|done|case|esac|in|function|local|return|exit|export|set)(?![\w-])`,
      "keyword",
    ],
    [String.raw`[|&;<>()]+`, "punct"],
  ]),
  ini: rules([
    [String.raw`[;#].*`, "comment"],
    [String.raw`\[[^\]]*\]?`, "section"],
    [String.raw`[\w.-]+(?=\s*=)`, "key"],
    [`${STRING_DQ}|${STRING_SQ}`, "string"],
    [String.raw`=`, "punct"],
  ]),
  text: [],
};

/** Where a token may start: comments and keys need a word boundary before them. */
function boundaryBefore(line: string, index: number): boolean {
  return index === 0 || /[\s,[{(=:;|&]/.test(line[index - 1]!);
}

export function tokenizeLine(line: string, language: ExportFile["language"]): Token[] {
  const list = RULES[language];
  const tokens: Token[] = [];
  let plain = "";
  let index = 0;
  const flush = () => {
    if (plain !== "") tokens.push({ text: plain });
    plain = "";
  };
  outer: while (index < line.length) {
    if (boundaryBefore(line, index)) {
      for (const [pattern, kind] of list) {
        pattern.lastIndex = index;
        const match = pattern.exec(line);
        if (match && match[0] !== "") {
          flush();
          tokens.push({ text: match[0], kind });
          index += match[0].length;
          continue outer;
        }
      }
    } else {
      // inside a word only punctuation, strings and variables start (no keys or numbers mid-word)
      for (const [pattern, kind] of list) {
        if (kind !== "punct" && kind !== "variable" && kind !== "string") continue;
        pattern.lastIndex = index;
        const match = pattern.exec(line);
        if (match && match[0] !== "") {
          flush();
          tokens.push({ text: match[0], kind });
          index += match[0].length;
          continue outer;
        }
      }
    }
    plain += line[index];
    index += 1;
  }
  flush();
  return tokens;
}

export function tokenize(content: string, language: ExportFile["language"]): Token[][] {
  return content.split("\n").map((line) => tokenizeLine(line, language));
}
