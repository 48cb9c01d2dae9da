/**
 * Parsers for rocm-smi output: `--json` (card0..N plus `system`), the `GPU[n] : Key: value` text of
 * `-i`, `--showproduct` and friends, and its fixed-width tables (the concise default and `--showhw`).
 * Key names moved between ROCm releases, so fields are looked up case-insensitively under every
 * spelling seen.
 */
import type { GpuDevice } from "../../../../shared/schemas/gpu.js";
import { gfxForDeviceId, normalizeGfxName } from "./amdArchitecture.js";
import {
  firstNonEmptyLine,
  type GpuParseResult,
  parseEmbeddedJson,
  parseNumber,
  presentText,
  pythonErrorMessages,
  readColumns,
  splitLines,
  toMiB,
  withoutUndefined,
} from "./values.js";

const FAILURE_PATTERN =
  /driver not initialized|amdgpu not found|no amd gpus|unable to|not found in modules|error/i;

/** rocm-smi's own failure message: its `ERROR:root:` line, or another line that reads as a failure. */
export function rocmSmiFailure(text: string): string | undefined {
  const errors = pythonErrorMessages(text);
  if (errors.length > 0) return errors[0];
  return splitLines(text)
    .map((line) => line.trim())
    .find((line) => FAILURE_PATTERN.test(line));
}

/** `WARNING:` lines rocm-smi prints before its output (low-power state and the like). */
function warnings(text: string): string[] {
  return splitLines(text)
    .map((line) => line.trim())
    .filter((line) => /^WARNING:/.test(line))
    .map((line) => `rocm-smi: ${line}`);
}

function noDevices(text: string, source: string): GpuParseResult {
  const message = rocmSmiFailure(text) ?? firstNonEmptyLine(text);
  return { devices: [], problems: [`${source}: ${message ?? "no GPUs in the output"}`] };
}

/** Looks a field up under any of its names, ignoring case. */
function fieldLookup(fields: Record<string, string>): (...names: string[]) => string | undefined {
  const lower = new Map(Object.entries(fields).map(([key, value]) => [key.trim().toLowerCase(), value]));
  return (...names) =>
    names.map((name) => presentText(lower.get(name.toLowerCase()))).find((value) => value !== undefined);
}

/** "Arcturus GL-XL [Instinct MI100]" → "Instinct MI100"; other series names are kept whole. */
function productName(series: string | undefined): string | undefined {
  return series === undefined ? undefined : (/\[([^\]]+)\]\s*$/.exec(series)?.[1] ?? series);
}

/** One GPU from rocm-smi's key/value fields (JSON object or `GPU[n]` text lines). */
export function deviceFromRocmSmiFields(index: number, fields: Record<string, string>): GpuDevice {
  const field = fieldLookup(fields);
  const deviceId = field("Device ID", "GPU ID");
  return withoutUndefined({
    index,
    vendor: "AMD",
    name:
      field("Device Name") ?? productName(field("Card Series")) ?? `AMD GPU${deviceId ? ` ${deviceId}` : ""}`,
    architecture:
      normalizeGfxName(field("GFX Version")) ??
      gfxForDeviceId(deviceId) ??
      gfxForDeviceId(field("Card Model")),
    busId: field("PCI Bus"),
    memoryTotalMiB: toMiB(field("VRAM Total Memory (B)"), "B"),
    memoryUsedMiB: toMiB(field("VRAM Total Used Memory (B)"), "B"),
    utilizationPercent: parseNumber(field("GPU use (%)")),
    temperatureC: parseNumber(field("Temperature (Sensor edge) (C)", "Temperature (Sensor junction) (C)")),
    powerW: parseNumber(
      field("Average Graphics Package Power (W)", "Current Socket Graphics Package Power (W)"),
    ),
  } satisfies GpuDevice);
}

/** `rocm-smi ... --json`: one compact line (or pretty-printed), possibly after warning lines. */
export function parseRocmSmiJson(text: string): GpuParseResult {
  const data = parseEmbeddedJson(text);
  if (data === null || typeof data !== "object" || Array.isArray(data)) return noDevices(text, "rocm-smi");
  const devices: GpuDevice[] = [];
  let driverVersion: string | undefined;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (value === null || typeof value !== "object") continue;
    const stringFields = Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([name, cell]) => [name, String(cell)]),
    );
    const card = /^card(\d+)$/.exec(key);
    if (card) devices.push(deviceFromRocmSmiFields(Number(card[1]), stringFields));
    else if (key === "system") driverVersion = fieldLookup(stringFields)("Driver version");
  }
  if (devices.length === 0) return noDevices(text, "rocm-smi");
  devices.sort((a, b) => a.index - b.index);
  const problems = [...warnings(text), ...pythonErrorMessages(text).map((message) => `rocm-smi: ${message}`)];
  return withoutUndefined({ devices, problems, driverVersion });
}

const TEXT_FIELD_LINE = /^GPU\[(\d+)\]\s*:\s*([^:]+?)\s*:\s*(.*?)\s*$/;

/**
 * rocm-smi's per-GPU text (`-i`, `--showproduct`, `--showbus`, ...): `GPU[n] : Key: value` lines,
 * tab-separated when raw. Banners, blank lines and warnings around them are skipped.
 */
export function parseRocmSmiText(text: string): GpuParseResult {
  const perGpu = new Map<number, Record<string, string>>();
  for (const line of splitLines(text)) {
    const match = TEXT_FIELD_LINE.exec(line.trim());
    if (!match) continue;
    const index = Number(match[1]);
    const fields = perGpu.get(index) ?? {};
    fields[match[2] ?? ""] = match[3] ?? "";
    perGpu.set(index, fields);
  }
  if (perGpu.size === 0) return noDevices(text, "rocm-smi");
  const devices = [...perGpu.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, fields]) => deviceFromRocmSmiFields(index, fields));
  return { devices, problems: warnings(text) };
}

function columnValue(row: Record<string, string>, ...prefixes: string[]): string | undefined {
  for (const prefix of prefixes) {
    const key = Object.keys(row).find((name) => name.toLowerCase().startsWith(prefix.toLowerCase()));
    const value = key === undefined ? undefined : presentText(row[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/**
 * rocm-smi's fixed-width tables: the default concise table (both the 6.1.1+ layout with `Node` and
 * `IDs (DID, GUID)` columns and the older one with `[Model : Revision]` and the name on a second line)
 * and `--showhw`. Cells are cut at the header's column starts.
 */
export function parseRocmSmiTable(text: string): GpuParseResult {
  const lines = splitLines(text);
  const headerIndex = lines.findIndex((line) => /^(Device|GPU)\s{2,}\S/.test(line));
  const header = lines[headerIndex];
  if (header === undefined) return noDevices(text, "rocm-smi");
  const devices: GpuDevice[] = [];
  for (const line of lines.slice(headerIndex + 1)) {
    if (/^={3,}/.test(line) && devices.length > 0) break;
    const previous = devices[devices.length - 1];
    if (/^\d+\s/.test(line)) {
      const row = readColumns(header, line);
      const deviceId = columnValue(row, "IDs", "DID", "[Model")?.match(/0x[0-9a-f]+/i)?.[0];
      devices.push(
        withoutUndefined({
          index: parseNumber(columnValue(row, "Device", "GPU")) ?? devices.length,
          vendor: "AMD",
          name: `AMD GPU${deviceId ? ` ${deviceId}` : ""}`,
          architecture: normalizeGfxName(columnValue(row, "GFX VER")) ?? gfxForDeviceId(deviceId),
          busId: columnValue(row, "BUS"),
          temperatureC: parseNumber(columnValue(row, "Temp")),
          powerW: parseNumber(columnValue(row, "Power", "AvgPwr")),
          utilizationPercent: parseNumber(columnValue(row, "GPU%")),
        } satisfies GpuDevice),
      );
    } else if (previous !== undefined && /^\s+\S/.test(line) && !/^\s*\(/.test(line)) {
      // Before 6.1.1 the concise table puts the product name on an indented line under its GPU.
      previous.name = line.trim();
    }
  }
  if (devices.length === 0) return noDevices(text, "rocm-smi");
  return { devices, problems: warnings(text) };
}
