import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { JobRecord } from "../../../shared/schemas/jobRecord.js";
import { JobRecordWriter, readJobRecords } from "../../../src-main/app/jobRecords.js";
import { tempTree } from "../../helpers/tempDir.js";

function record(jobsDir: string, id: string, state: "running" | "succeeded", title = "run x"): JobRecord {
  return {
    version: 1,
    summary: {
      id,
      kind: "run",
      state,
      title,
      startedAt: "2026-11-29T01:00:00.000Z",
      outputDir: path.join(jobsDir, id),
      logs: [],
    },
    items: [],
  };
}

describe("job records (job.json)", () => {
  it("writes the latest state, at most every half second, and flush waits for it", async () => {
    const jobsDir = tempTree({ "j1/.keep": "" });
    const writer = new JobRecordWriter(path.join(jobsDir, "j1", "job.json"));
    writer.update(() => record(jobsDir, "j1", "running", "first"));
    writer.update(() => record(jobsDir, "j1", "running", "second"));
    await writer.flush();
    const written = JSON.parse(readFileSync(path.join(jobsDir, "j1", "job.json"), "utf8")) as JobRecord;
    expect(written.summary.title).toBe("second");
    writer.update(() => record(jobsDir, "j1", "running", "third"));
    await writer.flush(() => record(jobsDir, "j1", "succeeded", "final"));
    const final = JSON.parse(readFileSync(path.join(jobsDir, "j1", "job.json"), "utf8")) as JobRecord;
    expect([final.summary.title, final.summary.state]).toEqual(["final", "succeeded"]);
  });

  it("reads the records oldest first; a broken or misplaced one is reported and skipped", async () => {
    const misplaced = record("/elsewhere", "20261129-030000-ccc", "running");
    const jobsDir = tempTree({
      "20261129-010000-aaa/.keep": "",
      "20261129-020000-bbb/job.json": "{ not json",
      "20261129-030000-ccc/job.json": misplaced,
      "20261129-040000-ddd/perf.csv": "no record here",
    });
    const good = record(jobsDir, "20261129-010000-aaa", "succeeded");
    await new JobRecordWriter(path.join(jobsDir, "20261129-010000-aaa", "job.json")).flush(() => good);
    const warnings: string[] = [];
    const records = await readJobRecords(jobsDir, (message) => warnings.push(message));
    expect(records.map((each) => each.record.summary.id)).toEqual(["20261129-010000-aaa"]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/20261129-020000-bbb\/job\.json: .*JSON/);
    expect(warnings[1]).toMatch(/not this folder/);
    expect(await readJobRecords(path.join(jobsDir, "missing"), () => {})).toEqual([]);
  });
});
