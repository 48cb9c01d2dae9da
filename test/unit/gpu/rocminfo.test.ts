import { describe, expect, it } from "vitest";
import { gpuDeviceSchema } from "../../../shared/schemas/gpu.js";
import { parseRocminfo, rocminfoFailure } from "../../../src-main/engine/context/gpu/rocminfo.js";
import { fixture } from "./fixture.js";

const ESC = String.fromCharCode(27);

describe("rocminfo", () => {
  const text = fixture("rocminfo-mi210x2-rocm72.txt");

  it("reads the two MI210 GPU agents and skips the CPU agent", () => {
    const result = parseRocminfo(text);
    expect(result.problems).toEqual([]);
    expect(result.driverVersion).toBe("6.16.13");
    expect(result.devices).toEqual([
      {
        index: 0,
        vendor: "AMD",
        name: "AMD Instinct MI210",
        architecture: "gfx90a",
        uuid: "GPU-327c8626c83ec858",
        busId: "0000:01:00.0",
        memoryTotalMiB: 65520,
      },
      {
        index: 1,
        vendor: "AMD",
        name: "AMD Instinct MI210",
        architecture: "gfx90a",
        uuid: "GPU-753ef2efdc04e86d",
        busId: "0000:02:00.0",
        memoryTotalMiB: 65520,
      },
    ]);
    for (const device of result.devices) expect(gpuDeviceSchema.safeParse(device).success).toBe(true);
  });

  it("reads the raw output, whose first line is wrapped in ANSI colour codes", () => {
    const raw = text.replace(/^(.*)$/m, `${ESC}[37m$1${ESC}[0m`);
    expect(raw.startsWith(ESC)).toBe(true);
    expect(parseRocminfo(raw)).toEqual(parseRocminfo(text));
  });

  it("takes the target from the ISA name when the agent name is not a gfx target", () => {
    const renamed = text.replace(/^( {2}Name:\s+)gfx90a/gm, "$1unknown");
    expect(renamed.match(/^ {2}Name:\s+unknown/gm)).toHaveLength(2);
    expect(parseRocminfo(renamed).devices.map((device) => device.architecture)).toEqual(["gfx90a", "gfx90a"]);
  });

  it("reports a ROCk module that is not loaded or not live as the problem", () => {
    const notLoaded = `${ESC}[31mROCk module is NOT loaded, possibly no GPU devices${ESC}[0m\n`;
    expect(parseRocminfo(notLoaded)).toEqual({
      devices: [],
      problems: ["rocminfo: ROCk module is NOT loaded, possibly no GPU devices"],
    });
    const notLive = `${ESC}[31mROCk module is NOT live, possibly no GPU devices${ESC}[0m\n`;
    expect(rocminfoFailure(notLive)).toBe("ROCk module is NOT live, possibly no GPU devices");
  });

  it("says so when there are agents but none is a GPU", () => {
    const cpuOnly = text.slice(0, text.indexOf("Agent 2"));
    expect(parseRocminfo(cpuOnly)).toEqual({
      devices: [],
      problems: ["rocminfo: no GPU agents found"],
      driverVersion: "6.16.13",
    });
  });

  it("never throws on odd input", () => {
    for (const odd of ["", "Agent 1", "Agent 1\n  Device Type: GPU\n  BDFID: nope", "*** Done ***"]) {
      expect(() => parseRocminfo(odd)).not.toThrow();
    }
    expect(parseRocminfo("Agent 1\n  Device Type: GPU\n").devices).toEqual([
      { index: 0, vendor: "AMD", name: "AMD GPU" },
    ]);
  });
});
