import { existsSync, readdirSync } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CommandRunner } from "../context/gpu/detectHostGpus.js";
import type { DockerEndpoint } from "../docker/client.js";

/** File operations on the host where containers run (this machine, or a node over SFTP/SSH). */
export interface TargetFs {
  exists(file: string): Promise<boolean>;
  isDirectory(file: string): Promise<boolean>;
  readText(file: string): Promise<string>;
  /** `rm -rf`. */
  remove(file: string): Promise<void>;
  /** Device nodes present under /dev that GPU containers may need (/dev/kfd, /dev/dri/renderD*, ...). */
  devices(): Promise<Set<string>>;
}

/** Where a run executes: a Docker daemon, and the MAD root as that host sees it. */
export interface ExecutionTarget {
  /** "local" or the node's name. */
  name: string;
  endpoint: DockerEndpoint;
  /** Absolute MAD root on the target host (bind-mounted at /myworkspace). */
  madRoot: string;
  fs: TargetFs;
  /** perf.csv machine_name. */
  machineName: string;
  /** Runs GPU query tools on the target (undefined: this machine's default runner). */
  runCommand?: CommandRunner;
}

const GPU_DEVICE_PATHS = ["/dev/kfd", "/dev/fuse"];

export const localFs: TargetFs = {
  async exists(file) {
    return existsSync(file);
  },
  async isDirectory(file) {
    return (await stat(file).catch(() => undefined))?.isDirectory() === true;
  },
  readText: (file) => readFile(file, "utf8"),
  async remove(file) {
    await rm(file, { recursive: true, force: true });
  },
  async devices() {
    const found = new Set(GPU_DEVICE_PATHS.filter((device) => existsSync(device)));
    try {
      for (const name of readdirSync("/dev/dri")) found.add(`/dev/dri/${name}`);
    } catch {
      // no DRM devices on this host
    }
    return found;
  },
};

export function localTarget(madRoot: string, endpoint: DockerEndpoint): ExecutionTarget {
  return { name: "local", endpoint, madRoot: path.resolve(madRoot), fs: localFs, machineName: os.hostname() };
}
