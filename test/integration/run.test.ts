import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { beforeAll, describe, expect, it } from "vitest";
import { PERF_CSV_HEADER } from "../../shared/schemas/perf.js";
import { executionSummarySchema, workflowSummarySchema } from "../../shared/schemas/summaries.js";
import { readPerfRows, runCli, zooWorkspaces } from "../helpers/cli.js";
import { repoPath } from "../helpers/tempDir.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

const UBUNTU = '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}';

let testbed: Testbed;
let docker: Docker;
const workspace = zooWorkspaces();

beforeAll(() => {
  testbed = loadTestbed();
  docker = new Docker({ socketPath: testbed.dockerSocket });
});

const cli = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { cwd, env: { DOCKER_HOST: testbed.dockerHost, ...env } });

function addModels(zoo: string, models: object[], scripts: Record<string, string> = {}): void {
  const file = path.join(zoo, "models.json");
  writeFileSync(file, JSON.stringify([...JSON.parse(readFileSync(file, "utf8")), ...models], null, 2));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(path.join(zoo, "scripts", "dummy", name), body, { mode: 0o755 });
  }
}

const model = (name: string, script: string, extra: object = {}) => ({
  name,
  dockerfile: "docker/dummy",
  scripts: `scripts/dummy/${script}`,
  n_gpus: "1",
  tags: ["extra"],
  args: "",
  ...extra,
});

describe("madengine-cli run on the real daemon", () => {
  it("runs a manifest: rows per model, multiple results, failure, timeout, JUnit, summary", async () => {
    const { zoo, cwd } = workspace();
    const built = await cli(
      ["build", "--mad-root", zoo, "--tags", "dummies", "failing", "sleepy", "-c", UBUNTU],
      cwd,
    );
    expect(built.code).toBe(0);
    const result = await cli(
      [
        "run",
        "--mad-root",
        zoo,
        "--manifest-file",
        "build_manifest.json",
        "--junit-xml",
        "test_results.xml",
        "-s",
        "summary.json",
      ],
      cwd,
    );
    expect(result.code).toBe(3);

    const csv = readFileSync(path.join(cwd, "perf.csv"), "utf8");
    expect(csv.split("\n")[0]).toBe(PERF_CSV_HEADER);
    const rows = readPerfRows(cwd);
    const byModel = Object.fromEntries(rows.map((row) => [row.model, row]));
    expect(byModel.dummy!.status).toBe("SUCCESS");
    expect(byModel.dummy!.metric).toBe("samples_per_second");
    expect(Number(byModel.dummy!.performance)).toBeGreaterThan(0);
    expect(byModel.dummy!.docker_image).toBe("ci-dummy_dummy.ubuntu.none");
    expect(["dummy_multi_1", "dummy_multi_2", "dummy_multi_3"].map((name) => byModel[name]?.status)).toEqual([
      "SUCCESS",
      "SUCCESS",
      "SUCCESS",
    ]);
    expect(byModel.dummy_multi_2!.metric).toBe("samples_per_sec");
    expect(byModel.dummy_fail!.status).toBe("FAILURE");
    expect(byModel.dummy_sleep!.status).toBe("FAILURE");
    expect(Number(byModel.dummy_sleep!.test_duration)).toBeLessThan(5);
    expect(Number(byModel.dummy_sleep!.test_duration)).toBeGreaterThanOrEqual(2.9);
    expect(byModel["family/model_a"]!.status).toBe("SUCCESS");
    expect(byModel["dynamic/gen_large"]!.performance).toBe("300");

    const summary = executionSummarySchema.parse(
      JSON.parse(readFileSync(path.join(cwd, "summary.json"), "utf8")),
    );
    const failures = Object.fromEntries(summary.failed_runs.map((run) => [run.model, run.error]));
    expect(failures).toEqual({ dummy_fail: "exit code 3", dummy_sleep: "timeout after 3 s" });
    expect(summary.successful_runs).toHaveLength(7);
    expect(result.stdout).toContain("timeout after 3 s");

    const junit = spawnSync(
      "python3",
      [
        "-c",
        "import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); s=d.getElementsByTagName('testsuite')[0]; print(s.getAttribute('tests'), s.getAttribute('failures'), len(d.getElementsByTagName('testcase')))",
        path.join(cwd, "test_results.xml"),
      ],
      { encoding: "utf8" },
    );
    expect(junit.stdout.trim()).toBe("9 2 9");

    const log = readFileSync(path.join(cwd, "dummy_fail_dummy.ubuntu.none.run.live.log"), "utf8");
    expect(log).toContain("intentional failure");
    expect(existsSync(path.join(zoo, "run_directory"))).toBe(false);
    const leftovers = await docker.listContainers({ all: true, filters: { label: ["org.madengine.model"] } });
    expect(leftovers.filter((c) => c.Names.some((n) => n.includes("ci-dummy")))).toEqual([]);
  });

  it("builds and runs in one go with tag arguments, and writes the workflow summary", async () => {
    const { zoo, cwd } = workspace();
    const result = await cli(
      [
        "run",
        "--mad-root",
        zoo,
        "--tags",
        "dummy_args:batch-size=32:fp16",
        "variant",
        "-c",
        UBUNTU,
        "-s",
        "workflow.json",
        "--live-output",
      ],
      cwd,
      { MADENGINE_RESULTS_DB: path.join(cwd, "history.db") },
    );
    expect(result.code).toBe(0);
    const rows = Object.fromEntries(readPerfRows(cwd).map((row) => [row.model, row]));
    expect(rows.dummy_args!.args).toBe(" --batch-size 32 --fp16");
    expect(rows.dummy_args!.performance).toBe("3");
    expect(rows.variant!.metric).toBe("variant_ubuntu");
    expect(result.stdout).toContain("[dummy_args] arg: --batch-size");
    const workflow = workflowSummarySchema.parse(
      JSON.parse(readFileSync(path.join(cwd, "workflow.json"), "utf8")),
    );
    expect(workflow.overall_success).toBe(true);
    expect(workflow.build_phase.successful_builds).toHaveLength(2);
    expect(workflow.run_phase.successful_runs).toHaveLength(2);
    // the run landed in the results history too, with the same rows as perf.csv
    const history = await cli(
      ["results", "export", "--db", path.join(cwd, "history.db"), "--format", "csv"],
      cwd,
    );
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toBe(readFileSync(path.join(cwd, "perf.csv"), "utf8"));
    const runs = JSON.parse(
      (await cli(["results", "list", "--db", path.join(cwd, "history.db"), "--json"], cwd)).stdout,
    );
    expect(runs).toMatchObject([{ status: "success", kind: "run" }]);
  });

  it("pulls by the recorded digest when the image is gone locally", async () => {
    const { zoo, cwd } = workspace();
    expect(
      (
        await cli(
          [
            "build",
            "--mad-root",
            zoo,
            "--tags",
            "family/model_b",
            "-c",
            UBUNTU,
            "--registry",
            testbed.registry,
            "--clean-docker-cache",
          ],
          cwd,
        )
      ).code,
    ).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(cwd, "build_manifest.json"), "utf8"));
    const info = manifest.built_images["ci-family_model_b_dummy.ubuntu.none"];
    for (const name of [
      info.docker_image,
      info.registry_image,
      `${info.registry_image}@${info.registry_digest}`,
    ]) {
      await docker
        .getImage(name)
        .remove({ force: true })
        .catch(() => {});
    }
    const result = await cli(["run", "--mad-root", zoo, "--manifest-file", "build_manifest.json"], cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `${testbed.registry}/ci-family_model_b_dummy.ubuntu.none@${info.registry_digest} (registry (by digest))`,
    );
    expect(readPerfRows(cwd)[0]!.status).toBe("SUCCESS");
  });

  it("--keep-alive leaves the container running and says how to reach it", async () => {
    const { zoo, cwd } = workspace();
    const result = await cli(
      ["run", "--mad-root", zoo, "--tags", "family/model_a", "-c", UBUNTU, "--keep-alive"],
      cwd,
    );
    expect(result.code).toBe(0);
    const name = "container_ci-family_model_a_dummy.ubuntu.none";
    expect(result.stdout).toContain(`docker exec -it ${name} sh`);
    const info = await docker.getContainer(name).inspect();
    expect(info.State.Running).toBe(true);
    expect(existsSync(path.join(zoo, "run_directory", "run_a.sh"))).toBe(true);
    await docker.getContainer(name).remove({ force: true });
  });

  describe("bad input", () => {
    it("a missing, non-JSON or wrong-version manifest is a clear error", async () => {
      const { zoo, cwd } = workspace();
      const missing = await cli(["run", "--mad-root", zoo, "--manifest-file", "nope.json"], cwd);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("manifest nope.json not found");
      writeFileSync(path.join(cwd, "broken.json"), '{"built_images": {');
      const broken = await cli(["run", "--mad-root", zoo, "--manifest-file", "broken.json"], cwd);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/broken\.json: not valid JSON at line 1/);
      writeFileSync(
        path.join(cwd, "future.json"),
        JSON.stringify({ schema_version: 9, built_images: {}, built_models: {}, context: {} }),
      );
      const future = await cli(["run", "--mad-root", zoo, "--manifest-file", "future.json"], cwd);
      expect(future.code).toBe(1);
      expect(future.stderr).toContain("schema_version 9 is not supported");
      const badTimeout = await cli(["run", "--mad-root", zoo, "--tags", "dummy", "--timeout", "-5"], cwd);
      expect(badTimeout.code).toBe(4);
    });

    it("an image neither local nor in a registry, a missing performance line, a broken results CSV, huge and binary output", async () => {
      const { zoo, cwd } = workspace();
      addModels(
        zoo,
        [
          model("noperf", "run_noperf.sh"),
          model("badcsv", "run_badcsv.sh", { multiple_results: "perf_badcsv.csv" }),
          model("noisy", "run_noisy.sh"),
          model("noscript", "missing.sh"),
        ],
        {
          "run_noperf.sh": "#!/bin/sh\necho finished without a result\n",
          "run_badcsv.sh":
            "#!/bin/sh\nprintf 'model,performance,metric\\n1,,samples\\n2,5,samples\\n' > ../perf_badcsv.csv\n",
          "run_noisy.sh":
            "#!/bin/sh\nhead -c 10485760 /dev/zero | tr '\\0' x\necho\nhead -c 65536 /dev/urandom\necho\necho 'performance: 4.2e3 samples/sec'\n",
        },
      );
      expect(
        (await cli(["build", "--mad-root", zoo, "--tags", "extra", "dummy", "-c", UBUNTU], cwd)).code,
      ).toBe(0);
      const manifestFile = path.join(cwd, "build_manifest.json");
      const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
      manifest.built_images["ci-dummy_dummy.ubuntu.none"].docker_image = "ci-does-not-exist";
      manifest.built_images["ci-dummy_dummy.ubuntu.none"].registry_image =
        `${testbed.registry}/ci-does-not-exist`;
      writeFileSync(manifestFile, JSON.stringify(manifest));
      const result = await cli(
        ["run", "--mad-root", zoo, "--manifest-file", "build_manifest.json", "-s", "summary.json"],
        cwd,
      );
      expect(result.code).toBe(3);
      const summary = JSON.parse(readFileSync(path.join(cwd, "summary.json"), "utf8"));
      const errors = Object.fromEntries(
        summary.failed_runs.map((run: { model: string; error: string }) => [run.model, run.error]),
      );
      expect(errors.dummy).toMatch(/image ci-does-not-exist is neither on this Docker daemon nor pullable/);
      expect(errors.noperf).toBe("no performance line (expected 'performance: <value> <metric>')");
      expect(errors.badcsv).toContain("empty cell");
      expect(errors.noscript).toMatch(
        /its scripts path scripts\/dummy\/missing\.sh does not exist in the MAD root/,
      );
      const rows = Object.fromEntries(readPerfRows(cwd).map((row) => [row.model, row]));
      expect(rows.noisy).toMatchObject({ status: "SUCCESS", performance: "4.2e3", metric: "samples/sec" });
      expect(rows.dummy!.status).toBe("FAILURE");
      const noisyLog = readFileSync(path.join(cwd, "noisy_dummy.ubuntu.none.run.live.log"));
      expect(noisyLog.length).toBeGreaterThan(10 * 1024 * 1024);
    });

    it("refuses to append to a perf.csv with other columns and leaves it untouched", async () => {
      const { zoo, cwd } = workspace();
      const foreign = "model,performance,metric\nold,1,x\n";
      writeFileSync(path.join(cwd, "perf.csv"), foreign);
      const result = await cli(["run", "--mad-root", zoo, "--tags", "dummy", "-c", UBUNTU], cwd);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("perf.csv");
      expect(readFileSync(path.join(cwd, "perf.csv"), "utf8")).toBe(foreign);
    });
  });

  it("Ctrl-C stops the running container, keeps the rows written so far and says it was interrupted", async () => {
    const { zoo, cwd } = workspace();
    addModels(zoo, [model("zz_long", "run_sleep.sh", { args: "60", tags: ["long"], timeout: 0 })]);
    expect((await cli(["build", "--mad-root", zoo, "--tags", "dummy", "long", "-c", UBUNTU], cwd)).code).toBe(
      0,
    );
    const child = spawn(
      process.execPath,
      [
        repoPath("bin", "madengine-cli"),
        "run",
        "--mad-root",
        zoo,
        "--manifest-file",
        "build_manifest.json",
        "-s",
        "summary.json",
      ],
      {
        cwd,
        env: { ...process.env, DOCKER_HOST: testbed.dockerHost, NO_COLOR: "1" },
      },
    );
    let stdout = "";
    let interrupted = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && stdout.includes("zz_long: running")) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    const rows = Object.fromEntries(readPerfRows(cwd).map((row) => [row.model, row]));
    expect(rows.dummy!.status).toBe("SUCCESS");
    expect(rows.zz_long!.status).toBe("FAILURE");
    const summary = JSON.parse(readFileSync(path.join(cwd, "summary.json"), "utf8"));
    expect(summary.interrupted).toBe(true);
    expect(summary.failed_runs[0].error).toBe("interrupted");
    const left = await docker
      .getContainer("container_ci-zz_long_dummy.ubuntu.none")
      .inspect()
      .catch(() => undefined);
    expect(left).toBeUndefined();
  });
});
