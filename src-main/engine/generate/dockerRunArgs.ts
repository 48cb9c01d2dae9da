/**
 * The Docker Engine API create body that the run phase builds (buildContainerSpec), written back as a
 * `docker run` argument list. The list goes to a process as argv (never through a shell), so values
 * are never quoted or escaped here. Every setting of the body is translated or refused: nothing the
 * run phase would set is dropped silently.
 */
import type { ContainerCreateOptions, DeviceRequest, HostConfig } from "dockerode";
import { MadError } from "../../../shared/errors.js";

/** `docker run` options of a create body, split around the image. */
export interface DockerRunArgs {
  /** `--name`, the value of `name` (when the body has one). */
  name: string | undefined;
  /** Every option between `docker run` and the image, except `--name`. */
  options: string[];
  image: string;
  /** The command after the image. */
  command: string[];
}

const TOP_LEVEL_KEYS = new Set(["name", "Image", "Cmd", "Env", "Labels", "WorkingDir", "User", "HostConfig"]);

function unsupported(where: string, key: string): MadError {
  return new MadError(
    "INTERNAL",
    `cannot write the container setting ${where}${key} as a docker run option (the generator does not know it)`,
    { hint: "a bug: the run phase sets a container option the generators do not translate yet" },
  );
}

/** `--gpus` value for a device request: `all`, a count, or `"device=0,1"` (quoted: the CLI reads it as CSV). */
function gpusValue(request: DeviceRequest): string {
  if (request.Driver !== undefined && request.Driver !== "" && request.Driver !== "nvidia") {
    throw new MadError("INTERNAL", `device request driver ${request.Driver} has no docker run form`, {
      hint: "a bug: only NVIDIA device requests are written as --gpus",
    });
  }
  if (request.DeviceIDs && request.DeviceIDs.length > 0) return `"device=${request.DeviceIDs.join(",")}"`;
  if (request.Count === -1 || request.Count === undefined) return "all";
  return String(request.Count);
}

function hostConfigArgs(host: HostConfig): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(host)) {
    if (value === undefined) continue;
    switch (key) {
      case "NetworkMode":
        args.push("--network", String(value));
        break;
      case "IpcMode":
        args.push("--ipc", String(value));
        break;
      case "PidMode":
        args.push("--pid", String(value));
        break;
      case "Privileged":
        if (value === true) args.push("--privileged");
        break;
      case "GroupAdd":
        for (const group of value as string[]) args.push("--group-add", group);
        break;
      case "CapAdd":
        for (const cap of value as string[]) args.push("--cap-add", cap);
        break;
      case "CapDrop":
        for (const cap of value as string[]) args.push("--cap-drop", cap);
        break;
      case "SecurityOpt":
        for (const option of value as string[]) args.push("--security-opt", option);
        break;
      case "Devices":
        for (const device of value as NonNullable<HostConfig["Devices"]>) {
          args.push("--device", `${device.PathOnHost}:${device.PathInContainer}:${device.CgroupPermissions}`);
        }
        break;
      case "DeviceRequests":
        for (const request of value as DeviceRequest[]) args.push("--gpus", gpusValue(request));
        break;
      case "Binds":
        for (const bind of value as string[]) args.push("--volume", bind);
        break;
      case "CpusetCpus":
        args.push("--cpuset-cpus", String(value));
        break;
      case "ShmSize":
        args.push("--shm-size", `${value}b`);
        break;
      case "Memory":
        args.push("--memory", `${value}b`);
        break;
      case "Ulimits":
        for (const limit of value as NonNullable<HostConfig["Ulimits"]>) {
          args.push("--ulimit", `${limit.Name}=${limit.Soft}:${limit.Hard}`);
        }
        break;
      default:
        throw unsupported("HostConfig.", key);
    }
  }
  return args;
}

/**
 * Translates a create body into `docker run` options, image and command. Labels are sorted by key
 * so the output does not depend on insertion order; everything else keeps the body's order.
 */
export function dockerRunArgs(spec: ContainerCreateOptions): DockerRunArgs {
  for (const key of Object.keys(spec)) {
    if (!TOP_LEVEL_KEYS.has(key) && (spec as Record<string, unknown>)[key] !== undefined)
      throw unsupported("", key);
  }
  if (!spec.Image) throw new MadError("INTERNAL", "a container body without an image", { hint: "a bug" });
  const options: string[] = [];
  for (const entry of spec.Env ?? []) options.push("--env", entry);
  for (const [key, value] of Object.entries(spec.Labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
    options.push("--label", `${key}=${value}`);
  if (spec.WorkingDir) options.push("--workdir", spec.WorkingDir);
  if (spec.User) options.push("--user", spec.User);
  options.push(...hostConfigArgs(spec.HostConfig ?? {}));
  return { name: spec.name, options, image: spec.Image, command: [...(spec.Cmd ?? [])] };
}

/** The whole argv: `docker run --name N <options> <image> <command>`. */
export function dockerRunArgv(spec: ContainerCreateOptions): string[] {
  const args = dockerRunArgs(spec);
  return [
    "docker",
    "run",
    ...(args.name ? ["--name", args.name] : []),
    ...args.options,
    args.image,
    ...args.command,
  ];
}
