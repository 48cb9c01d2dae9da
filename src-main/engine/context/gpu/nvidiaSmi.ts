/**
 * Parsers for nvidia-smi output: `-L`, `--query-gpu` CSV (with or without header and units),
 * `-q -x` XML and the default table. None of them throws: odd input gives fewer devices and a problem.
 */
import type { GpuDevice, MigDevice } from "../../../../shared/schemas/gpu.js";
import {
  firstNonEmptyLine,
  type GpuParseResult,
  parseNumber,
  presentText,
  splitLines,
  toMiB,
  withoutUndefined,
} from "./values.js";
import { parseXmlTree, type XmlElement, xmlChildren, xmlSelect, xmlText } from "./xmlTree.js";

/** Long-standing `--query-gpu` fields (present since the 3xx drivers), in the order detection asks for them. */
export const NVIDIA_QUERY_FIELDS = [
  "index",
  "name",
  "uuid",
  "pci.bus_id",
  "memory.total",
  "memory.used",
  "utilization.gpu",
  "temperature.gpu",
  "power.draw",
  "driver_version",
] as const;

const FAILURE_PATTERNS = [
  /NVIDIA-SMI has failed/i,
  /No devices were found/i,
  /Failed to initialize NVML/i,
  /Unable to determine the device handle/i,
  /couldn't communicate with the NVIDIA driver/i,
  /Driver\/library version mismatch/i,
];

/** The tool's own failure message (no driver, no devices, NVML mismatch), if the text is one. */
export function nvidiaSmiFailure(text: string): string | undefined {
  return splitLines(text)
    .map((line) => line.trim())
    .find((line) => FAILURE_PATTERNS.some((pattern) => pattern.test(line)));
}

function failureResult(text: string, source: string): GpuParseResult {
  const message = nvidiaSmiFailure(text) ?? firstNonEmptyLine(text);
  return {
    devices: [],
    problems: [message === undefined ? `${source}: no output` : `${source}: ${message}`],
  };
}

function nvidiaDevice(fields: Omit<GpuDevice, "vendor" | "architecture">): GpuDevice {
  // madengine's MAD_SYSTEM_GPU_ARCHITECTURE on NVIDIA is the product name (spec §3.3).
  return withoutUndefined({ ...fields, vendor: "NVIDIA", architecture: fields.name });
}

const LIST_GPU_LINE = /^GPU\s+(\d+):\s*(.*?)\s*(?:\(UUID:\s*([^)]+?)\s*\))?\s*$/;
const LIST_MIG_LINE = /^MIG\s+(\S+)\s+Device\s+(\d+):\s*(?:\(UUID:\s*([^)]+?)\s*\))?/;

/** `nvidia-smi -L`: one `GPU n:` line per GPU, MIG instances as indented lines under their GPU. */
export function parseNvidiaSmiList(text: string): GpuParseResult {
  const devices: GpuDevice[] = [];
  for (const rawLine of splitLines(text)) {
    const line = rawLine.trim();
    const gpu = LIST_GPU_LINE.exec(line);
    if (gpu) {
      devices.push(
        nvidiaDevice({ index: Number(gpu[1]), name: gpu[2] || "NVIDIA GPU", uuid: presentText(gpu[3]) }),
      );
      continue;
    }
    const mig = LIST_MIG_LINE.exec(line);
    const parent = devices[devices.length - 1];
    if (mig && parent) {
      const migDevice: MigDevice = withoutUndefined({
        profile: mig[1] ?? "",
        index: Number(mig[2]),
        uuid: presentText(mig[3]),
      });
      parent.migDevices = [...(parent.migDevices ?? []), migDevice];
    }
  }
  if (devices.length === 0) return failureResult(text, "nvidia-smi -L");
  return { devices, problems: [] };
}

/** `memory.total [MiB]` → `memory.total`. */
function fieldName(header: string): string {
  return header.replace(/\s*\[[^\]]*\]\s*$/, "").trim();
}

function deviceFromQueryRow(row: Record<string, string>, position: number): GpuDevice {
  const index = parseNumber(row.index);
  return nvidiaDevice({
    index: index !== undefined && Number.isInteger(index) && index >= 0 ? index : position,
    name: presentText(row.name) ?? "NVIDIA GPU",
    uuid: presentText(row.uuid),
    busId: presentText(row["pci.bus_id"]),
    memoryTotalMiB: toMiB(row["memory.total"]),
    memoryUsedMiB: toMiB(row["memory.used"]),
    utilizationPercent: parseNumber(row["utilization.gpu"]),
    temperatureC: parseNumber(row["temperature.gpu"]),
    powerW: parseNumber(row["power.draw"] ?? row["power.draw.average"] ?? row["power.draw.instant"]),
  });
}

export interface NvidiaQueryResult extends GpuParseResult {
  /** Every row as field → raw cell, for callers that asked for more than the device fields. */
  rows: Record<string, string>[];
}

/**
 * `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]`. Without `fields` the first line is
 * taken as the header (units in brackets are dropped from the names); with `fields` the output is
 * read as `noheader`. Cells are split on commas: nvidia-smi neither quotes nor escapes them.
 */
export function parseNvidiaSmiQueryCsv(text: string, fields?: readonly string[]): NvidiaQueryResult {
  const lines = splitLines(text).filter((line) => line.trim() !== "");
  if (nvidiaSmiFailure(text) !== undefined || lines.length === 0) {
    return { ...failureResult(text, "nvidia-smi --query-gpu"), rows: [] };
  }
  const split = (line: string) => line.split(",").map((cell) => cell.trim());
  let names = fields?.map((field) => field.trim());
  let dataLines = lines;
  if (names === undefined) {
    names = split(lines[0] ?? "").map(fieldName);
    dataLines = lines.slice(1);
  } else if (
    split(lines[0] ?? "")
      .map(fieldName)
      .join(",") === names.join(",")
  ) {
    // The caller expected noheader output but got a header: skip it rather than read it as a GPU.
    dataLines = lines.slice(1);
  }
  const problems: string[] = [];
  const rows = dataLines.map((line, lineIndex) => {
    const cells = split(line);
    if (cells.length !== names.length) {
      problems.push(
        `nvidia-smi --query-gpu: row ${lineIndex + 1} has ${cells.length} values for ${names.length} fields`,
      );
    }
    return Object.fromEntries(names.map((name, i) => [name, cells[i] ?? ""]));
  });
  const devices = rows.map(deviceFromQueryRow);
  const driverVersion = presentText(rows[0]?.driver_version);
  return withoutUndefined({ devices, problems, driverVersion, rows });
}

function migFromXml(gpu: XmlElement): MigDevice[] {
  return xmlChildren(xmlSelect(gpu, "mig_devices"), "mig_device").map((mig, position) => {
    const index = parseNumber(xmlText(mig, "index"));
    const gpuInstance = presentText(xmlText(mig, "gpu_instance_id")) ?? "?";
    const computeInstance = presentText(xmlText(mig, "compute_instance_id")) ?? "?";
    return {
      profile: `GI ${gpuInstance} CI ${computeInstance}`,
      index: index !== undefined && Number.isInteger(index) ? index : position,
    };
  });
}

const XML_POWER_PATHS = [
  "gpu_power_readings/power_draw",
  "gpu_power_readings/average_power_draw",
  "gpu_power_readings/instant_power_draw",
  "power_readings/power_draw",
];

/**
 * `nvidia-smi -q -x`. Values are read by path from each `<gpu>`, so the `<fb_memory_usage>` of a
 * `<mig_device>` never stands in for the GPU's own. GPUs are numbered in document order, which is
 * nvidia-smi's index order.
 */
export function parseNvidiaSmiXml(text: string): GpuParseResult {
  const log = xmlSelect(parseXmlTree(text), "nvidia_smi_log");
  if (log === undefined) return failureResult(text, "nvidia-smi -q -x");
  const devices = xmlChildren(log, "gpu").map((gpu, position) => {
    const migDevices = migFromXml(gpu);
    return nvidiaDevice({
      index: position,
      name: presentText(xmlText(gpu, "product_name")) ?? "NVIDIA GPU",
      uuid: presentText(xmlText(gpu, "uuid")),
      busId: presentText(xmlText(gpu, "pci/pci_bus_id") ?? gpu.attributes.id),
      memoryTotalMiB: toMiB(xmlText(gpu, "fb_memory_usage/total")),
      memoryUsedMiB: toMiB(xmlText(gpu, "fb_memory_usage/used")),
      utilizationPercent: parseNumber(xmlText(gpu, "utilization/gpu_util")),
      temperatureC: parseNumber(xmlText(gpu, "temperature/gpu_temp")),
      powerW: XML_POWER_PATHS.map((path) => parseNumber(xmlText(gpu, path))).find(
        (watts) => watts !== undefined,
      ),
      migDevices: migDevices.length > 0 ? migDevices : undefined,
    });
  });
  const problems: string[] = [];
  const attached = parseNumber(xmlText(log, "attached_gpus"));
  if (attached !== undefined && attached !== devices.length) {
    problems.push(
      `nvidia-smi -q -x: attached_gpus says ${attached} but ${devices.length} <gpu> elements were found`,
    );
  }
  return withoutUndefined({
    devices,
    problems,
    driverVersion: presentText(xmlText(log, "driver_version")),
    runtimeVersion: presentText(xmlText(log, "cuda_version")),
  });
}

const TABLE_BANNER = /NVIDIA-SMI\s+\S+\s+Driver Version:\s*(\S+)\s+CUDA Version:\s*(\S+)/;
const TABLE_GPU_CELL = /^(\d+)\s+(.*?\S)\s+(On|Off|TCC|WDDM|N\/A)$/;
const TABLE_BUS_ID = /([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])/;

/**
 * The default `nvidia-smi` table (89-column layout of drivers 530+, and the older 79-column one,
 * whose names may be cut short with `...`). Each GPU is a row of three `|` cells (index/name, bus id,
 * ECC) followed by the metrics row; the MIG and process tables below are not read.
 */
export function parseNvidiaSmiTable(text: string): GpuParseResult {
  const lines = splitLines(text);
  const banner = lines.map((line) => TABLE_BANNER.exec(line)).find((match) => match !== null);
  if (!banner) return failureResult(text, "nvidia-smi");
  const devices: GpuDevice[] = [];
  let pending: { index: number; name: string; busId: string | undefined } | undefined;
  for (const line of lines) {
    if (/MIG devices:|Processes:/.test(line)) break;
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells.length < 5) continue;
    const [, first = "", second = "", third = ""] = cells;
    const gpu = TABLE_GPU_CELL.exec(first);
    if (gpu && TABLE_BUS_ID.test(second)) {
      pending = {
        index: Number(gpu[1]),
        name: gpu[2] ?? "NVIDIA GPU",
        busId: TABLE_BUS_ID.exec(second)?.[1],
      };
      continue;
    }
    if (pending === undefined) continue;
    const memory = /(\d+)\s*MiB\s*\/\s*(\d+)\s*MiB/.exec(second);
    devices.push(
      nvidiaDevice({
        ...pending,
        memoryUsedMiB: memory ? Number(memory[1]) : undefined,
        memoryTotalMiB: memory ? Number(memory[2]) : undefined,
        temperatureC: parseNumber(/(-?\d+)C\b/.exec(first)?.[1]),
        powerW: parseNumber(/(\d+(?:\.\d+)?)W\s*\//.exec(first)?.[1]),
        utilizationPercent: parseNumber(/^(\d+)%/.exec(third)?.[1]),
      }),
    );
    pending = undefined;
  }
  return withoutUndefined({
    devices,
    problems: [],
    driverVersion: presentText(banner[1]),
    runtimeVersion: presentText(banner[2]),
  });
}
