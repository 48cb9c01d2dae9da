import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PERF_CSV_COLUMNS, PERF_CSV_HEADER, type PerfRow } from "../../../../shared/schemas/perf.js";
import { parseCsv } from "../../../../src-main/engine/run/results/csv.js";
import {
  appendPerfRows,
  describeHeaderDifference,
  readPerfCsv,
  writePerfEntryFiles,
} from "../../../../src-main/engine/run/results/perfCsv.js";
import { rejection } from "../../../helpers/errors.js";

const fsCalls = vi.hoisted(() => ({ appendFile: 0 }));
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  const appendFile: typeof actual.appendFile = (...args) => {
    fsCalls.appendFile++;
    return actual.appendFile(...args);
  };
  return { ...actual, appendFile, default: { ...actual, appendFile } };
});

const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/perf/${name}`, import.meta.url));

function row(overrides: Partial<PerfRow> = {}): PerfRow {
  const base = Object.fromEntries(PERF_CSV_COLUMNS.map((column) => [column, ""])) as PerfRow;
  return {
    ...base,
    model: "dummy",
    n_gpus: "1",
    tags: "dummies,dummy_group_1",
    docker_file: "docker/dummy.ubuntu.amd.Dockerfile",
    docker_image: "ci-dummy_dummy.ubuntu.amd",
    machine_name: "node01",
    gpu_architecture: "gfx942",
    performance: "21355",
    metric: "samples_per_second",
    status: "SUCCESS",
    build_duration: "41.7",
    test_duration: "3.2",
    build_number: "0",
    ...overrides,
  };
}

const DUMMY_LINE =
  'dummy,1,,,,"dummies,dummy_group_1",docker/dummy.ubuntu.amd.Dockerfile,,,ci-dummy_dummy.ubuntu.amd,,node01,gfx942,21355,samples_per_second,,SUCCESS,41.7,3.2,,,,,0,';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "madengine-perfcsv-"));
  fsCalls.appendFile = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("appendPerfRows", () => {
  it("creates a missing file with the exact 25-column header", async () => {
    const file = path.join(dir, "perf.csv");
    await appendPerfRows(file, [row()]);
    const text = await readFile(file, "utf8");
    expect(text).toBe(`${PERF_CSV_HEADER}\n${DUMMY_LINE}\n`);
    expect(text.split("\n")[0]).toBe(
      "model,n_gpus,training_precision,pipeline,args,tags,docker_file,base_docker,docker_sha,docker_image,git_commit,machine_name,gpu_architecture,performance,metric,relative_change,status,build_duration,test_duration,dataname,data_provider_type,data_size,data_download_duration,build_number,additional_docker_run_options",
    );
  });

  it("creates the header even with no rows, and then leaves a valid file alone", async () => {
    const file = path.join(dir, "perf.csv");
    await appendPerfRows(file, []);
    expect(await readFile(file, "utf8")).toBe(`${PERF_CSV_HEADER}\n`);
    await appendPerfRows(file, []);
    expect(await readFile(file, "utf8")).toBe(`${PERF_CSV_HEADER}\n`);
  });

  it("writes the header into an empty existing file", async () => {
    const file = path.join(dir, "perf.csv");
    await writeFile(file, "");
    await appendPerfRows(file, [row()]);
    expect(await readFile(file, "utf8")).toBe(`${PERF_CSV_HEADER}\n${DUMMY_LINE}\n`);
  });

  it("appends to an existing file without touching what is there", async () => {
    const file = path.join(dir, "perf.csv");
    const before = `${PERF_CSV_HEADER}\nold,1,,,,,,,,,,,,1,x,,SUCCESS,,,,,,,0,\n`;
    await writeFile(file, before);
    await appendPerfRows(file, [row(), row({ model: "dummy_multi_1", performance: "12345" })]);
    const text = await readFile(file, "utf8");
    expect(text.startsWith(before)).toBe(true);
    expect(text.slice(before.length).split("\n")).toEqual([
      DUMMY_LINE,
      DUMMY_LINE.replace("dummy,", "dummy_multi_1,").replace("21355", "12345"),
      "",
    ]);
  });

  it("writes all rows in one appendFile call", async () => {
    const file = path.join(dir, "perf.csv");
    await writeFile(file, `${PERF_CSV_HEADER}\n`);
    await appendPerfRows(file, [row(), row(), row()]);
    expect(fsCalls.appendFile).toBe(1);
  });

  it("adds the missing final line break of an existing file first", async () => {
    const file = path.join(dir, "perf.csv");
    await writeFile(file, `${PERF_CSV_HEADER}\nold,1,,,,,,,,,,,,1,x,,SUCCESS,,,,,,,0,`);
    await appendPerfRows(file, [row()]);
    const lines = (await readFile(file, "utf8")).split("\n");
    expect(lines).toEqual([PERF_CSV_HEADER, "old,1,,,,,,,,,,,,1,x,,SUCCESS,,,,,,,0,", DUMMY_LINE, ""]);
  });

  it("accepts a header without line break, with a BOM, or with CRLF", async () => {
    for (const start of [PERF_CSV_HEADER, `\uFEFF${PERF_CSV_HEADER}\n`, `${PERF_CSV_HEADER}\r\n`]) {
      const file = path.join(dir, `perf-${start.length}.csv`);
      await writeFile(file, start);
      await appendPerfRows(file, [row()]);
      const text = await readFile(file, "utf8");
      const prefix = start.endsWith("\n") ? start : `${start}\n`;
      expect(text).toBe(`${prefix}${DUMMY_LINE}\n`);
    }
  });

  it("quotes cells with commas, quotes and newlines, and reads them back", async () => {
    const file = path.join(dir, "perf.csv");
    const odd = row({
      args: '--name "x y" --list a,b',
      docker_sha: "error: line one\n\nline two",
      additional_docker_run_options: "--shm-size 8G\r\n",
      status: "FAILURE",
      performance: "",
      metric: "",
    });
    await appendPerfRows(file, [odd, row({ model: "second" })]);
    const { columns, rows } = await readPerfCsv(file);
    expect(columns).toEqual([...PERF_CSV_COLUMNS]);
    expect(rows).toEqual([odd, row({ model: "second" })]);
  });

  it("refuses a file with another header, saying how it differs, and leaves it unchanged", async () => {
    const file = path.join(dir, "results.csv");
    const original = await readFile(fixture("madengine-2026-06-perf.csv"));
    await writeFile(file, original);
    const error = await rejection(appendPerfRows(file, [row()]));
    expect(error.code).toBe("INVALID_FILE");
    expect(error.exitCode).toBe(1);
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toContain('column 3 is "nnodes", expected "training_precision"');
    expect(error.message).toContain("the file has 29 columns, expected 25");
    expect(error.hint).toMatch(/another --output path/);
    expect(error.hint).toMatch(/move .*results\.csv aside/);
    expect(await readFile(file)).toEqual(original);
  });

  it("refuses any header that is not exactly the contract's", async () => {
    const cases: [string, RegExp][] = [
      [PERF_CSV_COLUMNS.join(", "), /padded with spaces/],
      [
        PERF_CSV_COLUMNS.slice(0, 24).join(","),
        /column 25 "additional_docker_run_options" is missing; the file has 24 columns/,
      ],
      [
        `${PERF_CSV_HEADER},extra`,
        /column 26 "extra" is not in the expected header; the file has 26 columns/,
      ],
      [PERF_CSV_COLUMNS.map((c) => `"${c}"`).join(","), /match but the line is written differently/],
      ["a,b\nmodel", /column 1 is "a", expected "model"; the file has 2 columns/],
      ["\n", /column 1 is "", expected "model"; the file has 1 column,/],
      [PERF_CSV_HEADER.toUpperCase(), /column 1 is "MODEL"/],
    ];
    for (const [content, expected] of cases) {
      const file = path.join(dir, "bad.csv");
      await writeFile(file, content);
      const error = await rejection(appendPerfRows(file, [row()]));
      expect(error.message, content).toMatch(expected);
      expect(await readFile(file, "utf8")).toBe(content);
    }
  });

  it("validates rows before writing anything", async () => {
    const file = path.join(dir, "perf.csv");
    const bad = { ...row(), status: "PASSED" } as unknown as PerfRow;
    const error = await rejection(appendPerfRows(file, [row(), bad]));
    expect(error.code).toBe("INTERNAL");
    expect(error.message).toMatch(/\[1\]\.status/);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    const unnamed = await rejection(appendPerfRows(file, [row({ model: "" })]));
    expect(unnamed.message).toMatch(/\[0\]\.model/);
    const extraKey = await rejection(appendPerfRows(file, [{ ...row(), nnodes: "1" } as PerfRow]));
    expect(extraKey.message).toMatch(/nnodes/);
  });

  it("names the file when it is a directory or cannot be created", async () => {
    const sub = path.join(dir, "sub");
    await mkdir(sub);
    const isDir = await rejection(appendPerfRows(sub, [row()]));
    expect(isDir.code).toBe("INVALID_FILE");
    expect(isDir.message).toMatch(/is a directory/);
    const noDir = await rejection(appendPerfRows(path.join(dir, "missing", "perf.csv"), [row()]));
    expect(noDir.message).toMatch(/missing\/perf\.csv: cannot write/);
  });

  it("serializes concurrent appends: one header, every row once", async () => {
    const file = path.join(dir, "perf.csv");
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        appendPerfRows(file, [row({ model: `m${i}` }), row({ model: `n${i}` })]),
      ),
    );
    const { rows } = await readPerfCsv(file);
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((r) => r.model)).size).toBe(50);
    const text = await readFile(file, "utf8");
    expect(text.split(PERF_CSV_HEADER)).toHaveLength(2);
  });

  it("a failed append does not block later ones", async () => {
    const file = path.join(dir, "perf.csv");
    await writeFile(file, "wrong,header\n");
    const results = await Promise.allSettled([appendPerfRows(file, [row()]), appendPerfRows(file, [row()])]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await writeFile(file, "");
    await appendPerfRows(file, [row()]);
    expect((await readPerfCsv(file)).rows).toHaveLength(1);
  });
});

describe("describeHeaderDifference", () => {
  it("names the first differing column and the counts", () => {
    expect(describeHeaderDifference("model,n_gpus,precision")).toBe(
      'column 3 is "precision", expected "training_precision"; the file has 3 columns, expected 25',
    );
  });
});

describe("readPerfCsv", () => {
  it("reads the 25-column file of madengine 2025-07, with its multi-line quoted docker_sha", async () => {
    const { columns, rows } = await readPerfCsv(fixture("madengine-2025-07-perf.csv"));
    expect(columns).toEqual([...PERF_CSV_COLUMNS]);
    expect(rows).toHaveLength(1);
    const first = rows[0]!;
    expect(first.model).toBe("dummy");
    expect(first.tags).toBe("dummies,dummy_group_1");
    expect(first.docker_sha).toBe(
      "docker: 'docker manifest inspect' requires at least 1 and at most 2 arguments\n\nUsage:  docker manifest inspect [OPTIONS] [MANIFEST_LIST] MANIFEST\n\nRun 'docker manifest inspect --help' for more information",
    );
    expect(first.docker_image).toBe("ci-dummy_dummy.ubuntu.amd");
    expect(first.performance).toBe("1112");
    expect(first.metric).toBe("samples_per_second");
    expect(first.status).toBe("SUCCESS");
    expect(first.build_number).toBe("0");
    expect(first.additional_docker_run_options).toBe("");
    expect(Object.keys(first)).toEqual([...PERF_CSV_COLUMNS]);
  });

  it("reads the 29-column file of a newer madengine by column name", async () => {
    const { columns, rows } = await readPerfCsv(fixture("madengine-2026-06-perf.csv"));
    expect(columns).toHaveLength(29);
    expect(columns).toEqual(
      expect.arrayContaining([...PERF_CSV_COLUMNS, "nnodes", "gpus_per_node", "deployment_type", "launcher"]),
    );
    const first = rows[0]!;
    expect(first).toMatchObject({
      model: "dummy",
      n_gpus: "1",
      nnodes: "1",
      gpus_per_node: "1",
      tags: "dummies,dummy_group_1",
      docker_sha: "invalid reference format",
      deployment_type: "local",
      launcher: "docker",
      gpu_architecture: "gfx942",
      performance: "1243",
      metric: "samples_per_second",
      status: "SUCCESS",
    });
  });

  it("strips header whitespace (legacy ', ' separator) and skips blank lines", async () => {
    const file = path.join(dir, "legacy.csv");
    await writeFile(file, "\uFEFFmodel, performance, metric\r\n\r\na,1,fps\r\nb,2\r\n");
    expect(await readPerfCsv(file)).toEqual({
      columns: ["model", "performance", "metric"],
      rows: [
        { model: "a", performance: "1", metric: "fps" },
        { model: "b", performance: "2", metric: "" },
      ],
    });
  });

  it("reads an empty file as no columns and no rows", async () => {
    const file = path.join(dir, "empty.csv");
    await writeFile(file, "");
    expect(await readPerfCsv(file)).toEqual({ columns: [], rows: [] });
  });

  it("names the file and line of a row with too many cells, or of an unterminated quote", async () => {
    const file = path.join(dir, "bad.csv");
    await writeFile(file, "model,performance\na,1\nb,2,3\n");
    const wide = await rejection(readPerfCsv(file));
    expect(wide.message).toBe(`${file} line 3: 3 cells, but the header has 2 columns`);
    await writeFile(file, 'model,performance\na,"1\n');
    const quote = await rejection(readPerfCsv(file));
    expect(quote.message).toMatch(/bad\.csv: CSV line 2: unterminated quoted field/);
  });

  it("reports a missing file as FILE_NOT_FOUND", async () => {
    const error = await rejection(readPerfCsv(path.join(dir, "nope.csv")));
    expect(error.code).toBe("FILE_NOT_FOUND");
  });
});

describe("writePerfEntryFiles", () => {
  it("writes perf_entry.json (the last row, keys in column order) and perf_entry.csv (these rows)", async () => {
    const rows = [row({ model: "dummy_multi_1" }), row({ model: "dummy_multi_2", tags: 'a,"b"' })];
    await writePerfEntryFiles(dir, rows);
    const json = JSON.parse(await readFile(path.join(dir, "perf_entry.json"), "utf8"));
    expect(Object.keys(json)).toEqual([...PERF_CSV_COLUMNS]);
    expect(json).toEqual(rows[1]);
    const csv = await readFile(path.join(dir, "perf_entry.csv"), "utf8");
    expect(csv.startsWith(`${PERF_CSV_HEADER}\n`)).toBe(true);
    expect(parseCsv(csv)).toEqual([
      [...PERF_CSV_COLUMNS],
      ...rows.map((r) => PERF_CSV_COLUMNS.map((column) => r[column])),
    ]);
    expect((await readdir(dir)).sort()).toEqual(["perf_entry.csv", "perf_entry.json"]);
  });

  it("replaces earlier entry files", async () => {
    await writePerfEntryFiles(dir, [row({ model: "a" }), row({ model: "b" })]);
    await writePerfEntryFiles(dir, [row({ model: "c" })]);
    const json = JSON.parse(await readFile(path.join(dir, "perf_entry.json"), "utf8"));
    expect(json.model).toBe("c");
    expect((await readPerfCsv(path.join(dir, "perf_entry.csv"))).rows.map((r) => r.model)).toEqual(["c"]);
  });

  it("keys the JSON in column order whatever the input's key order", async () => {
    const shuffled = Object.fromEntries(Object.entries(row()).reverse()) as PerfRow;
    await writePerfEntryFiles(dir, [shuffled]);
    const text = await readFile(path.join(dir, "perf_entry.json"), "utf8");
    expect(Object.keys(JSON.parse(text))).toEqual([...PERF_CSV_COLUMNS]);
  });

  it("refuses no rows or invalid rows, and names an unwritable directory", async () => {
    expect((await rejection(writePerfEntryFiles(dir, []))).code).toBe("INTERNAL");
    const bad = { ...row(), status: "OK" } as unknown as PerfRow;
    expect((await rejection(writePerfEntryFiles(dir, [bad]))).message).toMatch(/\[0\]\.status/);
    expect(await readdir(dir)).toEqual([]);
    const missing = await rejection(writePerfEntryFiles(path.join(dir, "nope"), [row()]));
    expect(missing.code).toBe("INVALID_FILE");
    expect(missing.message).toMatch(/perf_entry\.json: cannot write/);
  });
});
