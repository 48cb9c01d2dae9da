import { describe, expect, it } from "vitest";
import { gfxForDeviceId, normalizeGfxName } from "../../../src-main/engine/context/gpu/amdArchitecture.js";
import { parseHipconfigVersion } from "../../../src-main/engine/context/gpu/hipconfig.js";
import { parseNvccVersion } from "../../../src-main/engine/context/gpu/nvcc.js";
import { fixture } from "./fixture.js";

describe("hipconfig --version", () => {
  it("keeps major.minor of the distro build's version", () => {
    expect(parseHipconfigVersion(fixture("hipconfig-version-rocm72-distro.txt"))).toEqual({
      version: "7.2",
      full: "7.2.53211-9999",
      problems: [],
    });
  });

  it("reads the upstream spelling and skips warnings printed before it", () => {
    expect(parseHipconfigVersion("7.2.26015-fc0010cf6a").version).toBe("7.2");
    expect(parseHipconfigVersion("WARNING: HIP_PATH is not set\n6.4.43482-0f2d60242\n").full).toBe(
      "6.4.43482-0f2d60242",
    );
  });

  it("reports output that holds no version", () => {
    expect(parseHipconfigVersion("hipconfig: command failed\n")).toEqual({
      problems: ["hipconfig --version: hipconfig: command failed"],
    });
    expect(parseHipconfigVersion("").problems).toEqual(["hipconfig --version: no output"]);
  });
});

describe("nvcc --version", () => {
  it("takes the release", () => {
    const text = [
      "nvcc: NVIDIA (R) Cuda compiler driver",
      "Copyright (c) 2005-2024 NVIDIA Corporation",
      "Built on Thu_Mar_28_02:18:24_PDT_2024",
      "Cuda compilation tools, release 12.4, V12.4.131",
      "Build cuda_12.4.r12.4/compiler.34097967_0",
    ].join("\n");
    expect(parseNvccVersion(text)).toBe("12.4");
    expect(parseNvccVersion("bash: nvcc: command not found")).toBeUndefined();
  });
});

describe("AMD gfx targets", () => {
  it("repairs rocm-smi's decimal stepping and keeps valid names", () => {
    expect(normalizeGfxName("gfx9010")).toBe("gfx90a");
    expect(normalizeGfxName("gfx9012")).toBe("gfx90c");
    for (const name of ["gfx90a", "gfx908", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1201"]) {
      expect(normalizeGfxName(name)).toBe(name);
    }
    for (const odd of [undefined, "", "N/A", "gfx", "gfx9", "sm_90"])
      expect(normalizeGfxName(odd)).toBeUndefined();
  });

  it("knows the Instinct device ids seen in the fixtures", () => {
    expect(gfxForDeviceId("0x738c")).toBe("gfx908"); // MI100, rocm-smi json
    expect(gfxForDeviceId("0x740f")).toBe("gfx90a"); // MI210, rocm-smi --showhw says gfx90a
    expect(gfxForDeviceId("0x740C")).toBe("gfx90a"); // MI250
    expect(gfxForDeviceId("0x74a0")).toBe("gfx942"); // MI300A, --showproduct says gfx942
    expect(gfxForDeviceId("74a2")).toBe("gfx942"); // MI308X, amd-smi says gfx942
    expect(gfxForDeviceId("0x73bf")).toBeUndefined();
    expect(gfxForDeviceId("N/A")).toBeUndefined();
  });
});
