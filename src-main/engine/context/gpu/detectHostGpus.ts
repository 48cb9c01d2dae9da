/**
 * Host GPU detection for the runtime context (spec §3.3): NVIDIA first (nvidia-smi), then AMD
 * (rocm-smi or amd-smi, rocminfo for the gfx target, hipconfig for the HIP version), else NONE.
 * Commands run without a shell through a CommandRunner, which tests replace with canned output.
 */
import { execFile } from "node:child_process";
import type { GpuDevice, GpuReport, HostGpuVendor } from "../../../../shared/schemas/gpu.js";
import { amdSmiFailure, parseAmdSmiJson } from "./amdSmi.js";
import { parseHipconfigVersion } from "./hipconfig.js";
import { mergeDevices } from "./mergeDevices.js";
import { parseNvccVersion } from "./nvcc.js";
import {
  NVIDIA_QUERY_FIELDS,
  nvidiaSmiFailure,
  parseNvidiaSmiList,
  parseNvidiaSmiQueryCsv,
  parseNvidiaSmiTable,
} from "./nvidiaSmi.js";
import { parseRocminfo, rocminfoFailure } from "./rocminfo.js";
import { parseRocmSmiJson, rocmSmiFailure } from "./rocmSmi.js";
import { firstNonEmptyLine, type GpuParseResult, withoutUndefined } from "./values.js";

export interface CommandResult {
  /** null when the command did not exit normally (timeout, signal, could not start). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The executable does not exist. */
  notFound: boolean;
}

export type CommandRunner = (command: string, args: string[], timeoutMs: number) => Promise<CommandResult>;

export const GPU_COMMAND_TIMEOUT_MS = 10_000;

/** Runs a command with execFile (no shell); a missing binary is reported as notFound, never thrown. */
export const defaultCommandRunner: CommandRunner = (command, args, timeoutMs) =>
  new Promise((resolve) => {
    try {
      execFile(
        command,
        args,
        { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8", windowsHide: true },
        (error, stdout, stderr) => {
          if (error === null) {
            resolve({ exitCode: 0, stdout, stderr, notFound: false });
          } else if (error.code === "ENOENT") {
            resolve({ exitCode: null, stdout: "", stderr: error.message, notFound: true });
          } else {
            const timedOut = error.killed === true && error.signal !== null;
            const reason = timedOut ? `timed out after ${timeoutMs / 1000} s` : stderr || error.message;
            resolve({
              exitCode: typeof error.code === "number" ? error.code : null,
              stdout,
              stderr: timedOut ? `${reason}\n${stderr}` : reason,
              notFound: false,
            });
          }
        },
      );
    } catch (error) {
      resolve({ exitCode: null, stdout: "", stderr: String(error), notFound: false });
    }
  });

const ROCM_TOOLS = new Set(["rocm-smi", "amd-smi", "rocminfo", "hipconfig"]);

/**
 * Where to look for a tool: PATH first, then where its installer puts it, which is often not on PATH
 * ($ROCM_PATH/bin for ROCm, /usr/local/cuda/bin for nvcc; madengine itself checks /usr/bin/nvidia-smi).
 */
export function toolCandidates(tool: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (tool === "nvidia-smi") return [tool, "/usr/bin/nvidia-smi"];
  if (tool === "nvcc") return [tool, "/usr/local/cuda/bin/nvcc"];
  if (ROCM_TOOLS.has(tool)) return [tool, `${env.ROCM_PATH || "/opt/rocm"}/bin/${tool}`];
  return [tool];
}

type Tool = (tool: string, args: string[]) => Promise<CommandResult>;

function toolRunner(run: CommandRunner): Tool {
  return async (tool, args) => {
    let result: CommandResult = { exitCode: null, stdout: "", stderr: "", notFound: true };
    for (const command of toolCandidates(tool)) {
      try {
        result = await run(command, args, GPU_COMMAND_TIMEOUT_MS);
      } catch (error) {
        result = { exitCode: null, stdout: "", stderr: String(error), notFound: false };
      }
      if (!result.notFound) break;
    }
    return result;
  };
}

/** A problem line that quotes the tool's own message ("nvidia-smi: NVIDIA-SMI has failed ... (exit code 9)"). */
function failureProblem(
  label: string,
  result: CommandResult,
  failure: (text: string) => string | undefined,
): string {
  const message =
    failure(`${result.stdout}\n${result.stderr}`) ??
    firstNonEmptyLine(result.stderr) ??
    firstNonEmptyLine(result.stdout);
  const exit = result.exitCode === null ? "" : ` (exit code ${result.exitCode})`;
  return `${label}: ${message ?? "failed with no output"}${exit}`;
}

const succeeded = (result: CommandResult) => !result.notFound && result.exitCode === 0;

/**
 * Parses a command's stdout. When that yields no GPU the tool's complaint may be on stderr (Python
 * logging is), so the problems are then read from both streams.
 */
function parseOutput<R extends GpuParseResult>(result: CommandResult, parse: (text: string) => R): R {
  const parsed = parse(result.stdout);
  if (parsed.devices.length > 0 || result.stderr.trim() === "") return parsed;
  return { ...parsed, problems: parse(`${result.stderr}\n${result.stdout}`).problems };
}

interface VendorReport {
  devices: GpuDevice[];
  driverVersion?: string;
  runtimeVersion?: string;
}

async function detectNvidia(tool: Tool, problems: string[]): Promise<VendorReport | undefined> {
  const query = await tool("nvidia-smi", [
    `--query-gpu=${NVIDIA_QUERY_FIELDS.join(",")}`,
    "--format=csv,noheader,nounits",
  ]);
  if (query.notFound) return undefined;
  let devices: GpuDevice[] = [];
  let driverVersion: string | undefined;
  if (succeeded(query)) {
    const parsed = parseOutput(query, (text) => parseNvidiaSmiQueryCsv(text, NVIDIA_QUERY_FIELDS));
    problems.push(...parsed.problems);
    devices = parsed.devices;
    driverVersion = parsed.driverVersion;
  } else {
    problems.push(failureProblem("nvidia-smi", query, nvidiaSmiFailure));
    // Without a driver every nvidia-smi command fails the same way; any other failure (a field an old
    // driver rejects, say) still leaves `-L` to list the GPUs.
    if (nvidiaSmiFailure(`${query.stdout}\n${query.stderr}`) !== undefined) return undefined;
  }

  const list = await tool("nvidia-smi", ["-L"]);
  if (succeeded(list)) {
    const listed = parseNvidiaSmiList(list.stdout).devices;
    if (devices.length === 0) devices = listed;
    devices = devices.map((device) => {
      const same = listed.find((other) =>
        device.uuid ? other.uuid === device.uuid : other.index === device.index,
      );
      return same?.migDevices ? { ...device, migDevices: same.migDevices } : device;
    });
  } else if (!list.notFound) {
    problems.push(failureProblem("nvidia-smi -L", list, nvidiaSmiFailure));
  }
  if (devices.length === 0) return undefined;

  // madengine reads the CUDA release from nvcc (spec §3.3); hosts without the toolkit fall back to
  // the CUDA version the driver supports, from the nvidia-smi banner.
  const nvcc = await tool("nvcc", ["--version"]);
  let runtimeVersion = succeeded(nvcc) ? parseNvccVersion(nvcc.stdout) : undefined;
  if (runtimeVersion === undefined || driverVersion === undefined) {
    const table = await tool("nvidia-smi", []);
    if (succeeded(table)) {
      const banner = parseNvidiaSmiTable(table.stdout);
      runtimeVersion ??= banner.runtimeVersion;
      driverVersion ??= banner.driverVersion;
    }
  }
  return withoutUndefined({ devices, driverVersion, runtimeVersion });
}

const ROCM_SMI_ARGS = [
  "--showid",
  "--showproductname",
  "--showbus",
  "--showmeminfo",
  "vram",
  "--showuse",
  "--showtemp",
  "--showpower",
  "--showdriverversion",
  "--json",
];

/**
 * Reads an AMD tool's output. Its devices count even when it exits non-zero (rocm-smi does when one
 * requested metric is unsupported); without devices, a non-zero exit becomes the problem line.
 */
function readTool<R extends GpuParseResult>(
  label: string,
  result: CommandResult,
  parse: (text: string) => R,
  failure: (text: string) => string | undefined,
  problems: string[],
): R | undefined {
  if (result.notFound) return undefined;
  const parsed = parseOutput(result, parse);
  if (parsed.devices.length === 0 && result.exitCode !== 0) {
    problems.push(failureProblem(label, result, failure));
    return undefined;
  }
  problems.push(...parsed.problems);
  return parsed;
}

async function amdSmiDevices(tool: Tool, problems: string[]): Promise<VendorReport> {
  const staticInfo = await tool("amd-smi", ["static", "--json"]);
  const parsed = readTool("amd-smi", staticInfo, parseAmdSmiJson, amdSmiFailure, problems);
  if (parsed === undefined || parsed.devices.length === 0) return { devices: [] };
  const metric = await tool("amd-smi", ["metric", "--json"]);
  const metrics = metric.notFound ? [] : parseAmdSmiJson(metric.stdout).devices;
  return withoutUndefined({
    devices: mergeDevices(parsed.devices, metrics),
    driverVersion: parsed.driverVersion,
  });
}

async function detectAmd(tool: Tool, problems: string[]): Promise<VendorReport | undefined> {
  const rocmSmi = await tool("rocm-smi", ROCM_SMI_ARGS);
  let smi: VendorReport = readTool("rocm-smi", rocmSmi, parseRocmSmiJson, rocmSmiFailure, problems) ?? {
    devices: [],
  };
  if (smi.devices.length === 0) smi = await amdSmiDevices(tool, problems);

  const rocminfo = await tool("rocminfo", []);
  const agents = readTool("rocminfo", rocminfo, parseRocminfo, rocminfoFailure, problems);
  // rocminfo names the gfx target correctly; rocm-smi's GFX Version can be wrong (gfx9010 for gfx90a).
  const devices = mergeDevices(smi.devices, agents?.devices ?? [], ["architecture"]);
  if (devices.length === 0) return undefined;

  const missingArchitecture = devices.filter((device) => device.architecture === undefined);
  if (missingArchitecture.length > 0) {
    const indexes = missingArchitecture.map((device) => device.index).join(", ");
    problems.push(`no gfx architecture found for GPU ${indexes}: rocminfo and the SMI tools named none`);
  }
  const hipconfig = await tool("hipconfig", ["--version"]);
  let runtimeVersion: string | undefined;
  if (succeeded(hipconfig)) {
    const parsed = parseHipconfigVersion(hipconfig.stdout);
    runtimeVersion = parsed.version;
    problems.push(...parsed.problems);
  } else if (!hipconfig.notFound) {
    problems.push(failureProblem("hipconfig --version", hipconfig, () => undefined));
  }
  return withoutUndefined({
    devices,
    driverVersion: smi.driverVersion ?? agents?.driverVersion,
    runtimeVersion,
  });
}

/**
 * Finds the host's GPUs. Never throws: tools that are missing are skipped quietly, tools that exist
 * but fail (no driver, timeout) add a line to `problems`, and a host with no usable GPU is `NONE`.
 */
export async function detectHostGpus(run: CommandRunner = defaultCommandRunner): Promise<GpuReport> {
  const tool = toolRunner(run);
  const problems: string[] = [];
  const vendors: [HostGpuVendor, (tool: Tool, problems: string[]) => Promise<VendorReport | undefined>][] = [
    ["NVIDIA", detectNvidia],
    ["AMD", detectAmd],
  ];
  for (const [vendor, detect] of vendors) {
    const found = await detect(tool, problems);
    if (found !== undefined && found.devices.length > 0) {
      return withoutUndefined({ vendor, ...found, architecture: found.devices[0]?.architecture, problems });
    }
  }
  return { vendor: "NONE", devices: [], problems };
}

/** The context values madengine derives from GPU detection (spec §3.3, §3.6). */
export interface GpuContextFacts {
  gpu_vendor: HostGpuVendor;
  MAD_SYSTEM_NGPUS: number;
  MAD_SYSTEM_GPU_ARCHITECTURE: string | undefined;
  MAD_SYSTEM_HIP_VERSION: string | undefined;
  /** `0-(N-1)`, or undefined with no GPUs. */
  docker_gpus: string | undefined;
}

/**
 * Context facts from a report. The GPU count is the number of physical GPUs; madengine's
 * `nvidia-smi -L | wc -l` also counted MIG instance lines, which this does not.
 */
export function gpuContextFacts(report: GpuReport): GpuContextFacts {
  const count = report.devices.length;
  return {
    gpu_vendor: report.vendor,
    MAD_SYSTEM_NGPUS: count,
    MAD_SYSTEM_GPU_ARCHITECTURE: report.architecture ?? report.devices[0]?.architecture,
    MAD_SYSTEM_HIP_VERSION: report.runtimeVersion,
    docker_gpus: count > 0 ? `0-${count - 1}` : undefined,
  };
}
