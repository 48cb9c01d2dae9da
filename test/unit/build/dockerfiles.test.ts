import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Context } from "../../../shared/schemas/context.js";
import {
  type DockerfileSelection,
  listFamily,
  parseContextHeader,
  selectDockerfiles,
} from "../../../src-main/engine/build/dockerfiles.js";

const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A temporary MAD root holding `files` (path relative to the root -> content). */
function madRoot(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "madengine-dockerfiles-"));
  roots.push(root);
  for (const [relative, content] of Object.entries(files)) {
    const full = path.join(root, relative);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

const header = (literal: string) => `# CONTEXT ${literal}\nFROM scratch\n`;

/** The MAD repository's two dummy families (spec §4.2), plus files that must not join them. */
function dummyRoot(): string {
  return madRoot({
    // written in reverse order on purpose: the selection is sorted by name, not by creation
    "docker/dummy_ctxtest.noctx.ubuntu.amd.Dockerfile": header("{'ctx_test': 'None'}"),
    "docker/dummy_ctxtest.ctx2b.ubuntu.amd.Dockerfile": header("{'ctx_test': '2'}"),
    "docker/dummy_ctxtest.ctx2a.ubuntu.amd.Dockerfile": header("{'ctx_test': '2'}"),
    "docker/dummy_ctxtest.ctx1.ubuntu.amd.Dockerfile": header("{'ctx_test': '1'}"),
    "docker/dummy.ubuntu.nvidia.Dockerfile": header("{'gpu_vendor': 'NVIDIA', 'guest_os': 'UBUNTU'}"),
    "docker/dummy.ubuntu.amd.Dockerfile": header("{'gpu_vendor': 'AMD', 'guest_os': 'UBUNTU'}"),
    "docker/dummy.ubuntu.amd.Dockerfile.dockerignore": "*.md\n",
    "docker/dummyish.ubuntu.amd.Dockerfile": header("{}"),
    "docker/xdummy.ubuntu.amd.Dockerfile": header("{}"),
  });
}

const ctx = (value: Record<string, unknown>) => value as Context;

function files(selection: DockerfileSelection): string[] {
  if (!selection.ok) throw new Error(`expected a selection, got: ${selection.error}`);
  return selection.matching.map((candidate) => candidate.file);
}

function failure(selection: DockerfileSelection): { error: string; hint: string } {
  if (selection.ok) throw new Error(`expected no selection, got ${JSON.stringify(selection.matching)}`);
  return selection;
}

describe("parseContextHeader", () => {
  it("reads the header on the first line", () => {
    expect(parseContextHeader(header("{'gpu_vendor': 'AMD', 'guest_os': 'UBUNTU'}"), "a.Dockerfile")).toEqual(
      {
        gpu_vendor: "AMD",
        guest_os: "UBUNTU",
      },
    );
  });

  it("finds the header on any of lines 1 to 5, and only there", () => {
    for (let before = 0; before <= 4; before++) {
      const text = `${"ARG X=1\n".repeat(before)}# CONTEXT {'ctx_test': '2'}\nFROM scratch\n`;
      expect(parseContextHeader(text, "a.Dockerfile"), `line ${before + 1}`).toEqual({ ctx_test: "2" });
    }
    const sixth = `${"ARG X=1\n".repeat(5)}# CONTEXT {'ctx_test': '2'}\n`;
    expect(parseContextHeader(sixth, "a.Dockerfile")).toEqual({});
  });

  it("gives {} without a header", () => {
    expect(parseContextHeader("FROM scratch\nRUN true\n", "a.Dockerfile")).toEqual({});
    expect(parseContextHeader("", "a.Dockerfile")).toEqual({});
    expect(parseContextHeader("#CONTEXT {'a': '1'}\n# context {'a': '1'}\n", "a.Dockerfile")).toEqual({});
  });

  it("accepts an empty dict, CRLF line endings and surrounding spaces", () => {
    expect(parseContextHeader("# CONTEXT {}\n", "a.Dockerfile")).toEqual({});
    expect(parseContextHeader("# CONTEXT {'a': 'x'}  \r\nFROM scratch\r\n", "a.Dockerfile")).toEqual({
      a: "x",
    });
    expect(parseContextHeader("  # CONTEXT   {'a': 'x'}", "a.Dockerfile")).toEqual({ a: "x" });
  });

  it("rejects two header lines", () => {
    const text = "# CONTEXT {'a': '1'}\n# CONTEXT {'b': '2'}\nFROM scratch\n";
    expect(() => parseContextHeader(text, "docker/two.Dockerfile")).toThrow(
      "docker/two.Dockerfile: more than one '# CONTEXT' header line",
    );
  });

  it("rejects a malformed header, naming the file, the reason and the column", () => {
    let message = "";
    try {
      parseContextHeader("# CONTEXT {'gpu_vendor': AMD}\n", "docker/bad.ubuntu.amd.Dockerfile");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("docker/bad.ubuntu.amd.Dockerfile");
    expect(message).toContain("malformed");
    expect(message).toContain("unexpected 'A' at column 16");
    expect(message).toContain("{'gpu_vendor': AMD}");
    expect(() => parseContextHeader("# CONTEXT \n", "docker/empty.Dockerfile")).toThrow(
      /docker\/empty\.Dockerfile: malformed .*unexpected end of header/,
    );
    expect(() => parseContextHeader("# CONTEXT {'a': 'b'\n", "x.Dockerfile")).toThrow(
      /x\.Dockerfile: malformed/,
    );
  });

  it("never runs code found in a header", () => {
    expect(() =>
      parseContextHeader("# CONTEXT __import__('os').system('id')\n", "docker/evil.Dockerfile"),
    ).toThrow(/docker\/evil\.Dockerfile: malformed .*unexpected '_' at column 1/);
  });

  it("rejects a header that is not a dict", () => {
    for (const literal of ["['AMD']", "'AMD'", "None", "1", "('a', 'b')", "True"]) {
      expect(() => parseContextHeader(`# CONTEXT ${literal}\n`, "docker/list.Dockerfile"), literal).toThrow(
        /docker\/list\.Dockerfile: '# CONTEXT' header must be a dict/,
      );
    }
  });
});

describe("listFamily", () => {
  it("lists `<prefix>.*` only, sorted, without .dockerignore files", async () => {
    expect(await listFamily(dummyRoot(), "docker/dummy")).toEqual([
      "docker/dummy.ubuntu.amd.Dockerfile",
      "docker/dummy.ubuntu.nvidia.Dockerfile",
    ]);
  });

  it("gives an empty list for a missing directory", async () => {
    expect(await listFamily(dummyRoot(), "nowhere/dummy")).toEqual([]);
  });
});

describe("selectDockerfiles", () => {
  it("keeps family `docker/dummy` apart from `dummy_ctxtest`, `dummyish` and `xdummy`", async () => {
    const selection = await selectDockerfiles(dummyRoot(), "docker/dummy", ctx({}));
    expect(files(selection)).toEqual([
      "docker/dummy.ubuntu.amd.Dockerfile",
      "docker/dummy.ubuntu.nvidia.Dockerfile",
    ]);
    if (!selection.ok) throw new Error("unreachable");
    expect(selection.candidates).toEqual([
      { file: "docker/dummy.ubuntu.amd.Dockerfile", header: { gpu_vendor: "AMD", guest_os: "UBUNTU" } },
      { file: "docker/dummy.ubuntu.nvidia.Dockerfile", header: { gpu_vendor: "NVIDIA", guest_os: "UBUNTU" } },
    ]);
  });

  it("keeps only amd for {gpu_vendor: AMD, guest_os: UBUNTU}", async () => {
    const selection = await selectDockerfiles(
      dummyRoot(),
      "docker/dummy",
      ctx({ gpu_vendor: "AMD", guest_os: "UBUNTU" }),
    );
    expect(files(selection)).toEqual(["docker/dummy.ubuntu.amd.Dockerfile"]);
    if (selection.ok) expect(selection.candidates).toHaveLength(2);
  });

  it("matches every OS when the context has no guest_os", async () => {
    expect(files(await selectDockerfiles(dummyRoot(), "docker/dummy", ctx({ gpu_vendor: "AMD" })))).toEqual([
      "docker/dummy.ubuntu.amd.Dockerfile",
    ]);
    expect(files(await selectDockerfiles(dummyRoot(), "docker/dummy", ctx({ guest_os: "UBUNTU" })))).toEqual([
      "docker/dummy.ubuntu.amd.Dockerfile",
      "docker/dummy.ubuntu.nvidia.Dockerfile",
    ]);
  });

  it("compares case-sensitively: {gpu_vendor: amd} matches none and lists the candidates", async () => {
    const result = failure(await selectDockerfiles(dummyRoot(), "docker/dummy", ctx({ gpu_vendor: "amd" })));
    expect(result.error).toContain("docker/dummy.*");
    expect(result.error).toContain("gpu_vendor=amd");
    expect(result.error).toContain("dummy.ubuntu.amd.Dockerfile (gpu_vendor=AMD, guest_os=UBUNTU)");
    expect(result.error).toContain("dummy.ubuntu.nvidia.Dockerfile (gpu_vendor=NVIDIA, guest_os=UBUNTU)");
    expect(result.error).not.toContain("guest_os=UBUNTU;");
    expect(result.hint).toMatch(/-c/);
  });

  it("ignores a header key the context lacks", async () => {
    const root = madRoot({
      "docker/m.ubuntu.amd.Dockerfile": header("{'gpu_vendor': 'AMD', 'extra_key': 'whatever'}"),
    });
    expect(files(await selectDockerfiles(root, "docker/m", ctx({ gpu_vendor: "AMD" })))).toEqual([
      "docker/m.ubuntu.amd.Dockerfile",
    ]);
  });

  it("treats a header key named like an Object method as absent when the context lacks it", async () => {
    const root = madRoot({
      "docker/m.a.Dockerfile": header(
        "{'constructor': 'x', 'toString': 'y', '__proto__': 'p', 'hasOwnProperty': 'z'}",
      ),
    });
    expect(files(await selectDockerfiles(root, "docker/m", ctx({ gpu_vendor: "AMD" })))).toEqual([
      "docker/m.a.Dockerfile",
    ]);
  });

  it("lets a file without a header match every context", async () => {
    const root = madRoot({
      "docker/m.plain.Dockerfile": "FROM scratch\n",
      "docker/m.nvidia.Dockerfile": header("{'gpu_vendor': 'NVIDIA'}"),
    });
    const selection = await selectDockerfiles(root, "docker/m", ctx({ gpu_vendor: "AMD" }));
    expect(files(selection)).toEqual(["docker/m.plain.Dockerfile"]);
    if (selection.ok)
      expect(selection.candidates.map((c) => c.header)).toEqual([{ gpu_vendor: "NVIDIA" }, {}]);
  });

  it("selects the ctx_test family by its extra context key (spec §4.2 table)", async () => {
    const root = dummyRoot();
    expect(files(await selectDockerfiles(root, "docker/dummy_ctxtest", ctx({ ctx_test: "2" })))).toEqual([
      "docker/dummy_ctxtest.ctx2a.ubuntu.amd.Dockerfile",
      "docker/dummy_ctxtest.ctx2b.ubuntu.amd.Dockerfile",
    ]);
    expect(files(await selectDockerfiles(root, "docker/dummy_ctxtest", ctx({ ctx_test: "None" })))).toEqual([
      "docker/dummy_ctxtest.noctx.ubuntu.amd.Dockerfile",
    ]);
    expect(files(await selectDockerfiles(root, "docker/dummy_ctxtest", ctx({ gpu_vendor: "AMD" })))).toEqual([
      "docker/dummy_ctxtest.ctx1.ubuntu.amd.Dockerfile",
      "docker/dummy_ctxtest.ctx2a.ubuntu.amd.Dockerfile",
      "docker/dummy_ctxtest.ctx2b.ubuntu.amd.Dockerfile",
      "docker/dummy_ctxtest.noctx.ubuntu.amd.Dockerfile",
    ]);
    const none = failure(await selectDockerfiles(root, "docker/dummy_ctxtest", ctx({ ctx_test: "3" })));
    expect(none.error).toContain("ctx_test=3");
    expect(none.error).toContain("dummy_ctxtest.ctx1.ubuntu.amd.Dockerfile (ctx_test=1)");
    expect(none.error).toContain("dummy_ctxtest.noctx.ubuntu.amd.Dockerfile (ctx_test=None)");
  });

  it("reports a family with no file", async () => {
    const root = dummyRoot();
    const result = failure(await selectDockerfiles(root, "docker/x", ctx({})));
    expect(result.error).toBe("no Dockerfile matches docker/x.*");
    expect(result.hint).toContain("docker/x.ubuntu.amd.Dockerfile");
    expect(failure(await selectDockerfiles(root, "missing/dir/x", ctx({}))).error).toBe(
      "no Dockerfile matches missing/dir/x.*",
    );
  });

  it("fails on a malformed header, naming the file", async () => {
    const root = madRoot({
      "docker/m.good.Dockerfile": header("{'gpu_vendor': 'AMD'}"),
      "docker/m.bad.Dockerfile": header("{'gpu_vendor': AMD}"),
    });
    const result = failure(await selectDockerfiles(root, "docker/m", ctx({ gpu_vendor: "AMD" })));
    expect(result.error).toContain("docker/m.bad.Dockerfile");
    expect(result.error).toContain("malformed");
    expect(result.hint).toContain("# CONTEXT {'gpu_vendor': 'AMD', 'guest_os': 'UBUNTU'}");
  });

  it("fails on two header lines in one file", async () => {
    const root = madRoot({ "docker/m.two.Dockerfile": "# CONTEXT {'a': '1'}\n# CONTEXT {'a': '2'}\n" });
    expect(failure(await selectDockerfiles(root, "docker/m", ctx({}))).error).toContain(
      "docker/m.two.Dockerfile: more than one",
    );
  });

  it("returns matches and candidates sorted by name", async () => {
    const root = madRoot({
      "docker/m.c.Dockerfile": header("{}"),
      "docker/m.a.Dockerfile": header("{}"),
      "docker/m.b.Dockerfile": header("{'gpu_vendor': 'NVIDIA'}"),
      "docker/m.B.Dockerfile": header("{}"),
    });
    const selection = await selectDockerfiles(root, "docker/m", ctx({ gpu_vendor: "AMD" }));
    expect(files(selection)).toEqual([
      "docker/m.B.Dockerfile",
      "docker/m.a.Dockerfile",
      "docker/m.c.Dockerfile",
    ]);
    if (selection.ok) {
      expect(selection.candidates.map((c) => c.file)).toEqual([
        "docker/m.B.Dockerfile",
        "docker/m.a.Dockerfile",
        "docker/m.b.Dockerfile",
        "docker/m.c.Dockerfile",
      ]);
    }
  });

  it("compares header values as strings", async () => {
    const root = madRoot({ "docker/m.n.Dockerfile": header("{'n': 2}") });
    expect(files(await selectDockerfiles(root, "docker/m", ctx({ n: "2" })))).toEqual([
      "docker/m.n.Dockerfile",
    ]);
    expect(failure(await selectDockerfiles(root, "docker/m", ctx({ n: "3" }))).error).toContain("n=3");
  });

  it("works with a prefix at the MAD root", async () => {
    const root = madRoot({ "top.amd.Dockerfile": header("{}"), "top_other.Dockerfile": header("{}") });
    expect(files(await selectDockerfiles(root, "top", ctx({})))).toEqual(["top.amd.Dockerfile"]);
  });
});
