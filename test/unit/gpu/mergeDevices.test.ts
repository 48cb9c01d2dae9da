import { describe, expect, it } from "vitest";
import type { GpuDevice } from "../../../shared/schemas/gpu.js";
import { mergeDevices } from "../../../src-main/engine/context/gpu/mergeDevices.js";

const smi: GpuDevice[] = [
  {
    index: 0,
    vendor: "AMD",
    name: "Instinct MI210",
    architecture: "gfx9010",
    busId: "0000:02:00.0",
    powerW: 40,
  },
  { index: 1, vendor: "AMD", name: "Instinct MI210", busId: "0000:01:00.0" },
];
const rocminfo: GpuDevice[] = [
  {
    index: 0,
    vendor: "AMD",
    name: "AMD Instinct MI210",
    architecture: "gfx90a",
    busId: "0000:01:00.0",
    uuid: "GPU-a",
  },
  {
    index: 1,
    vendor: "AMD",
    name: "AMD Instinct MI210",
    architecture: "gfx90a",
    busId: "0000:02:00.0",
    uuid: "GPU-b",
  },
];

describe("mergeDevices", () => {
  it("matches by PCI address, keeps the primary's index and fields, and fills the gaps", () => {
    expect(mergeDevices(smi, rocminfo, ["architecture"])).toEqual([
      {
        index: 0,
        vendor: "AMD",
        name: "Instinct MI210",
        architecture: "gfx90a",
        busId: "0000:02:00.0",
        uuid: "GPU-b",
        powerW: 40,
      },
      {
        index: 1,
        vendor: "AMD",
        name: "Instinct MI210",
        architecture: "gfx90a",
        busId: "0000:01:00.0",
        uuid: "GPU-a",
      },
    ]);
  });

  it("matches by index when a PCI address is missing, and keeps the primary's fields unless told", () => {
    const withoutBus = smi.map(({ busId: _busId, ...device }) => device);
    const merged = mergeDevices(withoutBus, rocminfo);
    expect(merged.map((device) => [device.architecture, device.uuid])).toEqual([
      ["gfx9010", "GPU-a"],
      ["gfx90a", "GPU-b"],
    ]);
  });

  it("returns the secondary devices when the primary tool found none", () => {
    expect(mergeDevices([], rocminfo)).toBe(rocminfo);
    expect(mergeDevices(smi, [])).toEqual(smi);
  });
});
