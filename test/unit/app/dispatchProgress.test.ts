import { describe, expect, it } from "vitest";
import type { DispatchEvent } from "../../../shared/events.js";
import { DispatchProgress } from "../../../src-main/app/dispatchProgress.js";

const planned = (node: string): DispatchEvent => ({
  type: "run:planned",
  node,
  models: [
    { model: "dummy", image: "ci-dummy" },
    { model: "napper", image: "ci-napper" },
  ],
});

describe("DispatchProgress", () => {
  it("keeps one row per node and model, keyed node/model, and counts outcomes per node", () => {
    const progress = new DispatchProgress(["node1", "node2"]);
    expect(progress.nodes.map((node) => node.state)).toEqual(["connecting", "connecting"]);
    progress.apply({ type: "node:connecting", node: "node1", address: "root@10.0.0.1:22" });
    progress.apply({ type: "node:ready", node: "node1", docker: "Docker 27.1", uploaded: 3, unchanged: 12 });
    progress.apply({
      type: "node:failed",
      node: "node2",
      error: "preflight failed: ssh: refused",
      hint: "start sshd",
    });
    progress.apply(planned("node1"));
    progress.apply({
      type: "run:start",
      node: "node1",
      model: "dummy",
      image: "ci-dummy",
      logFile: "/o/node1/d.log",
      timeoutSec: 60,
    });
    expect(progress.node("node1")).toMatchObject({ state: "running", address: "root@10.0.0.1:22" });
    progress.apply({
      type: "run:done",
      node: "node1",
      model: "dummy",
      image: "ci-dummy",
      status: "SUCCESS",
      performance: "42",
      metric: "samples_per_second",
      durationSec: 1.5,
    });
    progress.apply({
      type: "run:done",
      node: "node1",
      model: "napper",
      image: "ci-napper",
      status: "FAILURE",
      performance: "",
      metric: "",
      durationSec: 2,
      reason: "timeout after 1 s",
    });
    progress.nodeFinished("node1");
    expect(progress.items.map((item) => [item.key, item.node, item.label, item.state])).toEqual([
      ["node1/dummy", "node1", "dummy", "succeeded"],
      ["node1/napper", "node1", "napper", "failed"],
    ]);
    expect(progress.snapshotNodes()).toEqual([
      {
        name: "node1",
        address: "root@10.0.0.1:22",
        state: "done",
        detail: "Docker 27.1; MAD files: 3 uploaded, 12 unchanged",
        succeeded: 1,
        failed: 1,
      },
      {
        name: "node2",
        state: "failed",
        detail: "preflight failed: ssh: refused (start sshd)",
        succeeded: 0,
        failed: 0,
      },
    ]);
    expect(progress.logs).toEqual([{ source: "node1/dummy", file: "/o/node1/d.log" }]);
  });

  it("puts the rows of a build first, shares one list of log sources, and settles nodes still working", () => {
    const progress = new DispatchProgress(["a", "b"]);
    progress.build.applyBuild({
      type: "build:planned",
      images: [{ image: "ci-dummy", model: "dummy", dockerfile: "docker/dummy.Dockerfile" }],
      failures: [],
    });
    progress.addLog("job", "/o/job.log");
    progress.apply(planned("a"));
    progress.apply(planned("b"));
    progress.apply({
      type: "run:start",
      node: "b",
      model: "napper",
      image: "ci-napper",
      logFile: "/o/b/n.log",
      timeoutSec: undefined,
    });
    expect(progress.items.map((item) => item.key)).toEqual([
      "ci-dummy",
      "a/dummy",
      "a/napper",
      "b/dummy",
      "b/napper",
    ]);
    expect(progress.logs.map((log) => log.source)).toEqual(["job", "b/napper"]);
    progress.apply({ type: "node:lost", node: "a", reason: "connection reset" });
    progress.settleNodes("cancelled", "cancelled by the user");
    expect(progress.nodes.map((node) => [node.name, node.state])).toEqual([
      ["a", "lost"],
      ["b", "cancelled"],
    ]);
    expect(progress.skipQueued("cancelled by the user")).toBe(true);
    expect(progress.items.filter((item) => item.state === "skipped").map((item) => item.key)).toEqual([
      "ci-dummy",
      "a/dummy",
      "a/napper",
      "b/dummy",
    ]);
  });

  it("ignores events of nodes that are not in the run and restores rows shown before a restart", () => {
    const progress = new DispatchProgress(["a"]);
    expect(progress.apply({ type: "node:lost", node: "zz", reason: "?" })).toBe(false);
    progress.restoreRows([
      { key: "ci-dummy", label: "dummy (dummy.Dockerfile)", state: "built" },
      { key: "a/dummy", label: "dummy", node: "a", state: "succeeded", detail: "42 samples_per_second" },
    ]);
    expect(progress.items.map((item) => [item.key, item.state])).toEqual([
      ["ci-dummy", "built"],
      ["a/dummy", "succeeded"],
    ]);
  });
});
