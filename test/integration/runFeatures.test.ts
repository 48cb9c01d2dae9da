import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "../../src-main/engine/run/results/csv.js";
import { copyBundledZoo, runCli } from "../helpers/cli.js";
import { repoPath } from "../helpers/tempDir.js";
import { loadTestbed, type Testbed } from "../helpers/testbed.js";

const UBUNTU = { gpu_vendor: "NONE", guest_os: "UBUNTU" };

let testbed: Testbed;
const cleanup: string[] = [];
beforeAll(() => {
  testbed = loadTestbed();
});
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

function workspace(models: object[], scripts: Record<string, string>): { zoo: string; cwd: string } {
  const zoo = copyBundledZoo();
  const cwd = `${zoo}-out`;
  mkdirSync(cwd);
  cleanup.push(zoo, cwd);
  const file = path.join(zoo, "models.json");
  writeFileSync(file, JSON.stringify([...JSON.parse(readFileSync(file, "utf8")), ...models], null, 2));
  for (const [name, body] of Object.entries(scripts)) {
    mkdirSync(path.dirname(path.join(zoo, name)), { recursive: true });
    writeFileSync(path.join(zoo, name), body, { mode: 0o755 });
  }
  return { zoo, cwd };
}

const model = (name: string, script: string, extra: object = {}) => ({
  name,
  dockerfile: "docker/dummy",
  scripts: script,
  n_gpus: "1",
  tags: ["features"],
  args: "",
  ...extra,
});

function rowsOf(cwd: string): Record<string, Record<string, string>> {
  const [header, ...rows] = parseCsv(readFileSync(path.join(cwd, "perf.csv"), "utf8"));
  return Object.fromEntries(
    rows.map((row) => [row[0]!, Object.fromEntries(header!.map((name, i) => [name, row[i] ?? ""]))]),
  );
}

describe("run features on the real daemon", () => {
  it("local data, pre/post scripts, tools and the MAD_* environment reach the container", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "madengine-data-"));
    cleanup.push(dataDir);
    writeFileSync(path.join(dataDir, "sample.txt"), "data-from-the-host\n");
    const { zoo, cwd } = workspace(
      [model("probe", "scripts/dummy/run_probe.sh", { data: "probe_data", args: "--flag 'two words'" })],
      {
        "scripts/dummy/run_probe.sh": [
          "#!/bin/sh",
          'echo "datahome=$MAD_DATAHOME dataname=$MAD_DATANAME"',
          'cat "$MAD_DATAHOME/sample.txt"',
          'echo "model=$MAD_MODEL_NAME vendor=$MAD_GPU_VENDOR arch=$MAD_SYSTEM_GPU_ARCHITECTURE runtime=$MAD_RUNTIME_NGPUS tool=$TOOL_MARK custom=$CUSTOM_VAR"',
          'for a in "$@"; do echo "arg=[$a]"; done',
          "touch $MAD_DATAHOME/should-fail 2>/dev/null && echo writable || echo read-only",
          "echo performance: 7 probes",
          "",
        ].join("\n"),
        "scripts/common/pre_scripts/pre_hello.sh": '#!/bin/sh\necho "pre-script says $1"\n',
        "scripts/common/post_scripts/post_bye.sh": '#!/bin/sh\necho "post-script says $1"\n',
        "scripts/common/tools.json": JSON.stringify({
          tools: { marker: { cmd: "echo tool-prefix-ran && ", env_vars: { TOOL_MARK: "on" } } },
        }),
        "data.json": JSON.stringify({ probe_data: { local: { path: dataDir } } }),
      },
    );
    const context = {
      ...UBUNTU,
      docker_env_vars: { CUSTOM_VAR: "x'y\"$(z)", MAD_SYSTEM_GPU_ARCHITECTURE: "gfx-test" },
      pre_scripts: [{ path: "scripts/common/pre_scripts/pre_hello.sh", args: "hello" }],
      post_scripts: [{ path: "scripts/common/post_scripts/post_bye.sh", args: "bye" }],
      tools: [{ name: "marker" }],
    };
    const result = await runCli(
      ["run", "--mad-root", zoo, "--tags", "probe", "-c", JSON.stringify(context)],
      {
        cwd,
        env: { DOCKER_HOST: testbed.dockerHost },
      },
    );
    expect(result.code).toBe(0);
    const log = readFileSync(path.join(cwd, "probe_dummy.ubuntu.none.run.live.log"), "utf8");
    expect(log).toContain("datahome=/data_dlm_0 dataname=probe_data");
    expect(log).toContain("data-from-the-host");
    expect(log).toContain("model=probe vendor=NONE arch=gfx-test runtime=0 tool=on custom=x'y\"$(z)");
    expect(log).toContain("arg=[--flag]\narg=[two words]");
    expect(log).toContain("read-only");
    expect(log).toContain("pre-script says hello");
    expect(log).toContain("post-script says bye");
    expect(log).toContain("tool-prefix-ran");
    expect(log.indexOf("pre-script says")).toBeLessThan(log.indexOf("datahome="));
    expect(log.indexOf("post-script says")).toBeGreaterThan(log.indexOf("performance: 7"));
    expect(rowsOf(cwd).probe).toMatchObject({
      status: "SUCCESS",
      performance: "7",
      dataname: "probe_data",
      data_provider_type: "local",
      gpu_architecture: "gfx-test",
    });
  });

  it("skip_gpu_arch and is_deprecated skip models unless the flags say otherwise", async () => {
    const { zoo, cwd } = workspace(
      [
        model("arch_skipped", "scripts/dummy/run.sh", { skip_gpu_arch: "gfx908, gfx942" }),
        model("old_model", "scripts/dummy/run.sh", { is_deprecated: true }),
      ],
      {},
    );
    const context = JSON.stringify({ ...UBUNTU, docker_env_vars: { MAD_SYSTEM_GPU_ARCHITECTURE: "gfx942" } });
    const env = { DOCKER_HOST: testbed.dockerHost };
    const first = await runCli(["run", "--mad-root", zoo, "--tags", "features", "-c", context], { cwd, env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("skip_gpu_arch lists gfx942");
    expect(first.stdout).toContain("deprecated model");
    let rows = rowsOf(cwd);
    expect(rows.arch_skipped!.status).toBe("SKIPPED");
    expect(rows.old_model).toBeUndefined();
    const second = await runCli(
      [
        "run",
        "--mad-root",
        zoo,
        "--manifest-file",
        "build_manifest.json",
        "-c",
        context,
        "--disable-skip-gpu-arch",
        "--ignore-deprecated",
      ],
      { cwd, env },
    );
    expect(second.code).toBe(0);
    rows = rowsOf(cwd);
    expect(rows.arch_skipped!.status).toBe("SUCCESS");
    expect(rows.old_model!.status).toBe("SUCCESS");
  });

  it("--skip-model-run prepares without running; --keep-model-dir keeps the run directory", async () => {
    const { zoo, cwd } = workspace([], {});
    const env = { DOCKER_HOST: testbed.dockerHost };
    const context = JSON.stringify(UBUNTU);
    const skipped = await runCli(
      ["run", "--mad-root", zoo, "--tags", "dummy", "-c", context, "--skip-model-run", "-s", "s.json"],
      { cwd, env },
    );
    expect(skipped.code).toBe(0);
    expect(readFileSync(path.join(cwd, "dummy_dummy.ubuntu.none.run.live.log"), "utf8")).toContain(
      "skip-model-run (interpreter sh), would run: run.sh",
    );
    expect(existsSync(path.join(cwd, "perf.csv"))).toBe(false);
    const kept = await runCli(
      ["run", "--mad-root", zoo, "--manifest-file", "build_manifest.json", "--keep-model-dir"],
      { cwd, env },
    );
    expect(kept.code).toBe(0);
    expect(existsSync(path.join(zoo, "run_directory", "run.sh"))).toBe(true);
  });

  it("a Docker daemon that stops in the middle of a run gives FAILURE rows and keeps earlier rows", async () => {
    const tbDir = mkdtempSync(path.join(tmpdir(), "mdx-"));
    cleanup.push(tbDir);
    const up = spawn("bash", [repoPath("test", "env", "testbed-up.sh")], {
      env: { ...process.env, TB_DIR: tbDir, TB_DOCKER_ONLY: "1" },
    });
    expect(await new Promise((resolve) => up.on("close", resolve))).toBe(0);
    const dockerHost = `unix://${tbDir}/docker/docker.sock`;
    try {
      const { zoo, cwd } = workspace(
        [model("zz_slow", "scripts/dummy/run_sleep.sh", { args: "30", timeout: 0 })],
        {},
      );
      const env = { DOCKER_HOST: dockerHost };
      expect(
        (
          await runCli(
            ["build", "--mad-root", zoo, "--tags", "dummy", "features", "-c", JSON.stringify(UBUNTU)],
            { cwd, env },
          )
        ).code,
      ).toBe(0);
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
          "s.json",
        ],
        {
          cwd,
          env: { ...process.env, ...env, NO_COLOR: "1" },
        },
      );
      let stdout = "";
      let stopped = false;
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!stopped && stdout.includes("zz_slow: running")) {
          stopped = true;
          spawn("bash", [repoPath("test", "env", "testbed-down.sh")], {
            env: { ...process.env, TB_DIR: tbDir },
          });
        }
      });
      const code = await new Promise((resolve) => child.on("close", resolve));
      expect(code).toBe(3);
      const rows = rowsOf(cwd);
      expect(rows.dummy!.status).toBe("SUCCESS");
      expect(rows.zz_slow!.status).toBe("FAILURE");
      const summary = JSON.parse(readFileSync(path.join(cwd, "s.json"), "utf8"));
      expect(summary.failed_runs[0].error).toMatch(/Docker daemon|exit code|interrupted/);
    } finally {
      await new Promise((resolve) =>
        spawn("bash", [repoPath("test", "env", "testbed-down.sh"), "--purge"], {
          env: { ...process.env, TB_DIR: tbDir },
        }).on("close", resolve),
      );
    }
  });
});
