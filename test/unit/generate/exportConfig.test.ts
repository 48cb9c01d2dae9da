import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import { executionConfigSchema } from "../../../shared/schemas/executionConfig.js";
import type { GpuReport } from "../../../shared/schemas/gpu.js";
import { exportExecutionConfig } from "../../../src-main/engine/generate/exportConfig.js";
import { fixturePath } from "../../helpers/tempDir.js";
import { scratchDir, zooCopy } from "./fixtures.js";

const NO_GPU = async (): Promise<GpuReport> => ({ vendor: "NONE", devices: [], problems: [] });
const EIGHT_MI300 = async (): Promise<GpuReport> => ({
  vendor: "AMD",
  devices: Array.from({ length: 8 }, (_, index) => ({
    index,
    vendor: "AMD" as const,
    name: "AMD Instinct MI300X",
    architecture: "gfx942",
  })) as GpuReport["devices"],
  architecture: "gfx942",
  runtimeVersion: "6.4",
  problems: [],
});

function read(file: string) {
  return executionConfigSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

describe("export-config", () => {
  it("selects the MAD fixture's models: all 37, or the 25 vLLM models with --tags vllm", async () => {
    const dir = scratchDir();
    const all = await exportExecutionConfig({
      madRoot: fixturePath("mad"),
      tags: ["all"],
      output: path.join(dir, "all.json"),
      detectGpus: NO_GPU,
      env: {},
    });
    expect(read(all.file).models).toHaveLength(37);
    const vllm = await exportExecutionConfig({
      madRoot: fixturePath("mad"),
      tags: ["vllm"],
      output: path.join(dir, "execution_config.json"),
      detectGpus: NO_GPU,
      env: {},
    });
    const config = read(vllm.file);
    expect(config.models).toHaveLength(25);
    expect(config.models.every((model) => model.name.startsWith("pyt_vllm_"))).toBe(true);
    expect(config.context.gpu_vendor).toBe("NONE");
    expect(config.context.docker_mounts).toEqual({});
    expect(config.credentials_required).toEqual([]);
    expect(vllm.detection).toMatch(/no GPU detected/);
  });

  it("exports the example zoo with the host's detected GPU facts when the context names no vendor", async () => {
    const dir = scratchDir();
    const result = await exportExecutionConfig({
      madRoot: zooCopy(),
      tags: ["dummies"],
      output: path.join(dir, "execution_config.json"),
      detectGpus: EIGHT_MI300,
      env: {},
    });
    const config = read(result.file);
    expect(config.models.map((model) => model.name)).toEqual([
      "dummy",
      "dummy_multi",
      "dummy_args",
      "family/model_a",
      "family/model_b",
      "dynamic/gen_small",
      "dynamic/gen_large",
    ]);
    expect(config.context).toMatchObject({
      gpu_vendor: "AMD",
      docker_gpus: "0-7",
      docker_env_vars: {
        MAD_GPU_VENDOR: "AMD",
        MAD_SYSTEM_NGPUS: 8,
        MAD_SYSTEM_GPU_ARCHITECTURE: "gfx942",
        MAD_SYSTEM_HIP_VERSION: "6.4",
      },
    });
  });

  it("keeps the context's vendor (gpu_vendor NONE is valid) and the user's mounts and variables", async () => {
    const dir = scratchDir();
    const result = await exportExecutionConfig({
      madRoot: zooCopy(),
      tags: ["dummy"],
      additionalContext: JSON.stringify({
        gpu_vendor: "NONE",
        docker_mounts: { "/data": "/mnt/data" },
        docker_env_vars: { HF_HOME: "/data/hf" },
      }),
      output: path.join(dir, "ec.json"),
      detectGpus: async () => {
        throw new Error("must not detect when the context names the vendor");
      },
      env: {},
    });
    expect(read(result.file).context).toMatchObject({
      gpu_vendor: "NONE",
      docker_mounts: { "/data": "/mnt/data" },
      docker_env_vars: { HF_HOME: "/data/hf" },
    });
  });

  it("lists credentials by name, once each, and writes no secret value", async () => {
    const zoo = zooCopy();
    const models = JSON.parse(readFileSync(path.join(zoo, "models.json"), "utf8"));
    models[0].cred = "AMD_GITHUB";
    models[1].cred = "HF_TOKEN";
    models[2].cred = "AMD_GITHUB";
    writeFileSync(path.join(zoo, "models.json"), JSON.stringify(models));
    writeFileSync(
      path.join(zoo, "credential.json"),
      JSON.stringify({ AMD_GITHUB: { username: "u", password: "github-password-value" } }),
    );
    const dir = scratchDir();
    const result = await exportExecutionConfig({
      madRoot: zoo,
      tags: ["dummy", "dummy_multi", "failing", "dummy_args"],
      output: path.join(dir, "ec.json"),
      additionalContext: '{"gpu_vendor": "AMD", "docker_env_vars": {"MAD_SYSTEM_NGPUS": 8}}',
      env: { MAD_SECRETS_HF: "env-secret-value" },
      detectGpus: NO_GPU,
    });
    const text = readFileSync(result.file, "utf8");
    expect(read(result.file).credentials_required).toEqual(["AMD_GITHUB", "HF_TOKEN"]);
    expect(text).not.toContain("env-secret-value");
    expect(text).not.toContain("github-password-value");
    expect(text).not.toContain("MAD_SECRETS_HF");
    expect(result.notes.join(" ")).toContain("MAD_SECRETS_HF");
  });

  it("needs --tags and names an unknown tag", async () => {
    const options = {
      madRoot: zooCopy(),
      output: path.join(scratchDir(), "x.json"),
      detectGpus: NO_GPU,
      env: {},
    };
    await expect(exportExecutionConfig({ ...options, tags: [] })).rejects.toMatchObject({
      code: "INVALID_ARGS",
    });
    const error = await exportExecutionConfig({ ...options, tags: ["dumy"] }).catch(
      (problem: unknown) => problem,
    );
    expect(error).toBeInstanceOf(MadError);
    expect((error as MadError).code).toBe("UNKNOWN_TAG");
    expect((error as MadError).hint).toContain("dummy");
    await expect(
      exportExecutionConfig({ ...options, tags: ["dummy"], additionalContext: '{"gpu_vendor": "ARM"}' }),
    ).rejects.toMatchObject({ code: "CONTEXT_INVALID" });
  });
});
