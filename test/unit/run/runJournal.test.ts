import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RunJournal } from "../../../src-main/engine/run/runJournal.js";
import { tempTree } from "../../helpers/tempDir.js";

function onDisk(file: string): { entries: { target: string; image: string; state: string }[] } {
  return JSON.parse(readFileSync(file, "utf8"));
}

describe("RunJournal", () => {
  it("has every transition on disk once its promise resolves, with many targets recording at once", async () => {
    const outputDir = tempTree();
    const file = path.join(outputDir, ".madengine", "runs", "r.json");
    const journal = await RunJournal.create(file, "r", {
      manifestFile: "m.json",
      madRoot: "/mad",
      perfCsv: "perf.csv",
      outputDir,
    });
    const targets = Array.from({ length: 12 }, (_, i) => `node${i + 1}`);
    await Promise.all(
      targets.map(async (target) => {
        await journal.planned(target, [
          { image: "a", model: "ma" },
          { image: "b", model: "mb" },
        ]);
        expect(onDisk(file).entries.filter((entry) => entry.target === target)).toHaveLength(2);
        await journal.started(target, "a", "ma", { name: `c.${target}`, id: `id-${target}`, startedAt: "x" });
        expect(onDisk(file).entries.find((e) => e.target === target && e.image === "a")?.state).toBe(
          "running",
        );
        await journal.done(target, "a", "ma");
        expect(onDisk(file).entries.find((e) => e.target === target && e.image === "a")?.state).toBe("done");
      }),
    );
    const final = onDisk(file).entries;
    expect(final).toHaveLength(24);
    expect(final.filter((entry) => entry.state === "done")).toHaveLength(12);
    expect((await RunJournal.open(outputDir, "r")).entries()).toEqual(journal.entries());
  });
});
