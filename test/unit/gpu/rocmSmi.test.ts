import { describe, expect, it } from "vitest";
import { gpuDeviceSchema } from "../../../shared/schemas/gpu.js";
import {
  parseRocmSmiJson,
  parseRocmSmiTable,
  parseRocmSmiText,
  rocmSmiFailure,
} from "../../../src-main/engine/context/gpu/rocmSmi.js";
import { fixture } from "./fixture.js";

const NO_DRIVER = "rocm-smi: Driver not initialized (amdgpu not found in modules)";
const LOW_POWER =
  "rocm-smi: WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status";

describe("rocm-smi --json", () => {
  it("reads the four MI100 cards and skips the system object", () => {
    const result = parseRocmSmiJson(fixture("rocm-smi-json-mi100-rocm602.json"));
    expect(result.driverVersion).toBe("6.3.6");
    expect(result.problems).toEqual([]);
    expect(result.devices.map((device) => device.index)).toEqual([0, 1, 2, 3]);
    expect(result.devices.map((device) => device.busId)).toEqual([
      "0000:83:00.0",
      "0000:A3:00.0",
      "0000:C3:00.0",
      "0000:E3:00.0",
    ]);
    // ROCm 6.0.2 prints no GFX Version: the MI100's device id 0x738c gives gfx908
    expect(result.devices.every((device) => device.architecture === "gfx908")).toBe(true);
    expect(result.devices[0]).toEqual({
      index: 0,
      vendor: "AMD",
      name: "Instinct MI100",
      architecture: "gfx908",
      busId: "0000:83:00.0",
      memoryTotalMiB: 32752,
      memoryUsedMiB: 6,
      utilizationPercent: 0,
      temperatureC: 53,
      powerW: 36,
    });
    expect(result.devices[1]).toMatchObject({ temperatureC: 55, powerW: 44 });
  });

  it("repairs the MI250's gfx9010 to gfx90a", () => {
    const result = parseRocmSmiJson(fixture("rocm-smi-a-json-mi250-rocm6.json"));
    expect(result).toEqual({
      devices: [
        {
          index: 0,
          vendor: "AMD",
          name: "AMD INSTINCT MI250 (MCM) OAM AC MBA",
          architecture: "gfx90a",
          busId: "0000:29:00.0",
          utilizationPercent: 0,
          temperatureC: 43,
          powerW: 91,
        },
      ],
      problems: [],
      driverVersion: "6.2.4",
    });
  });

  it("finds the JSON after leading blanks and a WARNING line", () => {
    const warning = fixture("rocm-smi-showhw-mi210-lowpower-rocm72.txt").split("\n").slice(0, 4).join("\n");
    const result = parseRocmSmiJson(`${warning}\n${fixture("rocm-smi-a-json-mi250-rocm6.json")}`);
    expect(result.devices).toHaveLength(1);
    expect(result.problems).toEqual([LOW_POWER]);
  });

  it("reports the no-driver message", () => {
    expect(parseRocmSmiJson(fixture("rocm-smi-no-driver.txt"))).toEqual({
      devices: [],
      problems: [NO_DRIVER],
    });
    expect(rocmSmiFailure(fixture("rocm-smi-no-driver.txt"))).toBe(
      "Driver not initialized (amdgpu not found in modules)",
    );
  });
});

describe("rocm-smi text", () => {
  it("reads `rocm-smi -i` for three MI210s", () => {
    const result = parseRocmSmiText(fixture("rocm-smi-i-mi210.txt"));
    expect(result.problems).toEqual([]);
    expect(result.devices).toEqual(
      [0, 1, 2].map((index) => ({
        index,
        vendor: "AMD",
        name: "Instinct MI210",
        architecture: "gfx90a",
      })),
    );
  });

  it("reads `rocm-smi --showproduct` for four MI300As (6.1.1 key spelling)", () => {
    const result = parseRocmSmiText(fixture("rocm-smi-showproduct-mi300a-rocm611.txt"));
    expect(result.devices).toHaveLength(4);
    expect(result.devices.every((device) => device.name === "Instinct MI300A")).toBe(true);
    expect(result.devices.every((device) => device.architecture === "gfx942")).toBe(true);
  });

  it("reads raw tab-separated lines as rocm-smi prints them", () => {
    const result = parseRocmSmiText(
      "\n\nGPU[0]\t\t: Card series: \t\tArcturus GL-XL [Instinct MI100]\nGPU[0]\t\t: PCI Bus: 0000:83:00.0\n",
    );
    expect(result.devices).toEqual([
      { index: 0, vendor: "AMD", name: "Instinct MI100", busId: "0000:83:00.0" },
    ]);
  });

  it("reports the no-driver message", () => {
    expect(parseRocmSmiText(fixture("rocm-smi-no-driver.txt")).problems).toEqual([NO_DRIVER]);
  });
});

describe("rocm-smi tables", () => {
  it("reads --showhw after the low-power warning", () => {
    const result = parseRocmSmiTable(fixture("rocm-smi-showhw-mi210-lowpower-rocm72.txt"));
    expect(result).toEqual({
      devices: [
        { index: 0, vendor: "AMD", name: "AMD GPU 0x740f", architecture: "gfx90a", busId: "0000:01:00.0" },
        { index: 1, vendor: "AMD", name: "AMD GPU 0x740f", architecture: "gfx90a", busId: "0000:02:00.0" },
      ],
      problems: [LOW_POWER],
    });
  });

  it("reads the 6.1.1 concise table", () => {
    const result = parseRocmSmiTable(fixture("rocm-smi-concise-radeon-rocm611.txt"));
    expect(result.devices).toEqual([
      { index: 0, vendor: "AMD", name: "AMD GPU 0x73bf", temperatureC: 43, powerW: 6, utilizationPercent: 0 },
      { index: 1, vendor: "AMD", name: "AMD GPU 0x73a3", temperatureC: 34, powerW: 8, utilizationPercent: 0 },
    ]);
  });

  it("takes the product name from the second line of the pre-6.1.1 concise table", () => {
    const text = [
      "========================================== ROCm System Management Interface ==========================================",
      "==================================================== Concise Info ====================================================",
      "Device  [Model : Revision]    Temp        Power     Partitions      SCLK    MCLK     Fan  Perf  PwrCap  VRAM%  GPU%",
      "        Name (20 chars)       (Edge)      (Socket)  (Mem, Compute)",
      "======================================================================================================================",
      "0       [0x74a1 : 0x00]       35.0°C      140.0W    NPS1, SPX       132Mhz  900Mhz   0%   auto  750.0W    0%   12%",
      "        AMD Instinct MI300X",
      "======================================================================================================================",
    ].join("\n");
    expect(parseRocmSmiTable(text).devices).toEqual([
      {
        index: 0,
        vendor: "AMD",
        name: "AMD Instinct MI300X",
        architecture: "gfx942",
        temperatureC: 35,
        powerW: 140,
        utilizationPercent: 12,
      },
    ]);
  });

  it("reports the no-driver message", () => {
    expect(parseRocmSmiTable(fixture("rocm-smi-no-driver.txt")).problems).toEqual([NO_DRIVER]);
  });
});

describe("every rocm-smi parse result", () => {
  it("matches the GpuDevice schema and never throws", () => {
    const devices = [
      ...parseRocmSmiJson(fixture("rocm-smi-json-mi100-rocm602.json")).devices,
      ...parseRocmSmiJson(fixture("rocm-smi-a-json-mi250-rocm6.json")).devices,
      ...parseRocmSmiText(fixture("rocm-smi-i-mi210.txt")).devices,
      ...parseRocmSmiText(fixture("rocm-smi-showproduct-mi300a-rocm611.txt")).devices,
      ...parseRocmSmiTable(fixture("rocm-smi-showhw-mi210-lowpower-rocm72.txt")).devices,
      ...parseRocmSmiTable(fixture("rocm-smi-concise-radeon-rocm611.txt")).devices,
    ];
    expect(devices).toHaveLength(16);
    for (const device of devices) expect(gpuDeviceSchema.safeParse(device).success).toBe(true);
    for (const text of ["", "{}", "[]", '{"card0": null, "cardX": {}}', "GPU[0] : : :", "GPU  x\n0 "]) {
      expect(() => parseRocmSmiJson(text)).not.toThrow();
      expect(() => parseRocmSmiText(text)).not.toThrow();
      expect(() => parseRocmSmiTable(text)).not.toThrow();
    }
  });
});
