import path from "node:path";
import type { ContainerCreateOptions, DeviceRequest, HostConfig, Ulimit } from "dockerode";
import { MadError, type MadErrorCode } from "../../../../shared/errors.js";
import type { Context } from "../../../../shared/schemas/context.js";
import type { HostGpuVendor } from "../../../../shared/schemas/gpu.js";
import type { ModelEntry } from "../../../../shared/schemas/model.js";
import {
  type ContainerOverrides,
  type DeviceMapping,
  parseAdditionalDockerRunOptions,
  parseByteSize,
} from "./dockerRunOptions.js";
import { buildMultiNodeRunner } from "./multiNodeRunner.js";

/** Where the MAD root is mounted and the default working directory (spec §5.3). */
export const WORKSPACE_PATH = "/myworkspace";

/** Host facts that become MAD_SYSTEM_* variables (spec §3.3). */
export interface SystemFacts {
  ngpus: number;
  architecture: string;
  hipVersion: string;
}

/** A data-provider mount (spec §6.1). */
export interface DataMount {
  host: string;
  container: string;
  readOnly: boolean;
}

export interface ContainerSpecInput {
  image: string;
  containerName: string;
  model: Pick<ModelEntry, "name" | "additional_docker_run_options">;
  context: Context;
  vendor: HostGpuVendor;
  /** Host GPU ids given to this container (from `allocateGpus`). */
  gpuIds: number[];
  /** DRM render minor per GPU id (context `gpu_renderDs`); default `context.gpu_renderDs`, then 128 + id. */
  amdRenderNodes?: number[];
  systemFacts: SystemFacts;
  /** Absolute host path of the MAD root, mounted read-write at /myworkspace. */
  madRootHostPath: string;
  cmd: string[];
  /** Default /myworkspace. */
  workingDir?: string;
  /** Extra run environment: data providers, credentials, tool env vars (in that order). */
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Data-provider mounts. */
  mounts?: DataMount[];
  /** JENKINS_BUILD_NUMBER; default "0". */
  buildNumber?: string;
  /** Whether a device node (e.g. /dev/kfd) exists on the host the container will run on. */
  hostDevicesPresent: (path: string) => boolean;
}

const MULTI_NODE_PREFIX = "MAD_MULTI_NODE_";
const MULTI_NODE_RUNNER = "MAD_MULTI_NODE_RUNNER";

class EnvBuilder {
  readonly values = new Map<string, string>();

  set(key: string, value: string, source: string, code: MadErrorCode): void {
    if (key === "" || key.includes("=") || key.includes("\0")) {
      throw new MadError(code, `${source}: ${JSON.stringify(key)} is not a valid environment variable name`, {
        hint: "use a name without '=' such as MY_VAR",
      });
    }
    if (value.includes("\0")) {
      throw new MadError(
        code,
        `${source}: the value of ${key} contains a NUL byte, which no environment can hold`,
        {
          hint: `remove the NUL byte from ${key}`,
        },
      );
    }
    this.values.set(key, value);
  }

  toArray(): string[] {
    return [...this.values].map(([key, value]) => `${key}=${value}`);
  }
}

/** Binds keyed by container path (normalised), so a later mount of the same path replaces an earlier one. */
class BindList {
  private readonly binds = new Map<string, string>();

  add(bind: string): void {
    const container = bind.split(":")[1] ?? bind;
    this.binds.set(path.posix.normalize(container).replace(/(.)\/$/, "$1"), bind);
  }

  toArray(): string[] {
    return [...this.binds.values()];
  }
}

function checkMountPath(value: string, what: string, code: MadErrorCode, where: string): string {
  if (!value.startsWith("/") || value.includes(":")) {
    throw new MadError(
      code,
      `${where}: ${what} ${JSON.stringify(value)} must be an absolute path without ':'`,
      {
        hint: "use absolute paths for both sides of a mount",
      },
    );
  }
  return value;
}

function deviceMapping(devicePath: string): DeviceMapping {
  return { PathOnHost: devicePath, PathInContainer: devicePath, CgroupPermissions: "rwm" };
}

function gpus(count: number): string {
  return `${count} GPU${count === 1 ? "" : "s"}`;
}

function amdDevices(input: ContainerSpecInput): DeviceMapping[] {
  const present = input.hostDevicesPresent;
  const devices: DeviceMapping[] = [];
  if (present("/dev/fuse")) devices.push(deviceMapping("/dev/fuse"));
  const count = input.gpuIds.length;
  const missing = (device: string, why: string): MadError =>
    new MadError(
      "RUN_FAILED",
      `model ${JSON.stringify(input.model.name)} needs ${gpus(count)}, but ${device} ${why} is missing on this host`,
      {
        hint: "check that the amdgpu driver is loaded on the node (ls /dev/kfd /dev/dri), or run on a node with the GPUs",
      },
    );
  if (count === 0) {
    if (present("/dev/kfd")) devices.push(deviceMapping("/dev/kfd"));
    return devices;
  }
  if (!present("/dev/kfd")) throw missing("/dev/kfd", "(the ROCm compute device)");
  devices.push(deviceMapping("/dev/kfd"));
  const renderNodes = input.amdRenderNodes ?? input.context.gpu_renderDs;
  for (const id of input.gpuIds) {
    let minor: number;
    if (renderNodes === undefined) minor = 128 + id;
    else {
      const known = renderNodes[id];
      if (known === undefined) {
        throw new MadError(
          "RUN_FAILED",
          `model ${JSON.stringify(input.model.name)} needs GPU ${id}, but gpu_renderDs lists render nodes for ${gpus(renderNodes.length)} only`,
          {
            path: "gpu_renderDs",
            hint: "leave gpu_renderDs out of the context to use the detected render nodes",
          },
        );
      }
      minor = known;
    }
    const device = `/dev/dri/renderD${minor}`;
    if (!present(device)) throw missing(device, `(GPU ${id})`);
    devices.push(deviceMapping(device));
  }
  return devices;
}

function envValue(value: string | number | boolean): string {
  return typeof value === "string" ? value : String(value);
}

function normaliseCapability(cap: string): string {
  const upper = cap.toUpperCase();
  return upper.startsWith("CAP_") ? upper.slice(4) : upper;
}

function appendUnique(
  base: string[] | undefined,
  extra: string[] | undefined,
  key = (s: string) => s,
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of [...(base ?? []), ...(extra ?? [])]) {
    const k = key(item);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(item);
  }
  return out;
}

/** Drops undefined values and empty arrays, so the body has only what is set. */
function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || (Array.isArray(item) && item.length === 0)) continue;
    out[key] = item;
  }
  return out as T;
}

function modelOverrides(input: ContainerSpecInput): Partial<ContainerOverrides> {
  const text = input.model.additional_docker_run_options;
  if (text === undefined || text.trim() === "") return {};
  try {
    return parseAdditionalDockerRunOptions(text);
  } catch (error) {
    if (error instanceof MadError) {
      throw new MadError(error.code, `model ${JSON.stringify(input.model.name)}: ${error.message}`, {
        ...(error.hint === undefined ? {} : { hint: error.hint }),
        ...(error.path === undefined ? {} : { path: error.path }),
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * The Docker Engine API create body for one model container (spec §5.3 as an API body, §3.6 for the
 * environment). Pure: the only look at the host is `hostDevicesPresent`. Vendor options, GPU devices
 * (only ones that exist), the MAD_* environment with user `docker_env_vars` winning, the workspace,
 * data and context mounts, `docker_cpus`, `SHM_SIZE`, then the model's additional_docker_run_options
 * on top (lists added, scalars replaced). Env entries are `K=V` API strings: never quoted or escaped.
 */
export function buildContainerSpec(input: ContainerSpecInput): ContainerCreateOptions {
  const { context, vendor } = input;
  if (vendor === "NONE" && input.gpuIds.length > 0) {
    throw new MadError(
      "INTERNAL",
      `a CPU run (gpu_vendor NONE) cannot be given GPUs (${input.gpuIds.join(",")})`,
    );
  }

  // 1. vendor base options
  let user: string | undefined = "root";
  let ipcMode: string | undefined;
  let capAdd: string[] = [];
  let securityOpt: string[] = [];
  let groupAdd: string[] = [];
  let devices: DeviceMapping[] = [];
  let deviceRequests: DeviceRequest[] = [];
  switch (vendor) {
    case "AMD":
      groupAdd = ["video"];
      capAdd = ["SYS_PTRACE", "SYS_ADMIN"];
      securityOpt = ["seccomp=unconfined", "apparmor=unconfined"];
      ipcMode = "host";
      devices = amdDevices(input);
      break;
    case "NVIDIA":
      capAdd = ["SYS_PTRACE", "SYS_ADMIN", "SYS_NICE"];
      securityOpt = ["seccomp=unconfined", "apparmor=unconfined"];
      ipcMode = "host";
      if (input.hostDevicesPresent("/dev/fuse")) devices = [deviceMapping("/dev/fuse")];
      if (input.gpuIds.length > 0) {
        deviceRequests = [{ Driver: "nvidia", DeviceIDs: input.gpuIds.map(String), Capabilities: [["gpu"]] }];
      }
      break;
    case "NONE":
      break;
    default: {
      const never: never = vendor;
      throw new MadError("CONTEXT_INVALID", `unable to determine the GPU vendor (${String(never)})`, {
        path: "gpu_vendor",
        hint: 'set gpu_vendor to "AMD", "NVIDIA" or "NONE"',
      });
    }
  }

  // 2. environment (spec §3.6): MAD_*, then the run env, then the user's docker_env_vars
  const env = new EnvBuilder();
  const facts = input.systemFacts;
  const fixed: [string, string][] = [
    ["MAD_MODEL_NAME", input.model.name],
    ["JENKINS_BUILD_NUMBER", input.buildNumber ?? "0"],
    ["MAD_GPU_VENDOR", vendor],
    ["MAD_SYSTEM_NGPUS", String(facts.ngpus)],
    ["MAD_SYSTEM_GPU_ARCHITECTURE", facts.architecture],
    ["MAD_SYSTEM_HIP_VERSION", facts.hipVersion],
    ["MAD_RUNTIME_NGPUS", String(input.gpuIds.length)],
    [MULTI_NODE_RUNNER, buildMultiNodeRunner(context.multi_node_args, facts.ngpus)],
  ];
  for (const [key, value] of fixed) env.set(key, value, "MAD environment", "INTERNAL");
  for (const [key, value] of Object.entries(input.env))
    env.set(key, value, "run environment", "INVALID_ARGS");
  for (const [key, value] of Object.entries(context.docker_env_vars ?? {})) {
    if (key.startsWith(MULTI_NODE_PREFIX) && key !== MULTI_NODE_RUNNER) continue;
    env.set(key, envValue(value), "context docker_env_vars", "CONTEXT_INVALID");
  }

  // 3. mounts: workspace, data, context docker_mounts
  const binds = new BindList();
  binds.add(
    `${checkMountPath(input.madRootHostPath, "the MAD root", "INVALID_ARGS", "workspace mount")}:${WORKSPACE_PATH}`,
  );
  for (const mount of input.mounts ?? []) {
    const host = checkMountPath(mount.host, "host path", "INVALID_ARGS", "data mount");
    const container = checkMountPath(mount.container, "container path", "INVALID_ARGS", "data mount");
    binds.add(`${host}:${container}${mount.readOnly ? ":ro" : ""}`);
  }
  for (const [container, host] of Object.entries(context.docker_mounts ?? {})) {
    const where = `context docker_mounts[${JSON.stringify(container)}]`;
    binds.add(
      `${checkMountPath(host, "host path", "CONTEXT_INVALID", where)}:${checkMountPath(container, "container path", "CONTEXT_INVALID", where)}`,
    );
  }

  // 4. CPUs and shared memory
  let cpusetCpus: string | undefined;
  if (context.docker_cpus !== undefined) {
    const cpus = context.docker_cpus.replace(/\s+/g, "");
    if (cpus !== "") {
      if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpus)) {
        throw new MadError(
          "CONTEXT_INVALID",
          `docker_cpus ${JSON.stringify(context.docker_cpus)} is not a CPU list such as "14-18,32"`,
          { path: "docker_cpus", hint: 'write docker_cpus as CPU ids and ranges, e.g. "0-7,16"' },
        );
      }
      cpusetCpus = cpus;
    }
  }
  let shmSize: number | undefined;
  if (context.SHM_SIZE !== undefined && context.SHM_SIZE.trim() !== "") {
    try {
      shmSize = parseByteSize(context.SHM_SIZE);
    } catch (error) {
      throw new MadError("CONTEXT_INVALID", `SHM_SIZE: ${(error as Error).message}`, {
        path: "SHM_SIZE",
        hint: 'write SHM_SIZE as a size such as "16G"',
      });
    }
    ipcMode = undefined; // --shm-size replaces --ipc=host (spec §3.2)
  }

  // 5. the model's additional_docker_run_options on top
  const extra = modelOverrides(input);
  for (const entry of extra.Env ?? []) {
    const eq = entry.indexOf("=");
    env.set(entry.slice(0, eq), entry.slice(eq + 1), "additional_docker_run_options", "INVALID_FILE");
  }
  for (const bind of extra.Binds ?? []) binds.add(bind);
  const deviceMap = new Map<string, DeviceMapping>();
  for (const device of [...devices, ...(extra.Devices ?? [])]) deviceMap.set(device.PathInContainer, device);
  const ulimitMap = new Map<string, Ulimit>();
  for (const ulimit of extra.Ulimits ?? []) ulimitMap.set(ulimit.Name ?? "", ulimit);
  if (extra.User !== undefined) user = extra.User;

  const hostConfig: HostConfig = compact<HostConfig>({
    NetworkMode: extra.NetworkMode ?? "host",
    IpcMode: extra.IpcMode ?? ipcMode,
    PidMode: extra.PidMode,
    Privileged: extra.Privileged,
    GroupAdd: appendUnique(groupAdd, extra.GroupAdd),
    CapAdd: appendUnique(capAdd, extra.CapAdd, normaliseCapability),
    CapDrop: appendUnique([], extra.CapDrop, normaliseCapability),
    SecurityOpt: appendUnique(securityOpt, extra.SecurityOpt),
    Devices: [...deviceMap.values()],
    DeviceRequests: deviceRequests,
    Binds: binds.toArray(),
    CpusetCpus: extra.CpusetCpus ?? cpusetCpus,
    ShmSize: extra.ShmSize ?? shmSize,
    Memory: extra.Memory,
    Ulimits: [...ulimitMap.values()],
  });

  return compact<ContainerCreateOptions>({
    name: input.containerName,
    Image: input.image,
    Cmd: [...input.cmd],
    Env: env.toArray(),
    Labels: { ...input.labels },
    WorkingDir: input.workingDir ?? WORKSPACE_PATH,
    User: user,
    HostConfig: hostConfig,
  });
}
