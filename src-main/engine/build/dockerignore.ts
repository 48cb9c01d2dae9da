/**
 * `.dockerignore` matching with Docker's rules: `#` comments, `!` exceptions, `*`/`?`/`[...]` within
 * one path segment, `**` across segments, a pattern that matches a directory excludes all below it,
 * and the last matching pattern wins.
 */
export interface IgnoreRule {
  regex: RegExp;
  negate: boolean;
}

function cleanPattern(pattern: string): string {
  // like Go's filepath.Clean: '..' cannot climb above '/', but a relative pattern keeps a leading
  // '..' (which then matches nothing inside the context)
  const rooted = pattern.startsWith("/");
  const parts: string[] = [];
  for (const part of pattern.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (!rooted) parts.push(part);
  }
  return parts.join("/");
}

function patternToRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          source += "(?:.*/)?";
        } else source += ".*";
      } else source += "[^/]*";
    } else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        source += `[${body}]`;
        i = end;
      }
    } else if (char === "\\" && i + 1 < pattern.length) {
      i++;
      source += pattern[i]!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    const pattern = cleanPattern(line);
    if (pattern === "") continue;
    rules.push({ regex: patternToRegex(pattern), negate });
  }
  return rules;
}

/** Whether a context-relative path (`a/b/c.txt`) is excluded by the rules. */
export function isIgnored(rules: readonly IgnoreRule[], relativePath: string): boolean {
  const segments = relativePath.split("/");
  const candidates = segments.map((_, index) => segments.slice(0, index + 1).join("/"));
  let ignored = false;
  for (const rule of rules) {
    // a rule matches the path itself or any directory above it
    if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = !rule.negate;
  }
  return ignored;
}
