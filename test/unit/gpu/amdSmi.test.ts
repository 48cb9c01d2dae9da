import { describe, expect, it } from "vitest";
import { gpuDeviceSchema } from "../../../shared/schemas/gpu.js";
import {
  amdSmiFailure,
  parseAmdSmiDashboard,
  parseAmdSmiJson,
  parseAmdSmiText,
} from "../../../src-main/engine/context/gpu/amdSmi.js";
import { fixture } from "./fixture.js";

const NO_DRIVER = "amd-smi: Unable to get devices, driver not initialized (amdgpu not found in modules)";

describe("amd-smi text", () => {
  it("reads `amd-smi list` and drops the redacted UUIDs", () => {
    const result = parseAmdSmiText(fixture("amd-smi-list-rocm63.txt"));
    expect(result).toEqual({
      devices: [
        { index: 0, vendor: "AMD", name: "AMD GPU", busId: "0000:23:00.0" },
        { index: 1, vendor: "AMD", name: "AMD GPU", busId: "0000:26:00.0" },
      ],
      problems: [],
    });
  });

  it("reads the nested ASIC section of `amd-smi static --asic`", () => {
    const result = parseAmdSmiText(fixture("amd-smi-static-asic-mi308x-rocm63.txt"));
    expect(result.devices).toEqual([{ index: 0, vendor: "AMD", name: "MI308X", architecture: "gfx942" }]);
  });

  it("reads a VRAM section and a driver version, and skips CPU blocks", () => {
    const text = [
      "GPU: 0",
      "    ASIC:",
      "        MARKET_NAME: AMD Instinct MI300X",
      "        DEVICE_ID: 0x74a1",
      "    DRIVER:",
      "        NAME: amdgpu",
      "        VERSION: 6.10.5",
      "    VRAM:",
      "        TYPE: HBM",
      "        SIZE: 196592 MB",
      "",
      "CPU: 0",
      "    ASIC:",
      "        MARKET_NAME: not a GPU",
    ].join("\n");
    const result = parseAmdSmiText(text);
    expect(result.devices).toEqual([
      {
        index: 0,
        vendor: "AMD",
        name: "AMD Instinct MI300X",
        architecture: "gfx942",
        memoryTotalMiB: 196592,
      },
    ]);
    expect(result.driverVersion).toBe("6.10.5");
  });

  it("turns the no-driver log lines into one problem quoting amd-smi", () => {
    const text = fixture("amd-smi-no-driver.txt");
    expect(parseAmdSmiText(text)).toEqual({ devices: [], problems: [NO_DRIVER] });
    expect(amdSmiFailure(text)).toBe(
      "Unable to get devices, driver not initialized (amdgpu not found in modules)",
    );
  });
});

describe("amd-smi dashboard (26.x bare `amd-smi`)", () => {
  it("reads both MI210s with their metrics and the banner versions", () => {
    const result = parseAmdSmiDashboard(fixture("amd-smi-default-mi210-rocm72.txt"));
    expect(result.driverVersion).toBe("6.16.13");
    expect(result.runtimeVersion).toBe("7.2");
    expect(result.problems).toEqual([]);
    expect(result.devices).toEqual([
      {
        index: 0,
        vendor: "AMD",
        name: "AMD Instinct MI210",
        busId: "0000:01:00.0",
        temperatureC: 37,
        powerW: 33,
        utilizationPercent: 0,
        memoryUsedMiB: 10,
        memoryTotalMiB: 65520,
      },
      {
        index: 1,
        vendor: "AMD",
        name: "AMD Instinct MI210",
        busId: "0000:02:00.0",
        temperatureC: 31,
        powerW: 32,
        utilizationPercent: 0,
        memoryUsedMiB: 10,
        memoryTotalMiB: 65520,
      },
    ]);
  });

  it("reports the no-driver message", () => {
    expect(parseAmdSmiDashboard(fixture("amd-smi-no-driver.txt")).problems).toEqual([NO_DRIVER]);
  });
});

describe("amd-smi --json", () => {
  const metricArray = fixture("amd-smi-metric-power-json-rocm61.json");

  it("reads the bare top-level array with {value, unit} leaves", () => {
    expect(parseAmdSmiJson(metricArray)).toEqual({
      devices: [{ index: 0, vendor: "AMD", name: "AMD GPU", powerW: 10 }],
      problems: [],
    });
  });

  it("reads the same data wrapped as {gpu_data: [...]} beside cpu_data", () => {
    const wrapped = JSON.stringify({ cpu_data: [], gpu_data: JSON.parse(metricArray) }, null, 4);
    expect(parseAmdSmiJson(wrapped)).toEqual(parseAmdSmiJson(metricArray));
  });

  it("reads static fields, leaves N/A out and converts MB", () => {
    const staticJson = JSON.stringify({
      gpu_data: [
        {
          gpu: 1,
          asic: {
            market_name: "AMD Instinct MI300X",
            device_id: "0x74a1",
            target_graphics_version: "gfx942",
          },
          bus: { bdf: "0000:0c:00.0" },
          vram: { type: "HBM", size: { value: 196592, unit: "MB" } },
          driver: { name: "amdgpu", version: "6.12.12" },
          temperature: { edge: "N/A", hotspot: { value: 41, unit: "C" } },
          usage: { gfx_activity: "N/A" },
        },
      ],
    });
    const result = parseAmdSmiJson(`WARNING: a log line first\n${staticJson}`);
    expect(result.devices).toEqual([
      {
        index: 1,
        vendor: "AMD",
        name: "AMD Instinct MI300X",
        architecture: "gfx942",
        busId: "0000:0c:00.0",
        memoryTotalMiB: 196592,
        temperatureC: 41,
      },
    ]);
    expect(result.driverVersion).toBe("6.12.12");
  });

  it("reports the no-driver message when there is no JSON", () => {
    expect(parseAmdSmiJson(fixture("amd-smi-no-driver.txt"))).toEqual({ devices: [], problems: [NO_DRIVER] });
  });
});

describe("every amd-smi parse result", () => {
  it("matches the GpuDevice schema and never throws", () => {
    const devices = [
      ...parseAmdSmiText(fixture("amd-smi-list-rocm63.txt")).devices,
      ...parseAmdSmiText(fixture("amd-smi-static-asic-mi308x-rocm63.txt")).devices,
      ...parseAmdSmiDashboard(fixture("amd-smi-default-mi210-rocm72.txt")).devices,
      ...parseAmdSmiJson(fixture("amd-smi-metric-power-json-rocm61.json")).devices,
    ];
    expect(devices).toHaveLength(6);
    for (const device of devices) expect(gpuDeviceSchema.safeParse(device).success).toBe(true);
    for (const text of ["", "GPU: x", '[1, null, "a"]', '{"gpu_data": 3}', "| 0 | 1 |", "{"]) {
      expect(() => parseAmdSmiText(text)).not.toThrow();
      expect(() => parseAmdSmiJson(text)).not.toThrow();
      expect(() => parseAmdSmiDashboard(text)).not.toThrow();
    }
  });
});
