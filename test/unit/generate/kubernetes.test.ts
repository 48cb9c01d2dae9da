import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { MadError } from "../../../shared/errors.js";
import type { Context } from "../../../shared/schemas/context.js";
import { exportExecutionConfig } from "../../../src-main/engine/generate/exportConfig.js";
import {
  isConfigMapKey,
  isLabelKey,
  isLabelValue,
  sanitizeLabelValue,
} from "../../../src-main/engine/generate/k8sNames.js";
import { buildKubernetesObjects, generateKubernetes } from "../../../src-main/engine/generate/kubernetes.js";
import { scratchDir, writeManifest, zooCopy } from "./fixtures.js";

const TAGS = ["dummies", "failing"];

async function setup(context?: Context, tags = TAGS) {
  const zoo = zooCopy();
  const dir = scratchDir();
  const { file, manifest } = await writeManifest(zoo, dir, tags, context);
  return { zoo, dir, file, manifest };
}

function documents(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(file, "utf8")).map((doc) => doc.toJS() as Record<string, unknown>);
}

type AnyJob = {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    backoffLimit: number;
    activeDeadlineSeconds?: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        restartPolicy: string;
        nodeSelector?: Record<string, string>;
        imagePullSecrets?: { name: string }[];
        initContainers: { command: string[] }[];
        containers: {
          image: string;
          command: string[];
          workingDir: string;
          env: { name: string; value?: string; valueFrom?: unknown }[];
          resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
        }[];
        volumes: { name: string; configMap?: { name: string; items: { key: string; path: string }[] } }[];
      };
    };
  };
};

const VENDORS: [string, Context, string | undefined][] = [
  [
    "AMD",
    { gpu_vendor: "AMD", docker_env_vars: { MAD_SYSTEM_NGPUS: 8, MAD_SYSTEM_GPU_ARCHITECTURE: "gfx942" } },
    "amd.com/gpu",
  ],
  ["NVIDIA", { gpu_vendor: "NVIDIA", docker_env_vars: { MAD_SYSTEM_NGPUS: 4 } }, "nvidia.com/gpu"],
  ["NONE", { gpu_vendor: "NONE" }, undefined],
];

describe("generate k8s", () => {
  for (const [vendor, context, resource] of VENDORS) {
    it(`writes objects that validate against the Kubernetes schemas (${vendor})`, async () => {
      const t = await setup(context);
      const out = path.join(t.dir, "k8s");
      const result = await generateKubernetes({
        manifestFile: t.file,
        madRoot: t.zoo,
        outputDir: out,
        namespace: "bench-ns",
        runId: "run-1",
        nodeSelectors: ["accelerator=mi300x", "kubernetes.io/arch=amd64"],
        cpuRequest: "2",
        cpuLimit: "4",
        memoryRequest: "8Gi",
        memoryLimit: "16Gi",
        imagePullSecret: "regcred",
        contextOverride: { docker_env_vars: {} },
      });
      expect(result.files.map((file) => path.basename(file))).toEqual([
        "k8s-madengine-configmap.yaml",
        "k8s-madengine-job.yaml",
      ]);
      const [namespace, configMap, ...rest] = documents(result.files[0]!);
      expect(rest).toEqual([]);
      expect(namespace).toMatchObject({ kind: "Namespace", metadata: { name: "bench-ns" } });
      expect(configMap).toMatchObject({ kind: "ConfigMap", metadata: { namespace: "bench-ns" } });
      new Namespace(namespace as never).validate();
      new ConfigMap(configMap as never).validate();
      const data = (configMap as { data: Record<string, string> }).data;
      // the real manifest, parsed back
      expect(JSON.parse(data["manifest.json"]!)).toEqual(t.manifest);
      for (const key of Object.keys(data)) expect(isConfigMapKey(key)).toBe(true);

      const jobs = documents(result.files[1]!) as unknown as AnyJob[];
      expect(jobs).toHaveLength(Object.keys(t.manifest.built_images).length);
      expect(new Set(jobs.map((job) => job.metadata.name)).size).toBe(jobs.length);
      for (const job of jobs) {
        new Job(job as never).validate();
        const image = job.metadata.annotations["madengine/image"]!;
        const info = t.manifest.built_images[image]!;
        const model = t.manifest.built_models[image]!;
        const pod = job.spec.template.spec;
        const container = pod.containers[0]!;
        expect(container.image).toBe(`${info.registry_image}@${info.registry_digest}`);
        expect(container.command.slice(0, 2)).toEqual(["sh", "-c"]);
        expect(container.command[2]).toContain("::madengine:: model-start");
        expect(container.workingDir).toBe("/myworkspace");
        expect(pod.restartPolicy).toBe("Never");
        expect(job.spec.backoffLimit).toBe(0);
        expect(job.spec.activeDeadlineSeconds).toBe(model.timeout ?? 7200);
        expect(pod.nodeSelector).toEqual({ accelerator: "mi300x", "kubernetes.io/arch": "amd64" });
        expect(pod.imagePullSecrets).toEqual([{ name: "regcred" }]);
        expect(container.resources?.requests).toEqual({ cpu: "2", memory: "8Gi" });
        const limits = container.resources?.limits ?? {};
        if (resource) expect(limits[resource]).toBe(1);
        else expect(Object.keys(limits).filter((key) => key.endsWith("/gpu"))).toEqual([]);
        expect(limits).toMatchObject({ cpu: "4", memory: "16Gi" });
        expect(container.env.find((env) => env.name === "MAD_GPU_VENDOR")?.value).toBe(vendor);
        for (const labels of [job.metadata.labels, job.spec.template.metadata.labels]) {
          expect(labels).toMatchObject({
            "app.kubernetes.io/name": "madengine",
            "madengine/run-id": "run-1",
            "madengine/model": sanitizeLabelValue(model.name),
          });
          for (const [key, value] of Object.entries(labels)) {
            expect(isLabelKey(key)).toBe(true);
            expect(isLabelValue(value)).toBe(true);
          }
        }
        // every script the model needs is in the ConfigMap, mounted back at its path
        const items = pod.volumes.find((volume) => volume.configMap)!.configMap!.items;
        const scriptsDir = path.posix.dirname(model.scripts);
        for (const name of readdirSync(path.join(t.zoo, scriptsDir))) {
          const item = items.find((entry) => entry.path === `${scriptsDir}/${name}`);
          expect(item, `${scriptsDir}/${name}`).toBeDefined();
          expect(data[item!.key]).toBe(readFileSync(path.join(t.zoo, scriptsDir, name), "utf8"));
        }
        expect(items).toContainEqual({ key: "manifest.json", path: "build_manifest.json" });
        expect(pod.initContainers[0]!.command).toContain("scripts");
      }
    });
  }

  it('gives n_gpus "-1" all GPUs of a node (--gpus-per-node) and sanitizes label values', async () => {
    const t = await setup({ gpu_vendor: "AMD" }, ["dummy", "family/model_a"]);
    const objects = await buildKubernetesObjects({
      manifestFile: t.file,
      madRoot: t.zoo,
      gpusPerNode: 8,
      runId: "r",
      contextOverride: {},
    });
    expect(objects.jobs).toHaveLength(2);
    const family = objects.jobs.find(
      (job) => job.metadata?.annotations?.["madengine/model-name"] === "family/model_a",
    )!;
    expect(family.metadata!.labels!["madengine/model"]).toBe("family_model_a");
    // the fixture's models ask for 1 GPU; a "-1" model gets the node's 8
    const t2 = await setup({ gpu_vendor: "NVIDIA" }, ["dummy"]);
    const manifest = JSON.parse(readFileSync(t2.file, "utf8"));
    for (const model of Object.values(manifest.built_models) as { n_gpus: string }[]) model.n_gpus = "-1";
    writeFileSync(t2.file, JSON.stringify(manifest));
    const all = await buildKubernetesObjects({
      manifestFile: t2.file,
      madRoot: t2.zoo,
      gpusPerNode: 8,
      runId: "r",
    });
    expect(all.jobs[0]!.spec!.template.spec!.containers[0]!.resources!.limits!["nvidia.com/gpu"]).toBe(8);
    const env = all.jobs[0]!.spec!.template.spec!.containers[0]!.env!;
    expect(env.find((entry) => entry.name === "MAD_RUNTIME_NGPUS")?.value).toBe("8");
    expect(sanitizeLabelValue("a/b c:d")).toBe("a_b_c_d");
    expect(sanitizeLabelValue(`x${"y".repeat(100)}`).length).toBeLessThanOrEqual(63);
    expect(isLabelValue(sanitizeLabelValue(`-${"é".repeat(80)}-`))).toBe(true);
  });

  it("rejects a broken option before writing anything, naming the option", async () => {
    const t = await setup({ gpu_vendor: "AMD" });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ gpusPerNode: -2 }, /--gpus-per-node -2/],
      [{ gpusPerNode: 0 }, /--gpus-per-node 0/],
      [{ namespace: "Bad_Namespace" }, /--namespace "Bad_Namespace"/],
      [{ namespace: "x".repeat(64) }, /--namespace/],
      [{ nodeSelectors: ["no-equals"] }, /--node-selector "no-equals"/],
      [{ nodeSelectors: ["gpu=bad value"] }, /--node-selector "gpu=bad value"/],
      [{ cpuRequest: "-1" }, /--cpu-request "-1"/],
      [{ memoryLimit: "lots" }, /--memory-limit "lots"/],
      [{ memoryRequest: "8Gi", memoryLimit: "4Gi" }, /--memory-request 8Gi is more than --memory-limit 4Gi/],
      [{ imagePullSecret: "Not_Valid" }, /--image-pull-secret "Not_Valid"/],
      [{ timeoutSec: -5 }, /--timeout -5/],
      [{ runId: "bad run id" }, /--run-id "bad run id"/],
    ];
    for (const [options, message] of cases) {
      const out = path.join(t.dir, "never");
      const error = await generateKubernetes({
        manifestFile: t.file,
        madRoot: t.zoo,
        outputDir: out,
        ...options,
      }).catch((problem: unknown) => problem);
      expect(error, JSON.stringify(options)).toBeInstanceOf(MadError);
      expect((error as MadError).message).toMatch(message);
      expect((error as MadError).code).toBe("INVALID_ARGS");
      expect(existsSync(out)).toBe(false);
    }
  });

  it("refuses a model that needs more GPUs than a node has, and a manifest image that was not pushed", async () => {
    const t = await setup({ gpu_vendor: "AMD" }, ["dummy"]);
    const manifest = JSON.parse(readFileSync(t.file, "utf8"));
    const image = Object.keys(manifest.built_models)[0]!;
    manifest.built_models[image].n_gpus = "4";
    writeFileSync(t.file, JSON.stringify(manifest));
    await expect(
      buildKubernetesObjects({ manifestFile: t.file, madRoot: t.zoo, gpusPerNode: 2 }),
    ).rejects.toThrow(/needs 4 GPUs, but a node has 2 \(--gpus-per-node\)/);
    delete manifest.built_images[image].registry_image;
    writeFileSync(t.file, JSON.stringify(manifest));
    await expect(
      buildKubernetesObjects({ manifestFile: t.file, madRoot: t.zoo, gpusPerNode: 8 }),
    ).rejects.toThrow(/was not pushed to a registry/);
  });

  it("passes secrets by name from a Secret and never writes their values", async () => {
    const t = await setup({ gpu_vendor: "NONE" }, ["dummy"]);
    const manifest = JSON.parse(readFileSync(t.file, "utf8"));
    const image = Object.keys(manifest.built_models)[0]!;
    manifest.built_models[image].cred = "HF";
    manifest.context.docker_env_vars.MAD_SECRETS_FROM_MANIFEST = "manifest-secret-value";
    writeFileSync(t.file, JSON.stringify(manifest));
    writeFileSync(
      path.join(t.zoo, "credential.json"),
      JSON.stringify({ HF: { username: "hf-user", password: "hf-password-value" } }),
    );
    const out = path.join(t.dir, "k8s");
    await generateKubernetes({
      manifestFile: t.file,
      madRoot: t.zoo,
      outputDir: out,
      contextOverride: { docker_env_vars: { MAD_SECRETS_TOKEN: "env-secret-value" } },
      contextSecretNames: ["MAD_SECRETS_TOKEN"],
      env: { MAD_SECRETS_TOKEN: "env-secret-value" },
    });
    const text = readdirSync(out)
      .map((file) => readFileSync(path.join(out, file), "utf8"))
      .join("\n");
    for (const secret of ["env-secret-value", "hf-password-value", "manifest-secret-value"])
      expect(text).not.toContain(secret);
    const job = documents(path.join(out, "k8s-madengine-job.yaml"))[0] as unknown as AnyJob;
    const env = job.spec.template.spec.containers[0]!.env;
    for (const name of ["MAD_SECRETS_TOKEN", "MAD_SECRETS_FROM_MANIFEST", "HF_USERNAME", "HF_PASSWORD"]) {
      expect(env.find((entry) => entry.name === name)).toEqual({
        name,
        valueFrom: { secretKeyRef: { name: "madengine-secrets", key: name, optional: true } },
      });
    }
  });

  it("merges the execution config's context over the manifest's (export-config, then generate)", async () => {
    const t = await setup({ gpu_vendor: "NONE" }, ["dummy"]);
    const configFile = path.join(t.dir, "execution_config.json");
    await exportExecutionConfig({
      madRoot: t.zoo,
      tags: ["dummy"],
      additionalContext: '{"gpu_vendor": "NVIDIA", "docker_env_vars": {"MAD_SYSTEM_NGPUS": 8}}',
      output: configFile,
      env: { MAD_SECRETS_A: "exported-secret-value" },
    });
    const objects = await buildKubernetesObjects({
      manifestFile: t.file,
      executionConfigFile: configFile,
      madRoot: t.zoo,
      runId: "r",
    });
    const container = objects.jobs[0]!.spec!.template.spec!.containers[0]!;
    expect(container.resources!.limits!["nvidia.com/gpu"]).toBe(1);
    expect(container.env!.find((entry) => entry.name === "MAD_SYSTEM_NGPUS")?.value).toBe("8");
    expect(JSON.parse(objects.configMap.data!["execution-config.json"]!).context.gpu_vendor).toBe("NVIDIA");
    expect(JSON.stringify(objects)).not.toContain("exported-secret-value");
    await expect(
      buildKubernetesObjects({
        manifestFile: t.file,
        executionConfigFile: path.join(t.dir, "none.json"),
        madRoot: t.zoo,
      }),
    ).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
  });

  it("never puts credential.json into the ConfigMap, even for a model whose script sits at the MAD root", async () => {
    const t = await setup({ gpu_vendor: "NONE" }, ["dummy"]);
    writeFileSync(path.join(t.zoo, "run_root.sh"), "echo performance: 1 x\n");
    writeFileSync(
      path.join(t.zoo, "credential.json"),
      JSON.stringify({ x: { password: "root-level-secret" } }),
    );
    const manifest = JSON.parse(readFileSync(t.file, "utf8"));
    const image = Object.keys(manifest.built_models)[0]!;
    manifest.built_models[image].scripts = "run_root.sh";
    writeFileSync(t.file, JSON.stringify(manifest));
    const objects = await buildKubernetesObjects({ manifestFile: t.file, madRoot: t.zoo, runId: "r" });
    const items = objects.jobs[0]!.spec!.template.spec!.volumes![0]!.configMap!.items!.map(
      (item) => item.path,
    );
    expect(items).toContain("run_root.sh");
    expect(items).toContain("models.json");
    expect(items).not.toContain("credential.json");
    expect(items.some((item) => item.startsWith("docker/"))).toBe(false);
    expect(JSON.stringify(objects.configMap)).not.toContain("root-level-secret");
  });

  it("keeps a non-UTF-8 script as binaryData and refuses a ConfigMap over 1 MiB", async () => {
    const t = await setup({ gpu_vendor: "NONE" }, ["dummy"]);
    writeFileSync(path.join(t.zoo, "scripts", "dummy", "blob.bin"), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    const objects = await buildKubernetesObjects({ manifestFile: t.file, madRoot: t.zoo, runId: "r" });
    const binary = objects.configMap.binaryData!;
    expect(Object.values(binary)).toContain(Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString("base64"));
    writeFileSync(path.join(t.zoo, "scripts", "dummy", "big.txt"), "x".repeat(1100 * 1024));
    await expect(buildKubernetesObjects({ manifestFile: t.file, madRoot: t.zoo })).rejects.toThrow(
      /more than a ConfigMap can hold/,
    );
  });
});
