import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { contextSchema } from "../../../shared/schemas/context.js";
import { executionConfigSchema } from "../../../shared/schemas/executionConfig.js";
import { buildManifestSchema } from "../../../shared/schemas/manifest.js";
import { PERF_CSV_COLUMNS, PERF_CSV_HEADER, perfRowSchema } from "../../../shared/schemas/perf.js";
import {
  buildSummarySchema,
  executionSummarySchema,
  workflowSummarySchema,
} from "../../../shared/schemas/summaries.js";
import { fixturePath } from "../../helpers/tempDir.js";

const manifestFixture = () =>
  JSON.parse(readFileSync(fixturePath("perf", "madengine-2025-07-build_manifest.json"), "utf8"));

describe("build_manifest.json schema", () => {
  it("accepts the manifest the original madengine wrote (no schema_version)", () => {
    const manifest = buildManifestSchema.parse(manifestFixture());
    expect(Object.keys(manifest.built_images)).toEqual(["ci-dummy_dummy.ubuntu.amd"]);
    expect(manifest.built_models["ci-dummy_dummy.ubuntu.amd"]!.name).toBe("dummy");
  });

  it("accepts our additions: schema_version 1 and a registry digest", () => {
    const manifest = manifestFixture();
    manifest.schema_version = 1;
    manifest.built_images["ci-dummy_dummy.ubuntu.amd"].registry_digest = `sha256:${"a".repeat(64)}`;
    expect(buildManifestSchema.safeParse(manifest).success).toBe(true);
  });

  it("rejects an unknown schema_version, a bad digest and a missing built_images", () => {
    const wrongVersion = { ...manifestFixture(), schema_version: 7 };
    const result = buildManifestSchema.safeParse(wrongVersion);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toContain("schema_version 1");
    const badDigest = manifestFixture();
    badDigest.built_images["ci-dummy_dummy.ubuntu.amd"].registry_digest = "sha256:xyz";
    expect(buildManifestSchema.safeParse(badDigest).success).toBe(false);
    const { built_images: _dropped, ...noImages } = manifestFixture();
    expect(buildManifestSchema.safeParse(noImages).success).toBe(false);
  });
});

describe("context schema", () => {
  it("accepts the documented keys and extra keys (they take part in Dockerfile filtering)", () => {
    const context = contextSchema.parse({
      gpu_vendor: "AMD",
      guest_os: "UBUNTU",
      docker_build_arg: { MAD_SYSTEM_GPU_ARCHITECTURE: "gfx942" },
      docker_env_vars: { MAD_SYSTEM_NGPUS: 8, FLAG: true },
      docker_mounts: { "/data": "/mnt/data" },
      docker_gpus: "0,2-4,7",
      tools: [{ name: "rocprof" }],
      pre_scripts: [{ path: "scripts/common/pre_scripts/pre_test.sh", args: "-v" }],
      ctx_test: "2",
    });
    expect(context.ctx_test).toBe("2");
  });

  it.each([
    ["lower-case vendor", { gpu_vendor: "amd" }],
    ["unknown guest OS", { guest_os: "WINDOWS" }],
    ["non-string build arg", { docker_build_arg: { A: 1 } }],
    ["bad GPU range", { docker_gpus: "0-x" }],
    ["tools not a list", { tools: "rocprof" }],
  ])("rejects %s", (_label, context) => {
    expect(contextSchema.safeParse(context).success).toBe(false);
  });
});

describe("execution_config.json schema", () => {
  it("accepts the spec's example shape", () => {
    const config = executionConfigSchema.parse({
      models: [
        {
          name: "dummy",
          dockerfile: "docker/dummy",
          scripts: "scripts/dummy/run.sh",
          n_gpus: "1",
          tags: [],
          args: "",
        },
      ],
      context: {
        docker_env_vars: { MAD_GPU_VENDOR: "AMD", MAD_SYSTEM_NGPUS: 8 },
        docker_mounts: {},
        gpu_vendor: "AMD",
        docker_gpus: "0-7",
      },
      credentials_required: ["AMD_GITHUB"],
    });
    expect(config.credentials_required).toEqual(["AMD_GITHUB"]);
    expect(executionConfigSchema.safeParse({ models: [], context: {} }).success).toBe(false);
  });
});

describe("perf.csv row", () => {
  it("has the 25 columns of the original, in order, matching madengine's own header byte for byte", () => {
    expect(PERF_CSV_COLUMNS).toHaveLength(25);
    const original = readFileSync(fixturePath("perf", "madengine-2025-07-perf.csv"), "utf8").split("\n")[0];
    expect(PERF_CSV_HEADER).toBe(original);
  });

  it("validates a row and rejects an unknown status or an extra column", () => {
    const row = Object.fromEntries(PERF_CSV_COLUMNS.map((column) => [column, ""]));
    expect(perfRowSchema.safeParse({ ...row, model: "dummy", status: "SUCCESS" }).success).toBe(true);
    expect(perfRowSchema.safeParse({ ...row, model: "dummy", status: "OK" }).success).toBe(false);
    expect(perfRowSchema.safeParse({ ...row, model: "dummy", status: "SUCCESS", nnodes: "1" }).success).toBe(
      false,
    );
  });
});

describe("summaries", () => {
  const buildInfo = manifestFixture().built_images["ci-dummy_dummy.ubuntu.amd"];
  const build = {
    successful_builds: [{ model: "dummy", dockerfile: buildInfo.dockerfile, build_info: buildInfo }],
    failed_builds: [{ model: "broken", error: "no Dockerfile matches docker/broken.*" }],
    total_build_time: 1.5,
  };
  const run = {
    successful_runs: [
      {
        model: "dummy",
        docker_image: "ci-dummy_dummy.ubuntu.amd",
        status: "SUCCESS",
        performance: "21355",
        metric: "samples_per_second",
        test_duration: 3.2,
      },
    ],
    failed_runs: [{ model: "dummy_gpubind", image: "ci-x", error: "Too many gpus requested" }],
    total_execution_time: 3.2,
  };

  it("accept the spec's build, execution and workflow summaries", () => {
    expect(buildSummarySchema.safeParse(build).success).toBe(true);
    expect(executionSummarySchema.safeParse(run).success).toBe(true);
    expect(
      workflowSummarySchema.safeParse({ build_phase: build, run_phase: run, overall_success: false }).success,
    ).toBe(true);
  });

  it("reject a negative duration or a missing list", () => {
    expect(buildSummarySchema.safeParse({ ...build, total_build_time: -1 }).success).toBe(false);
    expect(executionSummarySchema.safeParse({ successful_runs: [], total_execution_time: 0 }).success).toBe(
      false,
    );
  });
});
