import { describe, expect, it } from "vitest";
import { gpuDeviceSchema } from "../../../shared/schemas/gpu.js";
import {
  NVIDIA_QUERY_FIELDS,
  nvidiaSmiFailure,
  parseNvidiaSmiList,
  parseNvidiaSmiQueryCsv,
  parseNvidiaSmiTable,
  parseNvidiaSmiXml,
} from "../../../src-main/engine/context/gpu/nvidiaSmi.js";
import { fixture } from "./fixture.js";

const H100 = "NVIDIA H100 80GB HBM3";
const NO_DRIVER_MESSAGE =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

describe("nvidia-smi -L", () => {
  it("lists the eight H100s with their UUIDs", () => {
    const { devices, problems } = parseNvidiaSmiList(fixture("nvidia-smi-L-h100x8.txt"));
    expect(problems).toEqual([]);
    expect(devices.map((device) => device.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(devices.every((device) => device.name === H100 && device.vendor === "NVIDIA")).toBe(true);
    expect(devices[0]?.uuid).toBe("GPU-deb02430-f8f0-88a9-2871-7cc1acc99eee");
    expect(devices[7]?.uuid).toBe("GPU-c674bee4-9599-7385-18a5-ee64430a859a");
    // madengine's MAD_SYSTEM_GPU_ARCHITECTURE on NVIDIA is the -L name (spec §3.3)
    expect(devices[0]?.architecture).toBe(H100);
    expect(devices.some((device) => device.migDevices !== undefined)).toBe(false);
  });

  it("attaches the MIG instances to their GPU", () => {
    const { devices } = parseNvidiaSmiList(fixture("nvidia-smi-L-h100-mig-590.txt"));
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({
      index: 0,
      name: H100,
      uuid: "GPU-00000000-0000-0000-0000-000000000000",
    });
    expect(devices[0]?.migDevices).toEqual([
      { profile: "3g.40gb", index: 0, uuid: "MIG-00000000-0000-0000-0000-000000000000" },
      { profile: "2g.20gb", index: 1, uuid: "MIG-00000001-0000-0000-0000-000000000001" },
      { profile: "1g.10gb", index: 2, uuid: "MIG-00000002-0000-0000-0000-000000000002" },
      { profile: "1g.10gb", index: 3, uuid: "MIG-00000003-0000-0000-0000-000000000003" },
    ]);
  });

  it("reports the no-driver message instead of devices", () => {
    const result = parseNvidiaSmiList(fixture("nvidia-smi-no-driver.txt"));
    expect(result.devices).toEqual([]);
    expect(result.problems).toEqual([`nvidia-smi -L: ${NO_DRIVER_MESSAGE}`]);
  });
});

describe("nvidia-smi --query-gpu CSV", () => {
  it("reads the 212-field capture with header and units", () => {
    const result = parseNvidiaSmiQueryCsv(fixture("nvidia-smi-query-gpu-h100-590.csv"));
    expect(result.problems).toEqual([]);
    expect(result.driverVersion).toBe("590.48.01");
    expect(result.devices).toEqual([
      {
        index: 0,
        vendor: "NVIDIA",
        name: H100,
        architecture: H100,
        uuid: "GPU-00000000-0000-0000-0000-000000000000",
        busId: "00000000:00:09.0",
        memoryTotalMiB: 81559,
        memoryUsedMiB: 19818,
        utilizationPercent: 100,
        temperatureC: 59,
        powerW: 631.95,
      },
    ]);
    const row = result.rows[0] ?? {};
    expect(Object.keys(row)).toHaveLength(212);
    // units are dropped from the header names, kept in the raw cells
    expect(row["memory.reserved"]).toBe("479 MiB");
    expect(row["fan.speed"]).toBe("[N/A]");
    expect(row["platform.chassis_serial_number"]).toBe("");
    expect(row.hostname).toBe("[N/A]");
  });

  it("reads a noheader,nounits line given its field list (old driver, no NVIDIA prefix)", () => {
    const fields = [
      "fan.speed",
      "memory.total",
      "memory.used",
      "memory.free",
      "pstate",
      "temperature.gpu",
      "name",
      "uuid",
      "compute_mode",
      "utilization.gpu",
      "utilization.memory",
      "index",
    ];
    const result = parseNvidiaSmiQueryCsv(
      fixture("nvidia-smi-query-gpu-noheader-nounits-gtx1070ti.csv"),
      fields,
    );
    expect(result.problems).toEqual([]);
    expect(result.devices).toEqual([
      {
        index: 1,
        vendor: "NVIDIA",
        name: "GeForce GTX 1070 Ti",
        architecture: "GeForce GTX 1070 Ti",
        uuid: "GPU-d1911b8a-f5c8-5e66-057c-486561269de8",
        memoryTotalMiB: 8114,
        memoryUsedMiB: 553,
        utilizationPercent: 100,
        temperatureC: 61,
      },
    ]);
    expect(result.rows[0]?.pstate).toBe("P2");
  });

  it("leaves out [N/A] and [Not Supported] values and flags short rows", () => {
    const result = parseNvidiaSmiQueryCsv(
      "0, Tesla T4, [N/A], 00000000:3B:00.0, 15360, [Not Supported], [N/A], 40, [N/A]\n",
      NVIDIA_QUERY_FIELDS,
    );
    expect(result.devices[0]).toEqual({
      index: 0,
      vendor: "NVIDIA",
      name: "Tesla T4",
      architecture: "Tesla T4",
      busId: "00000000:3B:00.0",
      memoryTotalMiB: 15360,
      temperatureC: 40,
    });
    expect(result.problems).toEqual(["nvidia-smi --query-gpu: row 1 has 9 values for 10 fields"]);
  });

  it("skips a header line when noheader output was expected", () => {
    const header = `${NVIDIA_QUERY_FIELDS.join(", ")}\n`;
    const row = "3, NVIDIA A10, GPU-1, 00000000:17:00.0, 23028, 0, 0, 31, 15.56, 535.54.03\n";
    const result = parseNvidiaSmiQueryCsv(header + row, NVIDIA_QUERY_FIELDS);
    expect(result.devices.map((device) => device.index)).toEqual([3]);
    expect(result.driverVersion).toBe("535.54.03");
  });

  it("reports the no-driver message instead of a GPU row", () => {
    const result = parseNvidiaSmiQueryCsv(fixture("nvidia-smi-no-driver.txt"), NVIDIA_QUERY_FIELDS);
    expect(result.devices).toEqual([]);
    expect(result.problems).toEqual([`nvidia-smi --query-gpu: ${NO_DRIVER_MESSAGE}`]);
  });
});

describe("nvidia-smi -q -x", () => {
  it("reads the A100 by path so that MIG framebuffer usage does not leak into the GPU's", () => {
    const result = parseNvidiaSmiXml(fixture("nvidia-smi-q-x-a100-535.xml"));
    expect(result.driverVersion).toBe("535.54.03");
    expect(result.runtimeVersion).toBe("12.2");
    expect(result.devices).toHaveLength(1);
    const gpu = result.devices[0];
    expect(gpu).toMatchObject({
      index: 0,
      name: "NVIDIA A100-SXM4-80GB",
      uuid: "GPU-513536b6-7d19-9063-b049-1e69664bb298",
      busId: "00000000:01:00.0",
      memoryTotalMiB: 81920,
      memoryUsedMiB: 50,
      temperatureC: 27,
      powerW: 67.03,
    });
    // each <mig_device> has <fb_memory_usage> 19968 MiB total / 12 MiB used
    expect(gpu?.memoryTotalMiB).not.toBe(19968);
    expect(gpu?.memoryUsedMiB).not.toBe(12);
    // GPU-Util is N/A in MIG mode
    expect(gpu?.utilizationPercent).toBeUndefined();
    expect(gpu?.migDevices).toEqual([
      { profile: "GI 3 CI 0", index: 0 },
      { profile: "GI 4 CI 0", index: 1 },
      { profile: "GI 5 CI 0", index: 2 },
      { profile: "GI 6 CI 0", index: 3 },
    ]);
    // the fixture's authors cut four GPUs down to one
    expect(result.problems).toEqual([
      "nvidia-smi -q -x: attached_gpus says 4 but 1 <gpu> elements were found",
    ]);
  });

  it("reads the tab-indented v13 document and its average power draw", () => {
    const result = parseNvidiaSmiXml(fixture("nvidia-smi-q-x-rtx4000ada-595.xml"));
    expect(result).toEqual({
      devices: [
        {
          index: 0,
          vendor: "NVIDIA",
          name: "NVIDIA RTX 4000 SFF Ada Generation",
          architecture: "NVIDIA RTX 4000 SFF Ada Generation",
          uuid: "GPU-37037c3f-65c8-ec4d-24a9-420204ad8026",
          busId: "00000000:06:00.0",
          memoryTotalMiB: 20475,
          memoryUsedMiB: 3534,
          utilizationPercent: 0,
          temperatureC: 38,
          powerW: 8.81,
        },
      ],
      problems: [],
      driverVersion: "595.84",
      runtimeVersion: "13.2",
    });
  });

  it("survives truncated or foreign input", () => {
    const xml = fixture("nvidia-smi-q-x-a100-535.xml");
    const truncated = parseNvidiaSmiXml(xml.slice(0, xml.indexOf("<fb_memory_usage>", 3000)));
    expect(truncated.devices[0]?.name).toBe("NVIDIA A100-SXM4-80GB");
    expect(truncated.devices[0]?.memoryTotalMiB).toBeUndefined();
    expect(parseNvidiaSmiXml("").problems).toEqual(["nvidia-smi -q -x: no output"]);
    expect(parseNvidiaSmiXml("<<<>>> not xml </a>").devices).toEqual([]);
  });
});

describe("nvidia-smi default table", () => {
  it("reads the eight H100 rows of driver 550", () => {
    const result = parseNvidiaSmiTable(fixture("nvidia-smi-h100x8-550.txt"));
    expect(result.driverVersion).toBe("550.90.07");
    expect(result.runtimeVersion).toBe("12.4");
    expect(result.devices).toHaveLength(8);
    expect(result.devices[0]).toEqual({
      index: 0,
      vendor: "NVIDIA",
      name: H100,
      architecture: H100,
      busId: "00000000:19:00.0",
      memoryUsedMiB: 1,
      memoryTotalMiB: 81559,
      temperatureC: 27,
      powerW: 72,
      utilizationPercent: 0,
    });
    expect(result.devices[7]).toMatchObject({
      index: 7,
      busId: "00000000:DB:00.0",
      temperatureC: 23,
      powerW: 72,
    });
  });

  it("reads the 590 layout under load and ignores the process table", () => {
    const result = parseNvidiaSmiTable(fixture("nvidia-smi-h100-590-load.txt"));
    expect(result.driverVersion).toBe("590.48.01");
    expect(result.runtimeVersion).toBe("13.1");
    expect(result.devices).toHaveLength(1);
    expect(result.devices[0]).toMatchObject({
      index: 0,
      name: H100,
      busId: "00000000:00:09.0",
      memoryUsedMiB: 19818,
      memoryTotalMiB: 81559,
      utilizationPercent: 100,
      temperatureC: 59,
      powerW: 629,
    });
  });

  it("reports the no-driver message", () => {
    expect(nvidiaSmiFailure(fixture("nvidia-smi-no-driver.txt"))).toBe(NO_DRIVER_MESSAGE);
    expect(parseNvidiaSmiTable(fixture("nvidia-smi-no-driver.txt"))).toEqual({
      devices: [],
      problems: [`nvidia-smi: ${NO_DRIVER_MESSAGE}`],
    });
    expect(nvidiaSmiFailure("Failed to initialize NVML: Driver/library version mismatch\n")).toBe(
      "Failed to initialize NVML: Driver/library version mismatch",
    );
    expect(nvidiaSmiFailure("No devices were found\n")).toBe("No devices were found");
  });
});

describe("every NVIDIA parse result", () => {
  it("matches the GpuDevice schema", () => {
    const devices = [
      ...parseNvidiaSmiList(fixture("nvidia-smi-L-h100-mig-590.txt")).devices,
      ...parseNvidiaSmiQueryCsv(fixture("nvidia-smi-query-gpu-h100-590.csv")).devices,
      ...parseNvidiaSmiXml(fixture("nvidia-smi-q-x-a100-535.xml")).devices,
      ...parseNvidiaSmiXml(fixture("nvidia-smi-q-x-rtx4000ada-595.xml")).devices,
      ...parseNvidiaSmiTable(fixture("nvidia-smi-h100x8-550.txt")).devices,
      ...parseNvidiaSmiTable(fixture("nvidia-smi-h100-590-load.txt")).devices,
    ];
    expect(devices).toHaveLength(13);
    for (const device of devices) expect(gpuDeviceSchema.safeParse(device).success).toBe(true);
  });

  it("never throws on odd input", () => {
    for (const text of ["", "\n\n", "garbage", "GPU x: ?", "| 0 | 1 |", "<nvidia_smi_log><gpu>"]) {
      expect(() => parseNvidiaSmiList(text)).not.toThrow();
      expect(() => parseNvidiaSmiQueryCsv(text)).not.toThrow();
      expect(() => parseNvidiaSmiQueryCsv(text, NVIDIA_QUERY_FIELDS)).not.toThrow();
      expect(() => parseNvidiaSmiXml(text)).not.toThrow();
      expect(() => parseNvidiaSmiTable(text)).not.toThrow();
    }
  });
});
