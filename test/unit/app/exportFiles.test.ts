import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppService } from "../../../src-main/app/appService.js";
import { ContractFailure } from "../../../src-main/app/contractCalls.js";
import { languageOf } from "../../../src-main/app/exportFiles.js";
import {
  runGenerateAnsible,
  runGenerateK8s,
  runGenerateSlurm,
} from "../../../src-main/cli/commands/generate.js";
import { scratchDir, writeManifest, zooCopy } from "../generate/fixtures.js";

const NVIDIA = '{"gpu_vendor": "NVIDIA", "docker_env_vars": {"MAD_SYSTEM_NGPUS": 4}}';
const services: AppService[] = [];

beforeEach(() => {
  // the CLI's actions print what they wrote
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const service of services.splice(0)) await service.close(5000);
});

async function setup() {
  const zoo = zooCopy();
  const dir = scratchDir("madengine-export-test-");
  const { file } = await writeManifest(zoo, dir, ["dummies"]);
  const service = new AppService({
    workspaceDir: path.join(dir, "workspace"),
    defaultMadRoot: zoo,
    env: { PATH: process.env.PATH },
  });
  services.push(service);
  return { zoo, dir, file, service };
}

function exportTempDirs(): string[] {
  return readdirSync(tmpdir()).filter(
    (name) => name.startsWith("madengine-export-") && !name.includes("test"),
  );
}

describe("export.preview and export.save", () => {
  it("k8s: the preview is what `madengine-cli generate k8s` writes for the same options", async () => {
    const t = await setup();
    const before = exportTempDirs();
    const preview = await t.service.invoke("export.preview", {
      target: "k8s",
      manifestFile: t.file,
      context: NVIDIA,
      options: {
        namespace: "bench",
        nodeSelectors: ["gpu=a100"],
        cpuRequest: "2",
        memoryLimit: "16Gi",
        imagePullSecret: "regcred",
        gpusPerNode: 4,
        runId: "run-1",
      },
    });
    const out = path.join(t.dir, "cli-k8s");
    await runGenerateK8s({
      manifestFile: t.file,
      madRoot: t.zoo,
      outputDir: out,
      namespace: "bench",
      nodeSelector: ["gpu=a100"],
      cpuRequest: "2",
      memoryLimit: "16Gi",
      imagePullSecret: "regcred",
      gpusPerNode: "4",
      runId: "run-1",
      additionalContext: NVIDIA,
    });
    expect(preview.files.map((file) => file.name)).toEqual(readdirSync(out).sort());
    for (const file of preview.files) {
      expect(file.language).toBe("yaml");
      expect(file.content).toBe(readFileSync(path.join(out, file.name), "utf8"));
    }
    const jobs = preview.files.find((file) => file.name === "k8s-madengine-job.yaml")!.content;
    expect(jobs).toContain("kind: Job");
    expect(jobs).toContain("nvidia.com/gpu");
    // nothing left behind
    expect(exportTempDirs()).toEqual(before);
  });

  it("ansible and slurm: same content as the CLI; the tarball is only named", async () => {
    const t = await setup();
    const ansible = await t.service.invoke("export.preview", {
      target: "ansible",
      manifestFile: t.file,
      options: { mode: "containers", timeoutSec: 600 },
    });
    const out = path.join(t.dir, "cli-ansible");
    await runGenerateAnsible({
      manifestFile: t.file,
      madRoot: t.zoo,
      output: path.join(out, "madengine_distributed.yml"),
      mode: "containers",
      timeout: "600",
    });
    expect(ansible.files.map((file) => file.name)).toEqual(["madengine_distributed.yml"]);
    expect(ansible.files[0]!.content).toBe(readFileSync(path.join(out, "madengine_distributed.yml"), "utf8"));
    expect(ansible.notes.join("\n")).toMatch(/madengine_files\.tar\.gz .* is written on save/);

    const slurm = await t.service.invoke("export.preview", {
      target: "slurm",
      manifestFile: t.file,
      options: { output: "bench.sh", partition: "gpu" },
    });
    await runGenerateSlurm({
      manifestFile: t.file,
      madRoot: t.zoo,
      output: path.join(out, "bench.sh"),
      partition: "gpu",
    });
    expect(slurm.files).toEqual([
      { name: "bench.sh", language: "shell", content: readFileSync(path.join(out, "bench.sh"), "utf8") },
    ]);
  });

  it("k8s with a broken option is rejected, as a contract error", async () => {
    const t = await setup();
    const bad = await t.service.call("export.preview", {
      target: "k8s",
      manifestFile: t.file,
      options: { namespace: "Not_A_Namespace" },
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe("INVALID_ARGS");
      expect(bad.error.message).toContain("Not_A_Namespace");
    }
    const negative = await t.service.call("export.preview", {
      target: "k8s",
      manifestFile: t.file,
      options: { gpusPerNode: -2 },
    });
    expect(negative.ok).toBe(false);
    if (!negative.ok) {
      expect(negative.error.code).toBe("INVALID_ARGS");
      expect(negative.error.path).toBe("options.gpusPerNode");
    }
    const selector = await t.service.call("export.preview", {
      target: "k8s",
      manifestFile: t.file,
      options: { nodeSelectors: ["no-equals-sign"] },
    });
    expect(selector.ok).toBe(false);
  });

  it("a manifest that is not there is an error with the file", async () => {
    const t = await setup();
    const missing = path.join(t.dir, "nope", "build_manifest.json");
    await expect(
      t.service.invoke("export.preview", { target: "slurm", manifestFile: missing, options: {} }),
    ).rejects.toBeInstanceOf(ContractFailure);
    const response = await t.service.call("export.preview", {
      target: "slurm",
      manifestFile: missing,
      options: {},
    });
    expect(response.ok ? undefined : response.error.file).toContain("nope");
    const pathName = await t.service.call("export.preview", {
      target: "slurm",
      manifestFile: t.file,
      options: { output: "../escape.sh" },
    });
    expect(pathName.ok ? undefined : pathName.error.code).toBe("INVALID_ARGS");
  });

  it("execution-config: tags and context, as JSON", async () => {
    const t = await setup();
    const preview = await t.service.invoke("export.preview", {
      target: "execution-config",
      context: '{"gpu_vendor": "AMD"}',
      options: { tags: ["dummy"] },
    });
    expect(preview.files).toHaveLength(1);
    expect(preview.files[0]!.name).toBe("execution_config.json");
    expect(preview.files[0]!.language).toBe("json");
    const config = JSON.parse(preview.files[0]!.content) as { models: { name: string }[]; context: unknown };
    expect(config.models.map((model) => model.name)).toEqual(["dummy"]);
    expect(preview.notes[0]).toContain("gpu_vendor AMD");
  });

  it("export.save writes the files into the output directory", async () => {
    const t = await setup();
    const outputDir = path.join(t.dir, "saved", "ansible");
    const saved = await t.service.invoke("export.save", {
      target: "ansible",
      manifestFile: t.file,
      options: {},
      outputDir,
    });
    expect(saved.written.map((file) => path.basename(file)).sort()).toEqual([
      "madengine_distributed.yml",
      "madengine_files.tar.gz",
    ]);
    for (const file of saved.written) {
      expect(path.dirname(file)).toBe(outputDir);
      expect(existsSync(file)).toBe(true);
    }
    const slurm = await t.service.invoke("export.save", {
      target: "slurm",
      manifestFile: t.file,
      options: {},
      outputDir,
    });
    expect(statSync(slurm.written[0]!).mode & 0o111).not.toBe(0);
  });

  it("names the language of each file", () => {
    expect(languageOf("a.yml")).toBe("yaml");
    expect(languageOf("a.yaml")).toBe("yaml");
    expect(languageOf("a.json")).toBe("json");
    expect(languageOf("run.sh")).toBe("shell");
    expect(languageOf("inventory.ini")).toBe("ini");
    expect(languageOf("ansible.cfg")).toBe("ini");
    expect(languageOf("README")).toBe("text");
  });
});
