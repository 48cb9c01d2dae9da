import { describe, expect, it } from "vitest";
import { isIgnored, parseDockerignore } from "../../../src-main/engine/build/dockerignore.js";

/** The paths of `paths` that `.dockerignore` text `text` excludes. */
function excluded(text: string, paths: readonly string[]): string[] {
  const rules = parseDockerignore(text);
  return paths.filter((candidate) => isIgnored(rules, candidate));
}

describe("parseDockerignore", () => {
  it("skips comments, blank lines and whitespace-only lines", () => {
    expect(parseDockerignore("")).toEqual([]);
    expect(parseDockerignore("# a comment\n\n   \n\t\n#another\n")).toEqual([]);
    expect(parseDockerignore("# comment\n*.log\n\n!keep.log\n")).toHaveLength(2);
  });

  it("drops patterns that clean to nothing", () => {
    expect(parseDockerignore("/\n.\n./\n!\n! \n")).toEqual([]);
  });

  it("marks exceptions", () => {
    const rules = parseDockerignore("*.md\n!README.md");
    expect(rules.map((rule) => rule.negate)).toEqual([false, true]);
  });
});

describe("isIgnored", () => {
  it("ignores nothing without rules", () => {
    expect(excluded("", ["a", "a/b", ".git/config", "Dockerfile"])).toEqual([]);
  });

  it("does not treat a comment as a pattern", () => {
    expect(excluded("# secret\n#*.md", ["# secret", "secret", "README.md"])).toEqual([]);
  });

  it("handles CRLF line endings and surrounding spaces", () => {
    expect(excluded("*.log\r\n  build  \r\n", ["a.log", "build", "build/x", "b.txt"])).toEqual([
      "a.log",
      "build",
      "build/x",
    ]);
  });

  it("matches `*` within one path segment only", () => {
    expect(
      excluded("*.md", ["README.md", "x.md", ".md", "docs/guide.md", "a/b/c.md", "x.mdx", "md", "xmd"]),
    ).toEqual(["README.md", "x.md", ".md"]);
    expect(excluded("docs/*.md", ["docs/a.md", "docs/sub/a.md", "a.md", "other/docs/a.md"])).toEqual([
      "docs/a.md",
    ]);
  });

  it("matches `**/` across any number of directories, including none", () => {
    expect(
      excluded("**/*.md", ["README.md", "docs/guide.md", "a/b/c/d.md", "a/b.txt", "a.md/inside.txt"]),
    ).toEqual(["README.md", "docs/guide.md", "a/b/c/d.md", "a.md/inside.txt"]);
    expect(
      excluded("**/node_modules", ["node_modules", "node_modules/x", "a/node_modules/b/c", "a/b"]),
    ).toEqual(["node_modules", "node_modules/x", "a/node_modules/b/c"]);
    expect(excluded("**", ["a", "a/b", ".hidden"])).toEqual(["a", "a/b", ".hidden"]);
  });

  it("excludes everything below a matched directory", () => {
    expect(
      excluded("dir", ["dir", "dir/a", "dir/sub/b.txt", "dir2", "dirx/y", "other/dir", "other/dir/z", "di"]),
    ).toEqual(["dir", "dir/a", "dir/sub/b.txt"]);
    expect(excluded("dir/", ["dir", "dir/a", "dir2"])).toEqual(["dir", "dir/a"]);
    expect(excluded("a/b", ["a", "a/b", "a/b/c", "a/bc", "b"])).toEqual(["a/b", "a/b/c"]);
  });

  it("lets a later exception re-include a file", () => {
    expect(excluded("*.md\n!README.md", ["README.md", "CHANGELOG.md", "docs/README.md"])).toEqual([
      "CHANGELOG.md",
    ]);
  });

  it("lets the last matching pattern win", () => {
    expect(excluded("!README.md\n*.md", ["README.md", "CHANGELOG.md"])).toEqual([
      "README.md",
      "CHANGELOG.md",
    ]);
    expect(excluded("*.md\n!README.md\nREADME.md", ["README.md"])).toEqual(["README.md"]);
    expect(excluded("*.md\n!*.md", ["README.md", "a.md"])).toEqual([]);
  });

  it("re-includes a path inside an excluded directory and excludes inside a re-included one", () => {
    expect(excluded("dir\n!dir/keep.txt", ["dir/keep.txt", "dir/other.txt", "dir"])).toEqual([
      "dir/other.txt",
      "dir",
    ]);
    expect(
      excluded("*\n!src\nsrc/*.tmp\n!Dockerfile", ["src/a.ts", "src/a.tmp", "other", "Dockerfile", "x/y"]),
    ).toEqual(["src/a.tmp", "other", "x/y"]);
  });

  it("treats `! pattern` with spaces as an exception", () => {
    expect(excluded("*.log\n! keep.log", ["keep.log", "a.log"])).toEqual(["a.log"]);
  });

  it("matches `?` as exactly one character other than '/'", () => {
    expect(excluded("?.txt", ["a.txt", "Z.txt", "ab.txt", ".txt", "a/b.txt", "/.txt"])).toEqual([
      "a.txt",
      "Z.txt",
    ]);
    expect(excluded("a?b", ["a/b", "axb"])).toEqual(["axb"]);
  });

  it("matches character classes and ranges", () => {
    expect(excluded("[a-c].txt", ["a.txt", "b.txt", "c.txt", "d.txt", "A.txt", "ab.txt"])).toEqual([
      "a.txt",
      "b.txt",
      "c.txt",
    ]);
    expect(excluded("file[0-9x]", ["file1", "file9", "filex", "filey", "file10"])).toEqual([
      "file1",
      "file9",
      "filex",
    ]);
    expect(excluded("[^a-c].txt", ["a.txt", "d.txt"])).toEqual(["d.txt"]);
  });

  it("treats an unclosed '[' literally", () => {
    expect(excluded("a[b", ["a[b", "ab", "a"])).toEqual(["a[b"]);
  });

  it("matches regular-expression characters literally", () => {
    expect(excluded("a+b(1).txt", ["a+b(1).txt", "aab1.txt", "ab(1).txt"])).toEqual(["a+b(1).txt"]);
    expect(excluded("$x^{2}|y", ["$x^{2}|y", "x", "y"])).toEqual(["$x^{2}|y"]);
    expect(excluded("a.b", ["a.b", "axb"])).toEqual(["a.b"]);
  });

  it("honours backslash escapes", () => {
    expect(excluded("\\*.txt", ["*.txt", "a.txt"])).toEqual(["*.txt"]);
    expect(excluded("what\\?", ["what?", "whatx"])).toEqual(["what?"]);
  });

  it("anchors patterns at the context root, with or without a leading '/' or './'", () => {
    const paths = ["build", "build/out.o", "src/build", "src/build/x"];
    expect(excluded("build", paths)).toEqual(["build", "build/out.o"]);
    expect(excluded("/build", paths)).toEqual(["build", "build/out.o"]);
    expect(excluded("./build", paths)).toEqual(["build", "build/out.o"]);
    expect(excluded("//build//", paths)).toEqual(["build", "build/out.o"]);
    expect(excluded("!/build", paths)).toEqual([]);
    expect(excluded("*\n!./build", paths)).toEqual(["src/build", "src/build/x"]);
  });

  it("matches `a/**/b` at any depth between a and b", () => {
    expect(
      excluded("a/**/b", ["a/b", "a/x/b", "a/x/y/b", "a/x/b/c", "a/xb", "c/a/b", "a", "a/x", "ab"]),
    ).toEqual(["a/b", "a/x/b", "a/x/y/b", "a/x/b/c"]);
    expect(excluded("a/**", ["a", "a/x", "a/x/y", "ab"])).toEqual(["a/x", "a/x/y"]);
  });

  it("cleans '.' and '..' segments like Docker's filepath.Clean", () => {
    expect(excluded("foo/../bar", ["bar", "bar/x", "foo", "foo/bar"])).toEqual(["bar", "bar/x"]);
    expect(excluded("foo/./bar", ["foo/bar", "bar"])).toEqual(["foo/bar"]);
    expect(excluded("a/b/../../c", ["c", "a", "a/b"])).toEqual(["c"]);
    // '..' above the root stays in the pattern, which then never matches a path inside the context
    expect(excluded("../x", ["x", "x/y", "a/x"])).toEqual([]);
    expect(excluded("a/../../x", ["x", "a/x"])).toEqual([]);
    expect(excluded("*\n!../x", ["x"])).toEqual(["x"]);
    // an absolute pattern cannot climb above '/': Clean('/../x') is '/x'
    expect(excluded("/../x", ["x", "x/y", "a/x"])).toEqual(["x", "x/y"]);
  });
});
