import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MadError } from "../../../shared/errors.js";
import { registerGenerateCommands } from "../../../src-main/cli/commands/generate.js";
import { generateSlurm } from "../../../src-main/engine/generate/slurm.js";
import { scratchDir, writeManifest, zooCopy } from "./fixtures.js";

describe("generate slurm", () => {
  it("writes an executable sbatch script with one step per model that bash accepts", async () => {
    const zoo = zooCopy();
    const dir = scratchDir();
    const { file } = await writeManifest(zoo, dir, ["dummies", "sleepy"]);
    const result = await generateSlurm({
      manifestFile: file,
      madRoot: zoo,
      output: path.join(dir, "run.sbatch"),
      partition: "gpu",
      contextSecretNames: ["MAD_SECRETS_X"],
      contextOverride: { docker_env_vars: { MAD_SECRETS_X: "slurm-secret-value" } },
    });
    expect(result.models).toBe(8);
    expect(statSync(result.file).mode & 0o111).not.toBe(0);
    const text = readFileSync(result.file, "utf8");
    expect(spawnSync("bash", ["-n", result.file]).status).toBe(0);
    expect(text.startsWith("#!/bin/bash\n#SBATCH --job-name=madengine")).toBe(true);
    expect(text).toContain("#SBATCH --partition=gpu");
    expect(text).not.toContain("#SBATCH --gpus-per-node"); // a CPU run asks for no GPU
    expect(text.match(/^step \d+ /gm)).toHaveLength(8);
    expect(text).toContain(`MAD_ROOT=\${MADENGINE_MAD_ROOT:-${zoo}}`);
    expect(text).toContain("export MAD_SECRETS_X before sbatch");
    expect(text).not.toContain("slurm-secret-value");
  });

  it("asks Slurm for the GPUs the models need", async () => {
    const zoo = zooCopy();
    const dir = scratchDir();
    const { file } = await writeManifest(zoo, dir, ["dummy"], {
      gpu_vendor: "AMD",
      docker_env_vars: { MAD_SYSTEM_NGPUS: 8 },
    });
    const result = await generateSlurm({ manifestFile: file, madRoot: zoo, output: path.join(dir, "s.sh") });
    const text = readFileSync(result.file, "utf8");
    expect(text).toContain("#SBATCH --gpus-per-node=1");
    expect(text).toContain(
      "--device /dev/kfd:/dev/kfd:rwm --device /dev/dri/renderD128:/dev/dri/renderD128:rwm",
    );
  });
});

describe("madengine-cli generate / export-config (commander)", () => {
  const written: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    written.length = 0;
  });

  function program(): Command {
    const root = new Command("madengine-cli").exitOverride().option("-v, --verbose");
    root.configureOutput({ writeOut: (text) => written.push(text), writeErr: (text) => written.push(text) });
    registerGenerateCommands(root);
    for (const command of root.commands) {
      command.exitOverride();
      command.configureOutput({
        writeOut: (text) => written.push(text),
        writeErr: (text) => written.push(text),
      });
      for (const sub of command.commands) {
        sub.exitOverride();
        sub.configureOutput({
          writeOut: (text) => written.push(text),
          writeErr: (text) => written.push(text),
        });
      }
    }
    return root;
  }

  it("documents every command and option in --help", async () => {
    for (const [args, expected] of [
      [
        ["generate", "--help"],
        ["ansible", "k8s", "slurm"],
      ],
      [
        ["generate", "ansible", "--help"],
        [
          "--manifest-file",
          "--execution-config",
          "--mode <mode>",
          "--with-inventory",
          "--with-ansible-cfg",
          "--inventory",
          "--registry",
          "--timeout",
          "registry_username",
          "audit_mode",
        ],
      ],
      [
        ["generate", "k8s", "--help"],
        [
          "--namespace",
          "--output-dir",
          "--node-selector",
          "--cpu-request",
          "--memory-limit",
          "--image-pull-secret",
          "--gpus-per-node",
          "amd.com/gpu",
        ],
      ],
      [
        ["generate", "slurm", "--help"],
        ["--output", "sbatch"],
      ],
      [
        ["export-config", "--help"],
        [
          "--tags",
          "--output",
          "--additional-context",
          "--additional-context-file",
          "--mad-root",
          "--ignore-deprecated",
          "--disable-skip-gpu-arch",
        ],
      ],
    ] as [string[], string[]][]) {
      written.length = 0;
      await expect(program().parseAsync(["node", "madengine-cli", ...args])).rejects.toMatchObject({
        exitCode: 0,
      });
      const text = written.join("");
      for (const item of expected) expect(text, `${args.join(" ")}: ${item}`).toContain(item);
    }
  });

  it("turns bad inputs into MadErrors that name the option or file", async () => {
    const dir = scratchDir();
    await expect(
      program().parseAsync([
        "node",
        "madengine-cli",
        "generate",
        "ansible",
        "-m",
        path.join(dir, "missing.json"),
      ]),
    ).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    const zoo = zooCopy();
    const { file } = await writeManifest(zoo, dir, ["dummy"]);
    const error = await program()
      .parseAsync([
        "node",
        "madengine-cli",
        "generate",
        "k8s",
        "-m",
        file,
        "--mad-root",
        zoo,
        "--gpus-per-node",
        "-1",
      ])
      .catch((problem: unknown) => problem);
    expect(error).toBeInstanceOf(MadError);
    expect((error as MadError).message).toContain("--gpus-per-node");
    expect((error as MadError).exitCode).toBe(4);
    await expect(
      program().parseAsync(["node", "madengine-cli", "generate", "ansible", "--mode", "pods"]),
    ).rejects.toMatchObject({ code: "commander.invalidArgument" });
  });

  it("writes the files through the command line", async () => {
    const zoo = zooCopy();
    const dir = scratchDir();
    const { file } = await writeManifest(zoo, dir, ["dummy"]);
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    await program().parseAsync([
      "node",
      "madengine-cli",
      "generate",
      "k8s",
      "-m",
      file,
      "--mad-root",
      zoo,
      "-o",
      path.join(dir, "k8s"),
      "-n",
      "team-a",
      "--run-id",
      "cli-1",
    ]);
    await program().parseAsync([
      "node",
      "madengine-cli",
      "export-config",
      "--mad-root",
      zoo,
      "-t",
      "dummy family/model_a",
      "-c",
      '{"gpu_vendor": "NONE"}',
      "-o",
      path.join(dir, "ec.json"),
    ]);
    const printed = stdout.mock.calls.map((call) => String(call[0])).join("");
    stdout.mockRestore();
    expect(printed).toContain("namespace team-a, 1 Job (run cli-1)");
    expect(printed).toContain("2 models, gpu_vendor NONE from the context");
    expect(JSON.parse(readFileSync(path.join(dir, "ec.json"), "utf8")).models).toHaveLength(2);
  });
});
