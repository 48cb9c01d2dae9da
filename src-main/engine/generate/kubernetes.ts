/**
 * `generate k8s`: Kubernetes objects that run a build manifest, one batch/v1 Job per model image.
 *
 * `k8s-madengine-configmap.yaml` holds the Namespace (first, since the rest lives in it) and a
 * ConfigMap with the real manifest and every script the models need (paths flattened into valid
 * keys, mapped back into place with `items`). `k8s-madengine-job.yaml` holds the Jobs: the image
 * pinned by digest, the run phase's in-container script as the command in /myworkspace (an emptyDir
 * that an init container fills from the ConfigMap), the run phase's environment, the wall clock as
 * `activeDeadlineSeconds`, GPUs as `amd.com/gpu` / `nvidia.com/gpu`, no restarts. Every object is
 * checked against the official schemas (kubernetes-models) and the API server's name and label rules
 * before a file is written.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IKeyToPath } from "kubernetes-models/v1/KeyToPath";
import { type INamespace, Namespace } from "kubernetes-models/v1/Namespace";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import { stringify } from "yaml";
import { MadError } from "../../../shared/errors.js";
import type { Context } from "../../../shared/schemas/context.js";
import { WORKSPACE_PATH } from "../run/container/containerSpec.js";
import {
  checkGpusPerNode,
  type GenerationInputs,
  loadGenerationInputs,
  stripContextSecrets,
} from "./inputs.js";
import {
  checkNamespace,
  checkQuantity,
  checkSubdomainName,
  configMapKeyFor,
  isConfigMapKey,
  isLabelKey,
  isLabelValue,
  parseNodeSelectors,
  sanitizeDnsLabel,
  sanitizeLabelValue,
} from "./k8sNames.js";
import { MAD_ROOT_PLACEHOLDER, type ModelPlan, planModels } from "./modelPlans.js";

export const CONFIGMAP_FILE = "k8s-madengine-configmap.yaml";
export const JOB_FILE = "k8s-madengine-job.yaml";
export const DEFAULT_NAMESPACE = "madengine";
export const DEFAULT_SECRET_NAME = "madengine-secrets";
/** Where the ConfigMap is mounted (read-only) before the init container copies it into /myworkspace. */
export const CONFIG_MOUNT = "/madengine/config";
/** The API server refuses ConfigMaps over 1 MiB (keys and values together). */
const CONFIGMAP_LIMIT_BYTES = 1024 * 1024 - 16 * 1024;

export interface GenerateK8sOptions {
  manifestFile: string;
  executionConfigFile?: string | undefined;
  madRoot: string;
  namespace?: string | undefined;
  outputDir?: string | undefined;
  /** key=value. */
  nodeSelectors?: readonly string[] | undefined;
  cpuRequest?: string | undefined;
  cpuLimit?: string | undefined;
  memoryRequest?: string | undefined;
  memoryLimit?: string | undefined;
  imagePullSecret?: string | undefined;
  /** The Secret that holds MAD_SECRETS* and credential values (by key = variable name). */
  secretName?: string | undefined;
  /** GPUs for n_gpus "-1" (all GPUs of a node). Default: the context's MAD_SYSTEM_NGPUS, else 1. */
  gpusPerNode?: number | undefined;
  timeoutSec?: number | undefined;
  registry?: string | undefined;
  /** Run pods on the host network, as `docker run --network host` does. */
  hostNetwork?: boolean;
  contextOverride?: Context | undefined;
  contextSecretNames?: readonly string[] | undefined;
  runId?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface KubernetesObjects {
  namespace: INamespace;
  configMap: IConfigMap;
  jobs: IJob[];
  notes: string[];
  runId: string;
}

export const GPU_RESOURCE = { AMD: "amd.com/gpu", NVIDIA: "nvidia.com/gpu" } as const;

const CPU_EXAMPLE = "2 (or 500m)";
const MEMORY_EXAMPLE = "16Gi";
const UNITS: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** A checked quantity as a number (for comparing requests and limits). */
function quantityValue(text: string): number {
  const match = /^\+?([0-9.]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$/.exec(text);
  if (!match) return Number.NaN;
  const suffix = match[2] ?? "";
  if (/^[eE]/.test(suffix)) return Number(`${match[1]}${suffix}`);
  return Number(match[1]) * (UNITS[suffix] ?? 1);
}

function checkRequestLimit(
  request: string | undefined,
  limit: string | undefined,
  what: string,
  example: string,
): { request?: string; limit?: string } {
  const out: { request?: string; limit?: string } = {};
  if (request !== undefined) out.request = checkQuantity(request, `--${what}-request`, example);
  if (limit !== undefined) out.limit = checkQuantity(limit, `--${what}-limit`, example);
  if (
    out.request !== undefined &&
    out.limit !== undefined &&
    quantityValue(out.request) > quantityValue(out.limit)
  ) {
    throw new MadError(
      "INVALID_ARGS",
      `--${what}-request ${out.request} is more than --${what}-limit ${out.limit}; Kubernetes refuses a request above its limit`,
      { hint: `raise --${what}-limit or lower --${what}-request` },
    );
  }
  return out;
}

/** A run id as given, or the time now (UTC, YYYYMMDD-HHMMSS); it must be usable as a label value. */
export function defaultRunId(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace("T", "-")
    .replace(/\.\d+Z$/, "");
}

function checkRunId(runId: string): string {
  if (!isLabelValue(runId) || runId === "") {
    throw new MadError(
      "INVALID_ARGS",
      `--run-id ${JSON.stringify(runId)}: it labels every object, so it must be at most 63 of letters, digits, '.', '_' and '-', starting and ending with a letter or digit`,
      { hint: "e.g. --run-id nightly-42" },
    );
  }
  return runId;
}

function gpuCountFor(plan: ModelPlan, inputs: GenerationInputs, gpusPerNode: number): number {
  if (inputs.vendor === "NONE") return 0;
  const text = plan.model.n_gpus.trim();
  const wanted = Number(text);
  if (!/^-?\d+$/.test(text) || wanted < -1) {
    throw new MadError(
      "INVALID_FILE",
      `model ${plan.model.name}: n_gpus ${JSON.stringify(plan.model.n_gpus)} is not a GPU count; expected "0", "1", ... or "-1" for all GPUs of a node`,
      { path: `built_models["${plan.image}"].n_gpus`, hint: "fix n_gpus in models.json and build again" },
    );
  }
  const count = wanted === -1 ? gpusPerNode : wanted;
  if (count > gpusPerNode) {
    throw new MadError(
      "INVALID_ARGS",
      `model ${plan.model.name} needs ${count} GPUs, but a node has ${gpusPerNode} (--gpus-per-node): its Job could never be scheduled`,
      { hint: `pass --gpus-per-node ${count} (or more) if your nodes have that many GPUs` },
    );
  }
  return count;
}

/** Reads a file of the MAD root for the ConfigMap: text as data, anything else as binaryData. */
async function fileEntry(
  madRoot: string,
  relative: string,
): Promise<{ text?: string; base64?: string; bytes: number }> {
  const content = await readFile(path.join(madRoot, relative));
  const text = content.toString("utf8");
  if (Buffer.from(text, "utf8").equals(content) && !text.includes("\0"))
    return { text, bytes: content.length };
  return { base64: content.toString("base64"), bytes: content.length };
}

function envList(env: readonly string[], secretNames: readonly string[], secretName: string): IEnvVar[] {
  const out: IEnvVar[] = env.map((entry) => {
    const eq = entry.indexOf("=");
    return { name: entry.slice(0, eq), value: entry.slice(eq + 1) };
  });
  for (const name of secretNames) {
    out.push({ name, valueFrom: { secretKeyRef: { name: secretName, key: name, optional: true } } });
  }
  return out;
}

function securityContext(plan: ModelPlan, notes: Set<string>): ISecurityContext {
  const spec = plan.spec;
  const host = spec.HostConfig ?? {};
  const context: ISecurityContext = {};
  const user = spec.User;
  if (user !== undefined) {
    const match = /^(\d+)(?::(\d+))?$/.exec(user);
    if (user === "root") context.runAsUser = 0;
    else if (match) {
      context.runAsUser = Number(match[1]);
      if (match[2] !== undefined) context.runAsGroup = Number(match[2]);
    } else notes.add(`user ${user}: Kubernetes needs a numeric user id, so the image's default user is used`);
  }
  if (host.Privileged) context.privileged = true;
  const add = host.CapAdd ?? [];
  const drop = host.CapDrop ?? [];
  if (add.length > 0 || drop.length > 0)
    context.capabilities = {
      ...(add.length > 0 ? { add: [...add] } : {}),
      ...(drop.length > 0 ? { drop: [...drop] } : {}),
    };
  for (const option of host.SecurityOpt ?? []) {
    if (/^seccomp[=:]unconfined$/.test(option)) context.seccompProfile = { type: "Unconfined" };
    else if (/^apparmor[=:]unconfined$/.test(option)) context.appArmorProfile = { type: "Unconfined" };
    else notes.add(`security option ${option} has no Kubernetes form and is left out`);
  }
  return context;
}

interface JobInput {
  plan: ModelPlan;
  inputs: GenerationInputs;
  namespace: string;
  runId: string;
  configMapName: string;
  items: IKeyToPath[];
  gpus: number;
  resources: { cpu: { request?: string; limit?: string }; memory: { request?: string; limit?: string } };
  nodeSelector: Record<string, string>;
  imagePullSecret: string | undefined;
  secretName: string;
  hostNetwork: boolean;
  notes: Set<string>;
}

function jobName(plan: ModelPlan, runId: string): string {
  const hash = createHash("sha256").update(`${plan.image}\0${runId}`).digest("hex").slice(0, 8);
  return `madengine-${sanitizeDnsLabel(plan.model.name, 42)}-${hash}`;
}

function buildJob(input: JobInput): IJob {
  const { plan, notes } = input;
  const host = plan.spec.HostConfig ?? {};
  const labels = {
    "app.kubernetes.io/name": "madengine",
    "app.kubernetes.io/component": "model-run",
    "app.kubernetes.io/managed-by": "madengine-cli",
    "madengine/run-id": sanitizeLabelValue(input.runId),
    "madengine/model": sanitizeLabelValue(plan.model.name),
  };
  const annotations = {
    "madengine/model-name": plan.model.name,
    "madengine/image": plan.image,
    "madengine/manifest": path.basename(input.inputs.manifestFile),
  };
  const volumes: IVolume[] = [
    {
      name: "madengine-config",
      configMap: { name: input.configMapName, items: input.items, defaultMode: 0o755 },
    },
    { name: "workspace", emptyDir: {} },
  ];
  const mounts: IVolumeMount[] = [{ name: "workspace", mountPath: WORKSPACE_PATH }];
  // the run phase's binds: the workspace becomes the emptyDir; context and data mounts become hostPath
  let hostPathIndex = 0;
  for (const bind of host.Binds ?? []) {
    const [source, target, mode] = bind.split(":") as [string, string, string | undefined];
    if (source === MAD_ROOT_PLACEHOLDER) continue;
    if (!source.startsWith("/")) {
      notes.add(`volume ${source} (a named Docker volume) has no Kubernetes form and is left out`);
      continue;
    }
    const name = `host-path-${hostPathIndex++}`;
    volumes.push({ name, hostPath: { path: source } });
    mounts.push({ name, mountPath: target, ...(mode?.split(",").includes("ro") ? { readOnly: true } : {}) });
  }
  if (host.ShmSize) {
    volumes.push({ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: String(host.ShmSize) } });
    mounts.push({ name: "dshm", mountPath: "/dev/shm" });
  }
  if (host.CpusetCpus)
    notes.add("docker_cpus (--cpuset-cpus) has no Kubernetes form; use --cpu-request/--cpu-limit");
  if ((host.Ulimits ?? []).length > 0) notes.add("ulimits have no Kubernetes form and are left out");
  const nonGpuDevices = (host.Devices ?? []).filter(
    (device: { PathOnHost: string }) => !/^\/dev\/(kfd|dri\/|fuse$)/.test(device.PathOnHost),
  );
  if (nonGpuDevices.length > 0)
    notes.add("device mappings other than GPUs have no Kubernetes form and are left out");

  const limits: Record<string, string | number> = {};
  const requests: Record<string, string | number> = {};
  if (input.gpus > 0 && input.inputs.vendor !== "NONE")
    limits[GPU_RESOURCE[input.inputs.vendor]] = input.gpus;
  if (input.resources.cpu.limit) limits.cpu = input.resources.cpu.limit;
  if (input.resources.memory.limit) limits.memory = input.resources.memory.limit;
  else if (host.Memory) limits.memory = String(host.Memory);
  if (input.resources.cpu.request) requests.cpu = input.resources.cpu.request;
  if (input.resources.memory.request) requests.memory = input.resources.memory.request;
  const security = securityContext(plan, notes);
  const stageTargets = [...new Set(input.items.map((item) => item.path.split("/")[0]!))].sort();
  const container: IContainer = {
    name: "model",
    image: plan.reference,
    imagePullPolicy: "IfNotPresent",
    command: [...(plan.spec.Cmd as string[])],
    workingDir: plan.spec.WorkingDir ?? WORKSPACE_PATH,
    env: envList(plan.spec.Env ?? [], plan.secretEnvNames, input.secretName),
    ...(Object.keys(limits).length + Object.keys(requests).length > 0
      ? {
          resources: {
            ...(Object.keys(limits).length > 0 ? { limits } : {}),
            ...(Object.keys(requests).length > 0 ? { requests } : {}),
          },
        }
      : {}),
    securityContext: security,
    volumeMounts: mounts,
  };
  const init: IContainer = {
    name: "stage-files",
    image: plan.reference,
    imagePullPolicy: "IfNotPresent",
    command: [
      "sh",
      "-c",
      'set -e; for item in "$@"; do cp -RL "/madengine/config/$item" /myworkspace/; done; chmod -R a+rwX /myworkspace',
      "stage-files",
      ...stageTargets,
    ],
    ...(security.runAsUser !== undefined ? { securityContext: { runAsUser: security.runAsUser } } : {}),
    volumeMounts: [
      { name: "madengine-config", mountPath: CONFIG_MOUNT, readOnly: true },
      { name: "workspace", mountPath: WORKSPACE_PATH },
    ],
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: jobName(plan, input.runId), namespace: input.namespace, labels, annotations },
    spec: {
      backoffLimit: 0,
      ...(plan.timeoutSec ? { activeDeadlineSeconds: plan.timeoutSec } : {}),
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: "Never",
          ...(host.IpcMode === "host" ? { hostIPC: true } : {}),
          ...(input.hostNetwork && host.NetworkMode === "host"
            ? { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }
            : {}),
          ...(Object.keys(input.nodeSelector).length > 0 ? { nodeSelector: input.nodeSelector } : {}),
          ...(input.imagePullSecret ? { imagePullSecrets: [{ name: input.imagePullSecret }] } : {}),
          initContainers: [init],
          containers: [container],
          volumes,
        },
      },
    },
  };
}

function checkLabels(object: { metadata?: { labels?: Record<string, string> } }, what: string): void {
  for (const [key, value] of Object.entries(object.metadata?.labels ?? {})) {
    if (!isLabelKey(key) || !isLabelValue(value)) {
      throw new MadError("INTERNAL", `${what}: label ${key}=${value} is not a valid Kubernetes label`, {
        hint: "a bug in the generator's label sanitizing",
      });
    }
  }
}

function validateObject(model: { validate(): void }, what: string): void {
  try {
    model.validate();
  } catch (error) {
    throw new MadError(
      "INTERNAL",
      `${what} does not match the Kubernetes schema: ${(error as Error).message}`,
      {
        hint: "a bug in the generator; the files were not written",
        cause: error,
      },
    );
  }
}

/** Builds and validates every object; nothing is written. */
export async function buildKubernetesObjects(options: GenerateK8sOptions): Promise<KubernetesObjects> {
  // options first: a bad option fails before any file is read
  const namespace = checkNamespace(options.namespace ?? DEFAULT_NAMESPACE);
  const nodeSelector = parseNodeSelectors(options.nodeSelectors ?? []);
  const cpu = checkRequestLimit(options.cpuRequest, options.cpuLimit, "cpu", CPU_EXAMPLE);
  const memory = checkRequestLimit(options.memoryRequest, options.memoryLimit, "memory", MEMORY_EXAMPLE);
  const imagePullSecret =
    options.imagePullSecret === undefined
      ? undefined
      : checkSubdomainName(options.imagePullSecret, "--image-pull-secret");
  const secretName = checkSubdomainName(options.secretName ?? DEFAULT_SECRET_NAME, "--secret-name");
  checkGpusPerNode(options.gpusPerNode);
  if (
    options.timeoutSec !== undefined &&
    (!Number.isSafeInteger(options.timeoutSec) || options.timeoutSec < 0)
  ) {
    throw new MadError(
      "INVALID_ARGS",
      `--timeout ${options.timeoutSec}: expected whole seconds, 0 for none`,
      {
        hint: "e.g. --timeout 3600 (it becomes each Job's activeDeadlineSeconds)",
      },
    );
  }
  const runId = checkRunId(options.runId ?? defaultRunId());

  const inputs = await loadGenerationInputs(options);
  const gpusPerNode = inputs.gpusPerNode;
  // on Kubernetes the device plugin hands out GPUs: plan with a node's GPU count, no docker_gpus list
  const k8sInputs: GenerationInputs = {
    ...inputs,
    context: { ...inputs.context, docker_gpus: undefined },
    facts: { ...inputs.facts, ngpus: inputs.vendor === "NONE" ? 0 : gpusPerNode },
  };
  const plans = await planModels(k8sInputs, {
    madRoot: options.madRoot,
    timeoutSec: options.timeoutSec,
    registry: options.registry,
    runId,
    deviceAssumption: "all-present",
    env: options.env ?? process.env,
  });
  const notes = new Set<string>(inputs.notes);
  const runnable: { plan: ModelPlan; gpus: number }[] = [];
  for (const plan of plans) {
    const gpus = gpuCountFor(plan, inputs, gpusPerNode);
    if (plan.skip) {
      notes.add(`${plan.model.name}: no Job (${plan.skip})`);
      continue;
    }
    if (plan.error) {
      throw new MadError("INVALID_FILE", plan.error, {
        hint: "fix the model or the MAD root; no files were written",
      });
    }
    runnable.push({ plan, gpus });
  }
  if (runnable.length === 0) {
    throw new MadError(
      "INVALID_FILE",
      `${options.manifestFile}: no model of the manifest can run, so there is no Job to write`,
      {
        hint: "build models first with madengine-cli build --tags ...",
      },
    );
  }

  const madRoot = path.resolve(options.madRoot);
  const configMapName = `madengine-config-${sanitizeDnsLabel(runId, 200)}`;
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const taken = new Set<string>(["manifest.json", "execution-config.json"]);
  data["manifest.json"] = `${JSON.stringify(inputs.manifest, null, 2)}\n`;
  if (inputs.executionConfig) {
    const config = {
      ...inputs.executionConfig,
      context: stripContextSecrets(inputs.executionConfig.context),
    };
    data["execution-config.json"] = `${JSON.stringify(config, null, 2)}\n`;
  }
  let bytes = Object.values(data).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  const keyOf = new Map<string, string>();
  for (const { plan } of runnable) {
    for (const file of plan.files) {
      if (keyOf.has(file)) continue;
      const key = configMapKeyFor(file, taken);
      keyOf.set(file, key);
      const entry = await fileEntry(madRoot, file);
      if (entry.text !== undefined) data[key] = entry.text;
      else binaryData[key] = entry.base64!;
      bytes += entry.bytes + key.length;
    }
  }
  if (bytes > CONFIGMAP_LIMIT_BYTES) {
    throw new MadError(
      "INVALID_ARGS",
      `the manifest and the models' scripts are ${bytes} bytes, more than a ConfigMap can hold (1 MiB)`,
      {
        hint: "generate fewer models at once (build a smaller manifest), or move large files out of the scripts directories",
      },
    );
  }
  for (const key of [...Object.keys(data), ...Object.keys(binaryData)]) {
    if (!isConfigMapKey(key))
      throw new MadError("INTERNAL", `ConfigMap key ${key} is not valid`, { hint: "a bug" });
  }
  const commonLabels = {
    "app.kubernetes.io/name": "madengine",
    "app.kubernetes.io/managed-by": "madengine-cli",
    "madengine/run-id": sanitizeLabelValue(runId),
  };
  const namespaceObject: INamespace = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace, labels: { "app.kubernetes.io/name": "madengine" } },
  };
  const configMap: IConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: configMapName,
      namespace,
      labels: commonLabels,
      annotations: { "madengine/manifest": path.basename(inputs.manifestFile) },
    },
    data,
    ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
  };
  const jobs = runnable.map(({ plan, gpus }) =>
    buildJob({
      plan,
      inputs,
      namespace,
      runId,
      configMapName,
      items: [
        { key: "manifest.json", path: "build_manifest.json" },
        ...plan.files.map((file) => ({ key: keyOf.get(file)!, path: file })),
      ],
      gpus,
      resources: { cpu, memory },
      nodeSelector,
      imagePullSecret,
      secretName,
      hostNetwork: options.hostNetwork === true,
      notes,
    }),
  );
  const names = new Set<string>();
  for (const job of jobs) {
    const name = job.metadata!.name!;
    if (names.has(name)) throw new MadError("INTERNAL", `two Jobs are named ${name}`, { hint: "a bug" });
    names.add(name);
  }

  validateObject(new Namespace(namespaceObject), `Namespace ${namespace}`);
  checkLabels(namespaceObject, `Namespace ${namespace}`);
  validateObject(new ConfigMap(configMap), `ConfigMap ${configMapName}`);
  checkLabels(configMap, `ConfigMap ${configMapName}`);
  for (const job of jobs) {
    validateObject(new Job(job), `Job ${job.metadata!.name}`);
    checkLabels(job, `Job ${job.metadata!.name}`);
    checkLabels(job.spec!.template, `Job ${job.metadata!.name} pod template`);
  }
  const secretNames = [...new Set(runnable.flatMap(({ plan }) => plan.secretEnvNames))];
  if (secretNames.length > 0) {
    notes.add(
      `the containers read ${secretNames.join(", ")} from the Secret ${secretName} (create it: kubectl -n ${namespace} create secret generic ${secretName} --from-literal=NAME=value ...)`,
    );
  }
  return { namespace: namespaceObject, configMap, jobs, notes: [...notes], runId };
}

function yamlDocuments(objects: readonly object[], header: string): string {
  return `${header}${objects.map((object) => stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n")}`;
}

export interface GenerateK8sResult {
  files: string[];
  jobs: string[];
  namespace: string;
  runId: string;
  notes: string[];
}

/** Writes k8s-madengine-configmap.yaml and k8s-madengine-job.yaml into the output directory. */
export async function generateKubernetes(options: GenerateK8sOptions): Promise<GenerateK8sResult> {
  const objects = await buildKubernetesObjects(options);
  const dir = path.resolve(options.outputDir ?? ".");
  const header = (what: string) =>
    `# ${what}, written by madengine-cli generate k8s (run ${objects.runId}).\n# Apply: kubectl apply -f ${CONFIGMAP_FILE} && kubectl apply -f ${JOB_FILE}\n`;
  const configText = yamlDocuments([objects.namespace, objects.configMap], header("Namespace and ConfigMap"));
  const jobText = yamlDocuments(objects.jobs, header(`${objects.jobs.length} Job(s), one per model image`));
  const files = [path.join(dir, CONFIGMAP_FILE), path.join(dir, JOB_FILE)];
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(files[0]!, configText);
    await writeFile(files[1]!, jobText);
  } catch (error) {
    throw new MadError(
      "INVALID_FILE",
      `${dir}: cannot write the Kubernetes files: ${(error as Error).message}`,
      {
        file: dir,
        hint: "check that --output-dir is writable",
        cause: error,
      },
    );
  }
  return {
    files,
    jobs: objects.jobs.map((job) => job.metadata!.name!),
    namespace: objects.namespace.metadata!.name!,
    runId: objects.runId,
    notes: objects.notes,
  };
}
