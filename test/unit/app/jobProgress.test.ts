import { describe, expect, it } from "vitest";
import { JobProgress } from "../../../src-main/app/jobProgress.js";

describe("JobProgress", () => {
  it("folds build and push events into one row per image, and tracks images in flight", async () => {
    const progress = new JobProgress(true);
    progress.applyBuild({
      type: "build:planned",
      images: [
        { image: "ci-a_dummy.ubuntu.none", model: "a", dockerfile: "docker/dummy.ubuntu.none.Dockerfile" },
        { image: "ci-b_dummy.ubuntu.none", model: "b", dockerfile: "docker/dummy.ubuntu.none.Dockerfile" },
      ],
      failures: [{ model: "c", error: "no Dockerfile matches" }],
    });
    progress.applyBuild({ type: "build:failed", model: "c", error: "no Dockerfile matches" });
    expect(progress.items.map((item) => [item.key, item.state])).toEqual([
      ["ci-a_dummy.ubuntu.none", "queued"],
      ["ci-b_dummy.ubuntu.none", "queued"],
      ["c", "failed"],
    ]);
    progress.applyBuild({
      type: "build:start",
      image: "ci-a_dummy.ubuntu.none",
      model: "a",
      dockerfile: "docker/dummy.ubuntu.none.Dockerfile",
      logFile: "/out/a_dummy.ubuntu.none.build.live.log",
    });
    progress.applyBuild({
      type: "build:step",
      image: "ci-a_dummy.ubuntu.none",
      step: 2,
      totalSteps: 3,
      instruction: "RUN x",
    });
    expect(progress.item("ci-a_dummy.ubuntu.none")).toMatchObject({
      state: "building",
      detail: "step 2/3: RUN x",
      label: "a (dummy.ubuntu.none.Dockerfile)",
    });
    expect(progress.logs).toEqual([
      { source: "ci-a_dummy.ubuntu.none", file: "/out/a_dummy.ubuntu.none.build.live.log" },
    ]);
    expect(progress.imagesInFlight).toBe(1);
    let idle = false;
    const waiting = progress.whenNoImageInFlight().then(() => {
      idle = true;
    });
    progress.applyBuild({
      type: "build:done",
      image: "ci-a_dummy.ubuntu.none",
      durationSec: 1.23456,
      imageId: "sha256:1",
    });
    await Promise.resolve();
    expect(idle).toBe(false); // a push follows
    progress.applyBuild({ type: "push:start", image: "ci-a_dummy.ubuntu.none", registryImage: "r/a" });
    progress.applyBuild({
      type: "push:done",
      image: "ci-a_dummy.ubuntu.none",
      registryImage: "r/a",
      digest: "sha256:d",
    });
    await waiting;
    expect(progress.item("ci-a_dummy.ubuntu.none")).toMatchObject({
      state: "pushed",
      detail: "r/a@sha256:d",
      durationSec: 1.235,
    });
    expect(progress.skipQueued("cancelled")).toBe(true);
    expect(progress.item("ci-b_dummy.ubuntu.none")).toMatchObject({ state: "skipped", detail: "cancelled" });
  });

  it("folds run events into one row per model, keyed apart from build rows and the job's own log", () => {
    const progress = new JobProgress(false);
    progress.applyRun({
      type: "run:planned",
      models: [
        { model: "job", image: "ci-job_x" },
        { model: "m", image: "ci-m_x" },
        { model: "m", image: "ci-m_y" },
      ],
    });
    expect(progress.items.map((item) => item.key)).toEqual(["job #2", "m (ci-m_x)", "m (ci-m_y)"]);
    progress.applyRun({
      type: "run:start",
      model: "m",
      image: "ci-m_y",
      logFile: "/out/m.run.live.log",
      timeoutSec: 60,
    });
    expect(progress.item("m (ci-m_y)")).toMatchObject({ state: "running", detail: "timeout 60 s" });
    progress.applyRun({
      type: "run:done",
      model: "m",
      image: "ci-m_y",
      status: "SUCCESS",
      performance: "1234",
      metric: "samples_per_second",
      durationSec: 2.5,
    });
    progress.applyRun({
      type: "run:done",
      model: "job",
      image: "ci-job_x",
      status: "FAILURE",
      performance: "",
      metric: "",
      durationSec: 0,
      reason: "exit code 3",
    });
    expect(progress.item("m (ci-m_y)")).toMatchObject({
      state: "succeeded",
      detail: "1234 samples_per_second",
      durationSec: 2.5,
    });
    expect(progress.item("job #2")).toMatchObject({ state: "failed", detail: "exit code 3" });
    expect(progress.runKey("m", "ci-m_y")).toBe("m (ci-m_y)");
    expect(progress.logs).toEqual([{ source: "m (ci-m_y)", file: "/out/m.run.live.log" }]);
  });
});
