/**
 * Parsers for amd-smi output: the `GPU: n` text blocks of `list` / `static` / `metric`, the boxed
 * dashboard bare `amd-smi` prints since 26.x, and `--json` in both shapes (a bare array, or
 * `{"gpu_data": [...]}` from later releases) with `{"value", "unit"}` leaves and `"N/A"` strings.
 */
import type { GpuDevice } from "../../../../shared/schemas/gpu.js";
import { gfxForDeviceId, normalizeGfxName } from "./amdArchitecture.js";
import {
  firstNonEmptyLine,
  type GpuParseResult,
  majorMinor,
  parseEmbeddedJson,
  parseNumber,
  presentText,
  pythonErrorMessages,
  splitLines,
  toMiB,
  withoutUndefined,
} from "./values.js";

const FAILURE_PATTERN = /not initialized|unable to|no gpus|not found|error/i;

/** amd-smi's own failure message: the first `ERROR:root:` line, or another line that reads as one. */
export function amdSmiFailure(text: string): string | undefined {
  const errors = pythonErrorMessages(text);
  if (errors.length > 0) return errors[0];
  return splitLines(text)
    .map((line) => line.trim())
    .find((line) => FAILURE_PATTERN.test(line));
}

function noDevices(text: string, source: string): GpuParseResult {
  const message = amdSmiFailure(text) ?? firstNonEmptyLine(text);
  return { devices: [], problems: [`${source}: ${message ?? "no GPUs in the output"}`] };
}

/** Field paths are lower-case and dotted (`asic.market_name`), the same for text and JSON output. */
type Fields = Map<string, string>;

function deviceFromFields(index: number, fields: Fields): GpuDevice {
  const field = (...paths: string[]) =>
    paths.map((path) => presentText(fields.get(path))).find((value) => value !== undefined);
  const deviceId = field("asic.device_id");
  return withoutUndefined({
    index,
    vendor: "AMD",
    name: field("asic.market_name", "board.product_name") ?? `AMD GPU${deviceId ? ` ${deviceId}` : ""}`,
    architecture: normalizeGfxName(field("asic.target_graphics_version")) ?? gfxForDeviceId(deviceId),
    uuid: field("uuid", "asic.uuid"),
    busId: field("bdf", "bus.bdf"),
    memoryTotalMiB: toMiB(field("vram.size", "mem_usage.total_vram"), "MB"),
    memoryUsedMiB: toMiB(field("mem_usage.used_vram"), "MB"),
    utilizationPercent: parseNumber(field("usage.gfx_activity")),
    temperatureC: parseNumber(field("temperature.edge", "temperature.hotspot")),
    powerW: parseNumber(
      field("power.socket_power", "power.average_socket_power", "power.current_socket_power"),
    ),
  } satisfies GpuDevice);
}

function driverVersionOf(fields: Fields): string | undefined {
  return presentText(fields.get("driver.version"));
}

/**
 * amd-smi text (`list`, `static`, `metric`): `GPU: n` starts a block, nested `KEY:` lines with no
 * value open sections, and `KEY: value` lines are fields. Blocks of other kinds (`CPU: n`) are skipped.
 */
export function parseAmdSmiText(text: string): GpuParseResult {
  const blocks: { index: number; fields: Fields }[] = [];
  let block: { index: number; fields: Fields } | undefined;
  let sections: { indent: number; name: string }[] = [];
  for (const line of splitLines(text)) {
    if (line.trim() === "") continue;
    const indent = line.length - line.trimStart().length;
    const match = /^(\S[^:]*?):\s*(.*?)\s*$/.exec(line.trim());
    if (indent === 0) {
      const gpu = /^GPU:\s*(\d+)\s*$/.exec(line.trim());
      block = gpu ? { index: Number(gpu[1]), fields: new Map() } : undefined;
      if (block) blocks.push(block);
      sections = [];
      continue;
    }
    if (block === undefined || !match) continue;
    sections = sections.filter((section) => section.indent < indent);
    const [, key = "", value = ""] = match;
    const name = key.toLowerCase();
    if (value === "") sections.push({ indent, name });
    else block.fields.set([...sections.map((section) => section.name), name].join("."), value);
  }
  if (blocks.length === 0) return noDevices(text, "amd-smi");
  const devices = blocks.map(({ index, fields }) => deviceFromFields(index, fields));
  const driverVersion = blocks.map(({ fields }) => driverVersionOf(fields)).find(Boolean);
  return withoutUndefined({ devices, problems: [], driverVersion });
}

/** Flattens one JSON GPU entry into dotted paths; `{"value": 10, "unit": "W"}` becomes "10 W". */
function flattenJson(value: unknown, prefix: string, into: Fields): Fields {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    const isMeasure =
      entries.some(([key]) => key === "value") && entries.every(([key]) => key === "value" || key === "unit");
    if (isMeasure) {
      const { value: amount, unit } = value as { value: unknown; unit?: unknown };
      into.set(prefix, `${String(amount)}${typeof unit === "string" && unit !== "" ? ` ${unit}` : ""}`);
    } else {
      for (const [key, child] of entries) {
        flattenJson(child, prefix ? `${prefix}.${key.toLowerCase()}` : key.toLowerCase(), into);
      }
    }
  } else if (value !== null && value !== undefined && !Array.isArray(value)) {
    into.set(prefix, String(value));
  }
  return into;
}

/** `amd-smi <list|static|metric> --json`, either a top-level array or `{"gpu_data": [...]}`. */
export function parseAmdSmiJson(text: string): GpuParseResult {
  const data = parseEmbeddedJson(text);
  const entries = Array.isArray(data)
    ? data
    : data !== null && typeof data === "object" && Array.isArray((data as { gpu_data?: unknown }).gpu_data)
      ? (data as { gpu_data: unknown[] }).gpu_data
      : undefined;
  if (entries === undefined) return noDevices(text, "amd-smi");
  const flattened = entries
    .filter((entry): entry is Record<string, unknown> => entry !== null && typeof entry === "object")
    .map((entry, position) => {
      const fields = flattenJson(entry, "", new Map());
      const gpu = parseNumber(fields.get("gpu"));
      return { index: gpu !== undefined && Number.isInteger(gpu) && gpu >= 0 ? gpu : position, fields };
    });
  if (flattened.length === 0) return noDevices(text, "amd-smi");
  const devices = flattened.map(({ index, fields }) => deviceFromFields(index, fields));
  const driverVersion = flattened.map(({ fields }) => driverVersionOf(fields)).find(Boolean);
  const problems = pythonErrorMessages(text).map((message) => `amd-smi: ${message}`);
  return withoutUndefined({ devices, problems, driverVersion });
}

const DASHBOARD_BANNER = /AMD-SMI\s+\S+\s+amdgpu version:\s*(\S+)\s+ROCm version:\s*(\S+)/;
const DASHBOARD_NAME_CELL = /^([0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\s+(.*\S)$/i;

/**
 * The dashboard bare `amd-smi` prints (26.x): per GPU one row with BDF, name, memory activity,
 * temperature and power, then one with the GPU index, GFX activity and VRAM use.
 */
export function parseAmdSmiDashboard(text: string): GpuParseResult {
  const lines = splitLines(text);
  const banner = lines.map((line) => DASHBOARD_BANNER.exec(line)).find((match) => match !== null);
  const devices: GpuDevice[] = [];
  let pending: { busId: string; name: string; temperatureC?: number; powerW?: number } | undefined;
  for (const line of lines) {
    if (/Processes:/.test(line)) break;
    const [, left = "", right = ""] = line.split("|").map((cell) => cell.trim());
    const named = DASHBOARD_NAME_CELL.exec(left);
    if (named) {
      pending = withoutUndefined({
        busId: named[1] ?? "",
        name: named[2] ?? "AMD GPU",
        temperatureC: parseNumber(/(-?\d+(?:\.\d+)?)\s*°C/.exec(right)?.[1]),
        powerW: parseNumber(/(\d+(?:\.\d+)?)\s*\/\s*\d+(?:\.\d+)?\s*W/.exec(right)?.[1]),
      });
      continue;
    }
    const indexCell = /^(\d+)\s/.exec(left);
    if (pending === undefined || !indexCell) continue;
    const memory = /(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*MB/.exec(right);
    devices.push(
      withoutUndefined({
        index: Number(indexCell[1]),
        vendor: "AMD",
        ...pending,
        utilizationPercent: parseNumber(/^(\d+(?:\.\d+)?)\s*%/.exec(right)?.[1]),
        memoryUsedMiB: toMiB(memory?.[1], "MB"),
        memoryTotalMiB: toMiB(memory?.[2], "MB"),
      } satisfies GpuDevice),
    );
    pending = undefined;
  }
  if (devices.length === 0) return noDevices(text, "amd-smi");
  return withoutUndefined({
    devices,
    problems: [],
    driverVersion: presentText(banner?.[1]),
    runtimeVersion: majorMinor(presentText(banner?.[2])),
  });
}
