/**
 * One plan per manifest image: what the run phase would do for it, computed ahead of time on the
 * controller so that a generated file can do the same on a node. The container options come from
 * the run phase's own code (inContainerScript, buildContainerSpec, allocateGpus, the tools and data
 * planners), so a generated run and a `madengine-cli run` start the same container.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ContainerCreateOptions } from "dockerode";
import { MadError } from "../../../shared/errors.js";
import type { BuildInfo } from "../../../shared/schemas/manifest.js";
import { type ModelEntry, modelTags } from "../../../shared/schemas/model.js";
import type { PerfColumn } from "../../../shared/schemas/perf.js";
import { credentialEntry, isDockerHub, loadCredentials } from "../build/credentials.js";
import { containerName, runLogName } from "../build/names.js";
import { buildContainerSpec } from "../run/container/containerSpec.js";
import { splitShellWords } from "../run/container/dockerRunOptions.js";
import { allocateGpus } from "../run/container/gpuAllocation.js";
import { composeToolsAndScripts, TOOLS_FILE } from "../run/container/toolsAndScripts.js";
import { type DataPlan, loadDataConfig, planData } from "../run/dataProviders.js";
import { repositoryOf, withRegistry } from "../run/imageResolver.js";
import { inContainerScript } from "../run/inContainerScript.js";
import { effectiveTimeout, scriptLayout, skipReason } from "../run/runPhase.js";
import type { GenerationInputs } from "./inputs.js";
import { isExcludedMadPath } from "./madFiles.js";

/**
 * Stands for the MAD root's path on the node in the workspace bind (`<root>:/myworkspace`) until the
 * node's real path is known (Ansible resolves `~` on each host).
 */
export const MAD_ROOT_PLACEHOLDER = "/@madengine_mad_root@";

/** The perf.csv cells that are known before the run (the rest come from the run itself). */
export type RowTemplate = Record<PerfColumn, string>;

export interface ModelPlan {
  /** The manifest's image key (local tag), e.g. ci-dummy_dummy.ubuntu.none. */
  image: string;
  info: BuildInfo;
  model: ModelEntry;
  /** What is pulled: registry/repository@sha256:..., or the registry tag when no digest was recorded. */
  reference: string;
  /** The registry host of `reference` ("" for Docker Hub). */
  registry: string;
  /** `reference` without its registry host. */
  referencePath: string;
  digest: string | undefined;
  containerName: string;
  logName: string;
  modelDir: string;
  /** The POSIX sh program the container runs (the run phase's in-container script). */
  script: string;
  /** The Docker API create body, as the run phase would send it. */
  spec: ContainerCreateOptions & { name: string };
  /** Wall clock in seconds; undefined = none. */
  timeoutSec: number | undefined;
  /** Why the model is not run at all (deprecated, skip_gpu_arch); `skipRow` says if a SKIPPED row is written. */
  skip: string | undefined;
  skipRow: boolean;
  /** A reason the model fails before its container starts (e.g. more GPUs than a node has). */
  error: string | undefined;
  /** Device nodes the container needs on the node (AMD: /dev/kfd, render nodes). */
  requiredDevices: string[];
  /** Device nodes passed only when the node has them (/dev/fuse). */
  optionalDevices: string[];
  /** Host directories (local data providers) that must exist on the node. */
  requiredPaths: string[];
  /** GPUs the container gets (0 for CPU runs). */
  gpuCount: number;
  /** Environment variables whose values are secrets: passed by name, values supplied at run time. */
  secretEnvNames: string[];
  /** MAD-root-relative files this model needs inside the container (scripts, pre/post, data). */
  files: string[];
  row: RowTemplate;
}

export interface PlanOptions {
  /** The MAD root on this machine (scripts, tools.json, data.json, credential.json). */
  madRoot: string;
  /** Host path bound at /myworkspace on the node (default: the placeholder). */
  workspaceHostPath?: string;
  /** --timeout (0 none, undefined 7200); a model's own timeout wins. */
  timeoutSec?: number | undefined;
  /** --registry: pull from this registry (a mirror) instead of the manifest's. */
  registry?: string | undefined;
  runId?: string | undefined;
  /** Whether a device exists on the node (default: GPU devices yes, /dev/fuse optional). */
  deviceAssumption?: "node-checks" | "all-present";
  ignoreDeprecated?: boolean;
  disableSkipGpuArch?: boolean;
  dataConfig?: string | undefined;
  toolsConfig?: string | undefined;
  forceMirrorLocal?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

const OPTIONAL_DEVICES = ["/dev/fuse"];

function registryHostOf(reference: string): string {
  if (!reference.includes("/")) return "";
  const first = reference.split("/")[0]!;
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "";
}

/** Where an image is pulled from: by digest when the build recorded one. */
export function imageReference(
  image: string,
  info: BuildInfo,
  registryOverride: string | undefined,
): { reference: string; registry: string; referencePath: string; digest: string | undefined } {
  if (!info.registry_image) {
    throw new MadError(
      "INVALID_FILE",
      `image ${image} was not pushed to a registry (the manifest has no registry_image), so other machines cannot pull it`,
      {
        path: `built_images["${image}"].registry_image`,
        hint: "build with --registry <registry> so every node can pull the image by digest",
      },
    );
  }
  if (info.push_failed) {
    throw new MadError(
      "INVALID_FILE",
      `image ${image}: its push failed (${info.push_error ?? "no detail"})`,
      {
        path: `built_images["${image}"].push_failed`,
        hint: "fix the registry and build again with --registry",
      },
    );
  }
  const registryImage = registryOverride
    ? withRegistry(info.registry_image, registryOverride)
    : info.registry_image;
  const reference = info.registry_digest
    ? `${repositoryOf(registryImage)}@${info.registry_digest}`
    : registryImage;
  const registry = registryOverride && isDockerHub(registryOverride) ? "" : registryHostOf(reference);
  const referencePath = registry ? reference.slice(registry.length + 1) : reference;
  return { reference, registry, referencePath, digest: info.registry_digest };
}

/** Every file under a MAD-root-relative path (a file or a directory), sorted. */
export function listMadFiles(madRoot: string, relative: string): string[] {
  if (relative !== "." && isExcludedMadPath(path.posix.normalize(relative))) return [];
  const full = path.join(madRoot, relative);
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(full);
  } catch {
    return [];
  }
  if (info.isFile()) return [relative];
  if (!info.isDirectory()) return [];
  const out: string[] = [];
  for (const entry of readdirSync(full, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const child = path.posix.join(relative, entry.name);
    // never credential.json, VCS data, build inputs or what runs leave behind (a model whose scripts
    // live at the root would otherwise take the whole root)
    if (isExcludedMadPath(child)) continue;
    if (entry.isDirectory()) out.push(...listMadFiles(madRoot, child));
    else if (entry.isFile()) out.push(child);
  }
  return out;
}

function rowTemplate(
  model: ModelEntry,
  info: BuildInfo,
  inputs: GenerationInputs,
  data: DataPlan | undefined,
  env: NodeJS.ProcessEnv,
): RowTemplate {
  return {
    model: model.name,
    n_gpus: model.n_gpus,
    training_precision: model.training_precision ?? "",
    pipeline: env.pipeline ?? "",
    args: model.args,
    tags: modelTags(model).join(","),
    docker_file: info.dockerfile,
    base_docker: info.base_docker,
    docker_sha: info.docker_sha,
    docker_image: info.docker_image,
    git_commit: "",
    machine_name: "",
    gpu_architecture: inputs.facts.architecture,
    performance: "",
    metric: "",
    relative_change: "",
    status: "FAILURE",
    build_duration: String(info.build_duration),
    test_duration: "",
    dataname: data?.dataname ?? "",
    data_provider_type: data?.providerType ?? "",
    data_size: "",
    data_download_duration: "",
    build_number: env.BUILD_NUMBER ?? "0",
    additional_docker_run_options: model.additional_docker_run_options ?? "",
  };
}

/** Credential environment names of a model's `cred` (values stay in credential.json / the environment). */
function credentialEnvNames(model: ModelEntry, fields: string[] | undefined): string[] {
  if (!model.cred) return [];
  return (fields ?? ["username", "password"]).map((field) => `${model.cred}_${field.toUpperCase()}`);
}

/**
 * Plans every image of the manifest, in manifest order. Problems that the run phase would report as
 * a FAILURE row for one model (missing scripts, too many GPUs) become that plan's `error`; problems
 * with the inputs as a whole throw a MadError.
 */
export async function planModels(inputs: GenerationInputs, options: PlanOptions): Promise<ModelPlan[]> {
  const env = options.env ?? process.env;
  const madRoot = path.resolve(options.madRoot);
  const credentials = await loadCredentials(madRoot, env);
  const toolsFile = options.toolsConfig ? path.resolve(options.toolsConfig) : path.join(madRoot, TOOLS_FILE);
  const toolsJson = existsSync(toolsFile) ? await readFile(toolsFile, "utf8") : undefined;
  const composition = composeToolsAndScripts({ toolsJson, context: inputs.context });
  const dataConfig = await loadDataConfig(options.dataConfig, madRoot, inputs.context);
  const workspace = options.workspaceHostPath ?? MAD_ROOT_PLACEHOLDER;
  const assumeAll = options.deviceAssumption === "all-present";

  const plans: ModelPlan[] = [];
  for (const [image, info] of Object.entries(inputs.manifest.built_images)) {
    const model = inputs.manifest.built_models[image];
    if (!model) continue; // the run phase warns and skips such an image too
    const where = imageReference(image, info, options.registry);
    const layout = scriptLayout(model);
    const skip = skipReason(model, inputs.facts.architecture, options);
    let error: string | undefined;
    const requiredPaths: string[] = [];
    let data: DataPlan | undefined;
    try {
      data = await planData(
        model,
        dataConfig,
        {
          madRoot,
          fs: {
            exists: async (file) => existsSync(file),
            // a local data set lives on the node: the node checks it before the run
            isDirectory: async (dir) => {
              requiredPaths.push(dir);
              return true;
            },
          },
        },
        options.forceMirrorLocal,
      );
    } catch (problem) {
      error = (problem as Error).message;
    }
    if (!existsSync(path.join(madRoot, model.scripts))) {
      error ??= `model ${model.name}: its scripts path ${model.scripts} does not exist in the MAD root ${madRoot}`;
    }
    let gpuIds: number[] = [];
    try {
      gpuIds = allocateGpus({
        nGpus: model.n_gpus,
        dockerGpus: inputs.context.docker_gpus,
        systemGpus: inputs.facts.ngpus,
        vendor: inputs.vendor,
        modelName: model.name,
      }).ids;
    } catch (problem) {
      if (problem instanceof MadError && problem.code !== "RUN_FAILED") throw problem;
      error ??= (problem as Error).message;
    }
    const preScripts = composition.preScripts.map((step) => ({
      path: step.path,
      args: splitShellWords(step.args),
    }));
    const postScripts = composition.postScripts.map((step) => ({
      path: step.path,
      args: splitShellWords(step.args),
    }));
    const script = inContainerScript({
      modelDir: layout.modelDir,
      scriptsDir: layout.scriptsDir,
      script: layout.script,
      args: splitShellWords(inputs.context.model_args ?? model.args),
      commandPrefix: composition.commandPrefix.join(" "),
      ...(model.url ? { gitUrl: model.url } : {}),
      preScripts,
      dataSteps: data?.steps ?? [],
      postScripts,
      skipModelRun: false,
      keepAlive: false,
    });
    const name = containerName(image);
    const credentialFields = model.cred
      ? Object.entries(credentialEntry(credentials, model.cred) ?? {})
          .filter(([, value]) => typeof value === "string")
          .map(([field]) => field)
      : undefined;
    const secretEnvNames = [
      ...new Set([
        ...inputs.secretEnvNames,
        ...credentialEnvNames(model, credentialFields?.length ? credentialFields : undefined),
      ]),
    ];
    let spec: ContainerCreateOptions;
    try {
      spec = buildContainerSpec({
        image: where.reference,
        containerName: name,
        model,
        context: inputs.context,
        vendor: inputs.vendor,
        gpuIds: error ? [] : gpuIds,
        systemFacts: inputs.facts,
        madRootHostPath: workspace,
        cmd: ["sh", "-c", script, "madengine-run"],
        // secrets and credentials are added by name only (see secretEnvNames)
        env: { ...(data?.env ?? {}), ...composition.env },
        labels: {
          "org.madengine.model": model.name,
          "org.madengine.image": image,
          ...(options.runId ? { "org.madengine.run-id": options.runId } : {}),
        },
        mounts: data?.mounts ?? [],
        buildNumber: env.BUILD_NUMBER ?? "0",
        hostDevicesPresent: (device) => assumeAll || !OPTIONAL_DEVICES.includes(device),
      });
    } catch (problem) {
      if (!(problem instanceof MadError)) throw problem;
      throw new MadError(problem.code, `model ${model.name}: ${problem.message}`, {
        ...(problem.hint ? { hint: problem.hint } : {}),
        ...(problem.path ? { path: problem.path } : {}),
        cause: problem,
      });
    }
    const devices = (spec.HostConfig?.Devices ?? []).map(
      (device: { PathOnHost: string }) => device.PathOnHost,
    );
    const files = new Set<string>(listMadFiles(madRoot, layout.scriptsDir));
    for (const step of [...composition.preScripts, ...composition.postScripts])
      for (const file of listMadFiles(madRoot, step.path)) files.add(file);
    for (const step of data?.steps ?? [])
      for (const file of listMadFiles(madRoot, step.script)) files.add(file);
    plans.push({
      image,
      info,
      model,
      ...where,
      containerName: name,
      logName: runLogName(model.name, image),
      modelDir: layout.modelDir,
      script,
      spec: { ...spec, name },
      timeoutSec: effectiveTimeout(model, options.timeoutSec),
      skip,
      skipRow: skip !== undefined && (!model.is_deprecated || options.ignoreDeprecated === true),
      error,
      requiredDevices: devices,
      optionalDevices: inputs.vendor === "NONE" || assumeAll ? [] : [...OPTIONAL_DEVICES],
      requiredPaths,
      gpuCount: error ? 0 : gpuIds.length,
      secretEnvNames,
      files: [...files].sort(),
      row: rowTemplate(model, info, inputs, data, env),
    });
  }
  return plans;
}
