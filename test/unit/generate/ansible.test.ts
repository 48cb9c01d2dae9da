import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { MadError } from "../../../shared/errors.js";
import { buildAnsiblePlaybook, generateAnsible } from "../../../src-main/engine/generate/ansible.js";
import { ansibleCfg, inventoryFromNodes } from "../../../src-main/engine/generate/ansibleInventory.js";
import { dockerRunArgs } from "../../../src-main/engine/generate/dockerRunArgs.js";
import { scratchDir, writeManifest, zooCopy } from "./fixtures.js";

interface Play {
  hosts: string;
  any_errors_fatal: boolean;
  vars: Record<string, unknown> & {
    madengine_plan: {
      models: { name: string; docker_options: string[]; command: string[]; secret_env: string[] }[];
    };
  };
  tasks: { name: string; block?: Task[]; rescue?: Task[]; always?: Task[] }[];
}
type Task = Record<string, unknown> & { name: string };

function play(text: string): Play {
  const doc = parseDocument(text, { customTags: [{ tag: "!unsafe", resolve: (value: string) => value }] });
  expect(doc.errors).toEqual([]);
  return (doc.toJS() as Play[])[0]!;
}

/** Names of the files in a tar.gz (a minimal ustar reader). */
function tarNames(archive: Buffer): { names: string[]; text: string } {
  const tar = gunzipSync(archive);
  const names: string[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const name = tar.toString("utf8", offset, offset + 100).replace(/\0.*$/s, "");
    if (name === "") break;
    const size = Number.parseInt(
      tar
        .toString("utf8", offset + 124, offset + 136)
        .replace(/\0.*$/s, "")
        .trim() || "0",
      8,
    );
    names.push(name);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return { names, text: tar.toString("latin1") };
}

describe("generate ansible", () => {
  it("writes a playbook for gpu_nodes whose docker run options are the run phase's own", async () => {
    const zoo = zooCopy();
    const dir = scratchDir();
    const { file, manifest } = await writeManifest(zoo, dir, ["dummies", "failing"]);
    const { text, plans } = await buildAnsiblePlaybook({ manifestFile: file, madRoot: zoo, runId: "r1" });
    const parsed = play(text);
    expect(parsed.hosts).toBe("gpu_nodes");
    expect(parsed.any_errors_fatal).toBe(false);
    const models = parsed.vars.madengine_plan.models;
    expect(models.map((model) => model.name)).toEqual(
      Object.values(manifest.built_models).map((m) => m.name),
    );
    plans.forEach((plan, index) => {
      const args = dockerRunArgs(plan.spec);
      expect(models[index]!.docker_options).toEqual(args.options);
      expect(models[index]!.command).toEqual(args.command);
    });
    const block = parsed.tasks[0]!;
    const names = block.block!.map((task) => task.name);
    for (const expected of [
      "Check that Docker answers (docker version)",
      "Log in to the registry (only with registry_username and registry_password)",
      "Copy the MAD files (models, scripts, data config) from the tarball next to the playbook",
      "Pull each image by digest",
      "Verify each pulled image's id against the manifest",
      "Write this host's perf.csv from the results (machine_name = inventory_hostname)",
    ]) {
      expect(names).toContain(expected);
    }
    const login = block.block!.find((task) => task.name.startsWith("Log in"))!;
    expect(login.no_log).toBe(true);
    expect(JSON.stringify(login)).toContain("--password-stdin");
    const run = block.block!.find((task) => task.name.startsWith("Run each model"))!;
    expect((run["ansible.builtin.command"] as { argv: string }).argv).toContain("madengine_host.py");
    expect(block.rescue).toHaveLength(1);
    expect(block.always!.map((task) => task.name)[0]).toBe(
      "Fetch perf.csv to the controller (results/<inventory_hostname>/perf.csv)",
    );
    // user data is never templated by Ansible
    expect(text).toMatch(/- !unsafe \|\n\s+set -u/);
    expect(text).toContain("madengine_host_script: !unsafe |");
  });

  it("writes the tarball, inventory and ansible.cfg; the same inputs give the same bytes", async () => {
    const zoo = zooCopy();
    const dir = scratchDir();
    const { file } = await writeManifest(zoo, dir, ["dummy"]);
    const nodesFile = path.join(dir, "nodes.json");
    writeFileSync(
      nodesFile,
      JSON.stringify({
        version: 1,
        nodes: [
          {
            name: "gpu1",
            host: "10.0.0.1",
            user: "ops",
            identityFile: "/keys/id",
            knownHostsFile: "/kh/known",
          },
          { name: "gpu2", host: "10.0.0.2", port: 2200, proxyJump: "gpu1", dockerSocket: "/run/d.sock" },
        ],
      }),
    );
    const options = {
      manifestFile: file,
      madRoot: zoo,
      output: path.join(dir, "out", "madengine_distributed.yml"),
      withInventory: true,
      nodesFile,
      withAnsibleCfg: true,
      runId: "r1",
    };
    const first = await generateAnsible(options);
    expect(first.files.map((f) => path.basename(f)).sort()).toEqual([
      "ansible.cfg",
      "inventory.ini",
      "madengine_distributed.yml",
      "madengine_files.tar.gz",
    ]);
    const read = (name: string) => readFileSync(path.join(dir, "out", name));
    const before = readdirSync(path.join(dir, "out")).map((name) => read(name));
    await generateAnsible(options);
    expect(readdirSync(path.join(dir, "out")).map((name) => read(name))).toEqual(before);

    const inventory = read("inventory.ini").toString();
    expect(inventory).toContain("[gpu_nodes]");
    expect(inventory).toContain(
      "gpu1 ansible_host=10.0.0.1 ansible_port=22 ansible_user=ops ansible_ssh_private_key_file=/keys/id ansible_ssh_common_args='-o UserKnownHostsFile=/kh/known -o IdentitiesOnly=yes'",
    );
    expect(inventory).toContain("ansible_ssh_common_args='-o ProxyJump=ops@10.0.0.1:22'");
    expect(inventory).toContain("madengine_docker_host=unix:///run/d.sock");
    const cfg = read("ansible.cfg").toString();
    expect(cfg).toContain("host_key_checking = True");
    expect(cfg).toContain("-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/kh/known");
    expect(cfg).toContain("inventory = inventory.ini");

    const { names } = tarNames(read("madengine_files.tar.gz"));
    expect(names).toContain("models.json");
    expect(names).toContain("scripts/dummy/run.sh");
    expect(names.some((name) => name.startsWith("docker/"))).toBe(false);
    expect(names).not.toContain("perf_dummy_multi.csv");
  });

  it("never writes secret values: MAD_SECRETS*, credential.json, registry passwords", async () => {
    const zoo = zooCopy();
    writeFileSync(
      path.join(zoo, "credential.json"),
      JSON.stringify({
        "127.0.0.1:5055": { username: "me", password: "registry-password-value" },
        HF: { password: "hf-password-value" },
      }),
    );
    const models = JSON.parse(readFileSync(path.join(zoo, "models.json"), "utf8"));
    models[0].cred = "HF";
    writeFileSync(path.join(zoo, "models.json"), JSON.stringify(models));
    const dir = scratchDir();
    const { file } = await writeManifest(zoo, dir, ["dummy"], {
      gpu_vendor: "NONE",
      docker_env_vars: { MAD_SECRETS_OLD: "manifest-secret-value" },
    });
    for (const mode of ["containers", "madengine-cli"] as const) {
      const out = path.join(dir, mode);
      await generateAnsible({
        manifestFile: file,
        madRoot: zoo,
        output: path.join(out, "pb.yml"),
        mode,
        contextOverride: { docker_env_vars: { MAD_SECRETS_TOKEN: "env-secret-value", VISIBLE: "yes" } },
        contextSecretNames: ["MAD_SECRETS_TOKEN"],
      });
      const playbook = readFileSync(path.join(out, "pb.yml"), "utf8");
      const { names, text: tar } = tarNames(readFileSync(path.join(out, "madengine_files.tar.gz")));
      expect(names).not.toContain("credential.json");
      for (const secret of [
        "env-secret-value",
        "registry-password-value",
        "hf-password-value",
        "manifest-secret-value",
      ]) {
        expect(playbook).not.toContain(secret);
        expect(tar).not.toContain(secret);
      }
      if (mode === "containers") {
        const parsed = play(playbook);
        expect(parsed.vars.madengine_plan.models[0]!.secret_env).toEqual([
          "MAD_SECRETS_OLD",
          "MAD_SECRETS_TOKEN",
          "HF_PASSWORD",
        ]);
        expect(parsed.vars.madengine_secret_env).toEqual({
          HF_PASSWORD: "{{ lookup('env', 'HF_PASSWORD') }}",
          MAD_SECRETS_OLD: "{{ lookup('env', 'MAD_SECRETS_OLD') }}",
          MAD_SECRETS_TOKEN: "{{ lookup('env', 'MAD_SECRETS_TOKEN') }}",
        });
        const options = parsed.vars.madengine_plan.models[0]!.docker_options;
        expect(options).toContain("VISIBLE=yes");
        expect(options.slice(-2)).toEqual(["--env", "HF_PASSWORD"]);
        const run = parsed.tasks[0]!.block!.find((task) => task.name.startsWith("Run each model"))!;
        expect(run.no_log).toBe(true);
      } else {
        const context = play(playbook).vars.madengine_context as { docker_env_vars: Record<string, string> };
        expect(context.docker_env_vars).toEqual({ VISIBLE: "yes" });
      }
    }
  });

  it("fails with clear errors on bad inputs", async () => {
    const zoo = zooCopy();
    const dir = scratchDir();
    const missing = await generateAnsible({ manifestFile: path.join(dir, "nope.json"), madRoot: zoo }).catch(
      (e) => e,
    );
    expect(missing).toBeInstanceOf(MadError);
    expect(missing.code).toBe("FILE_NOT_FOUND");
    writeFileSync(path.join(dir, "bad.json"), JSON.stringify({ built_images: [] }));
    const bad = await generateAnsible({ manifestFile: path.join(dir, "bad.json"), madRoot: zoo }).catch(
      (e) => e,
    );
    expect(bad.code).toBe("INVALID_FILE");
    expect(bad.message).toMatch(/bad\.json: built_images/);
    const { file } = await writeManifest(zoo, dir, ["dummy"], { guest_os: "UBUNTU" });
    const noVendor = await generateAnsible({ manifestFile: file, madRoot: zoo }).catch((e) => e);
    expect(noVendor.code).toBe("CONTEXT_INVALID");
    expect(noVendor.hint).toContain("gpu_vendor");
    await expect(
      generateAnsible({
        manifestFile: file,
        madRoot: zoo,
        withInventory: true,
        contextOverride: { gpu_vendor: "NONE" },
      }),
    ).rejects.toThrow(/--with-inventory needs --nodes/);
    await expect(
      generateAnsible({
        manifestFile: file,
        madRoot: zoo,
        mode: "pods" as never,
        contextOverride: { gpu_vendor: "NONE" },
      }),
    ).rejects.toThrow(/--mode pods/);
    await expect(
      generateAnsible({
        manifestFile: file,
        madRoot: zoo,
        timeoutSec: -3,
        contextOverride: { gpu_vendor: "NONE" },
      }),
    ).rejects.toThrow(/--timeout -3/);
  });

  it("inventory and ansible.cfg helpers refuse what they cannot write", () => {
    expect(() => inventoryFromNodes([], "nodes.json")).toThrow(/no nodes/);
    expect(() => ansibleCfg({ inventory: "i", knownHosts: 'a"b' })).toThrow(/--known-hosts/);
  });
});
