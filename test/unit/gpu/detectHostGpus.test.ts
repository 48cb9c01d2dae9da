import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { type GpuReport, gpuReportSchema } from "../../../shared/schemas/gpu.js";
import {
  type CommandResult,
  type CommandRunner,
  defaultCommandRunner,
  detectHostGpus,
  GPU_COMMAND_TIMEOUT_MS,
  gpuContextFacts,
  toolCandidates,
} from "../../../src-main/engine/context/gpu/detectHostGpus.js";
import { NVIDIA_QUERY_FIELDS } from "../../../src-main/engine/context/gpu/nvidiaSmi.js";
import { fixture } from "./fixture.js";

const NVIDIA_QUERY = `nvidia-smi --query-gpu=${NVIDIA_QUERY_FIELDS.join(",")} --format=csv,noheader,nounits`;
const ROCM_SMI_JSON =
  "rocm-smi --showid --showproductname --showbus --showmeminfo vram --showuse --showtemp --showpower --showdriverversion --json";
const ROCM_BIN = `${process.env.ROCM_PATH || "/opt/rocm"}/bin`;
const NVIDIA_NO_DRIVER =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

type Canned = string | Partial<CommandResult>;

function hostHasGpuTools(): boolean {
  const pathDirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  return ["nvidia-smi", "rocm-smi", "amd-smi", "rocminfo"].some((tool) =>
    toolCandidates(tool).some((candidate) =>
      candidate.includes("/")
        ? existsSync(candidate)
        : pathDirs.some((dir) => existsSync(join(dir, candidate))),
    ),
  );
}

/** A host whose commands (`command arg arg`) print canned output; anything else does not exist. */
function fakeHost(commands: Record<string, Canned>) {
  const calls: string[] = [];
  const timeouts = new Set<number>();
  const run: CommandRunner = async (command, args, timeoutMs) => {
    const key = [command, ...args].join(" ");
    calls.push(key);
    timeouts.add(timeoutMs);
    const canned = commands[key];
    if (canned === undefined)
      return { exitCode: null, stdout: "", stderr: `spawn ${command} ENOENT`, notFound: true };
    if (typeof canned === "string") return { exitCode: 0, stdout: canned, stderr: "", notFound: false };
    return { exitCode: 0, stdout: "", stderr: "", notFound: false, ...canned };
  };
  return { run, calls, timeouts };
}

async function detect(host: ReturnType<typeof fakeHost>): Promise<GpuReport> {
  const report = await detectHostGpus(host.run);
  expect(gpuReportSchema.parse(report)).toEqual(report);
  expect([...host.timeouts]).toEqual([GPU_COMMAND_TIMEOUT_MS]);
  return report;
}

/**
 * What `--format=csv,noheader,nounits` prints for the detection fields on the H100 of the 590 capture:
 * the same cells as the captured 212-field `--format=csv` output, picked by name, units removed.
 */
function queryOutputOf590Capture(): string {
  const [header = "", values = ""] = fixture("nvidia-smi-query-gpu-h100-590.csv").split("\n");
  const names = header.split(", ").map((name) => name.replace(/ \[.*\]$/, ""));
  const cells = values.split(", ");
  const picked = NVIDIA_QUERY_FIELDS.map((field) => cells[names.indexOf(field)]?.replace(/ (MiB|%|W)$/, ""));
  return `${picked.join(", ")}\n`;
}

describe("detectHostGpus on an NVIDIA host", () => {
  it("reads the query CSV, attaches MIG instances from -L and takes CUDA from the banner without nvcc", async () => {
    const query = queryOutputOf590Capture();
    expect(query).toBe(
      "0, NVIDIA H100 80GB HBM3, GPU-00000000-0000-0000-0000-000000000000, 00000000:00:09.0, 81559, 19818, 100, 59, 631.95, 590.48.01\n",
    );
    const host = fakeHost({
      [NVIDIA_QUERY]: query,
      "nvidia-smi -L": fixture("nvidia-smi-L-h100-mig-590.txt"),
      "nvidia-smi": fixture("nvidia-smi-h100-590-load.txt"),
    });
    const report = await detect(host);
    expect(report).toMatchObject({
      vendor: "NVIDIA",
      driverVersion: "590.48.01",
      runtimeVersion: "13.1",
      architecture: "NVIDIA H100 80GB HBM3",
      problems: [],
    });
    expect(report.devices).toHaveLength(1);
    expect(report.devices[0]).toMatchObject({
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      busId: "00000000:00:09.0",
      memoryTotalMiB: 81559,
      memoryUsedMiB: 19818,
      utilizationPercent: 100,
      temperatureC: 59,
      powerW: 631.95,
    });
    expect(report.devices[0]?.migDevices?.map((mig) => mig.profile)).toEqual([
      "3g.40gb",
      "2g.20gb",
      "1g.10gb",
      "1g.10gb",
    ]);
    expect(host.calls).toEqual([
      NVIDIA_QUERY,
      "nvidia-smi -L",
      "nvcc --version",
      "/usr/local/cuda/bin/nvcc --version",
      "nvidia-smi",
    ]);
    expect(gpuContextFacts(report)).toEqual({
      gpu_vendor: "NVIDIA",
      MAD_SYSTEM_NGPUS: 1,
      MAD_SYSTEM_GPU_ARCHITECTURE: "NVIDIA H100 80GB HBM3",
      MAD_SYSTEM_HIP_VERSION: "13.1",
      docker_gpus: "0-0",
    });
  });

  it("prefers nvcc's release for the CUDA version, as madengine does", async () => {
    const host = fakeHost({
      [NVIDIA_QUERY]: queryOutputOf590Capture(),
      "nvidia-smi -L": fixture("nvidia-smi-L-h100-mig-590.txt"),
      "nvcc --version": "Cuda compilation tools, release 12.4, V12.4.131\n",
    });
    const report = await detect(host);
    expect(report.runtimeVersion).toBe("12.4");
    expect(host.calls).not.toContain("nvidia-smi");
  });

  it("falls back to -L when the query is rejected for another reason than the driver", async () => {
    const host = fakeHost({
      [NVIDIA_QUERY]: { exitCode: 2, stdout: 'Field "power.draw" is not a valid field to query.\n\n' },
      "nvidia-smi -L": fixture("nvidia-smi-L-h100x8.txt"),
      "nvidia-smi": fixture("nvidia-smi-h100x8-550.txt"),
    });
    const report = await detect(host);
    expect(report.vendor).toBe("NVIDIA");
    expect(report.devices).toHaveLength(8);
    expect(report.devices[7]?.uuid).toBe("GPU-c674bee4-9599-7385-18a5-ee64430a859a");
    expect(report.driverVersion).toBe("550.90.07");
    expect(report.runtimeVersion).toBe("12.4");
    expect(report.problems).toEqual([
      'nvidia-smi: Field "power.draw" is not a valid field to query. (exit code 2)',
    ]);
    expect(gpuContextFacts(report).docker_gpus).toBe("0-7");
  });
});

describe("detectHostGpus on an AMD host", () => {
  it("finds two MI210s from rocminfo under $ROCM_PATH/bin and the HIP version from hipconfig", async () => {
    const host = fakeHost({
      [`${ROCM_BIN}/rocminfo`]: fixture("rocminfo-mi210x2-rocm72.txt"),
      "hipconfig --version": fixture("hipconfig-version-rocm72-distro.txt"),
    });
    const report = await detect(host);
    expect(report).toEqual({
      vendor: "AMD",
      devices: [
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
      ],
      driverVersion: "6.16.13",
      runtimeVersion: "7.2",
      architecture: "gfx90a",
      problems: [],
    });
    expect(host.calls.slice(0, 2)).toEqual([
      NVIDIA_QUERY,
      NVIDIA_QUERY.replace("nvidia-smi", "/usr/bin/nvidia-smi"),
    ]);
    expect(gpuContextFacts(report)).toEqual({
      gpu_vendor: "AMD",
      MAD_SYSTEM_NGPUS: 2,
      MAD_SYSTEM_GPU_ARCHITECTURE: "gfx90a",
      MAD_SYSTEM_HIP_VERSION: "7.2",
      docker_gpus: "0-1",
    });
  });

  it("finds four MI100s (gfx908) from rocm-smi --json alone", async () => {
    const host = fakeHost({ [ROCM_SMI_JSON]: fixture("rocm-smi-json-mi100-rocm602.json") });
    const report = await detect(host);
    expect(report.vendor).toBe("AMD");
    expect(report.devices.map((device) => [device.name, device.architecture, device.busId])).toEqual([
      ["Instinct MI100", "gfx908", "0000:83:00.0"],
      ["Instinct MI100", "gfx908", "0000:A3:00.0"],
      ["Instinct MI100", "gfx908", "0000:C3:00.0"],
      ["Instinct MI100", "gfx908", "0000:E3:00.0"],
    ]);
    expect(report.driverVersion).toBe("6.3.6");
    expect(report.runtimeVersion).toBeUndefined();
    expect(report.problems).toEqual([]);
    expect(gpuContextFacts(report)).toEqual({
      gpu_vendor: "AMD",
      MAD_SYSTEM_NGPUS: 4,
      MAD_SYSTEM_GPU_ARCHITECTURE: "gfx908",
      MAD_SYSTEM_HIP_VERSION: undefined,
      docker_gpus: "0-3",
    });
  });

  it("lets rocminfo's gfx target win over rocm-smi's and merges by PCI address", async () => {
    const mi250 = fixture("rocm-smi-a-json-mi250-rocm6.json").replace('"gfx9010"', '"gfx9999"');
    const rocminfo = fixture("rocminfo-mi210x2-rocm72.txt").replace(
      /BDFID: {19}512/,
      "BDFID:                   10496",
    );
    const host = fakeHost({
      [ROCM_SMI_JSON]: mi250,
      rocminfo,
      "hipconfig --version": "7.2.26015-fc0010cf6a",
    });
    const report = await detect(host);
    // rocm-smi's card0 sits at 0000:29:00.0, rocminfo's second agent (BDFID 0x2900) too
    expect(report.devices).toEqual([
      expect.objectContaining({
        index: 0,
        name: "AMD INSTINCT MI250 (MCM) OAM AC MBA",
        architecture: "gfx90a",
        uuid: "GPU-753ef2efdc04e86d",
        busId: "0000:29:00.0",
        temperatureC: 43,
      }),
    ]);
  });

  it("keeps the GPUs a tool printed before exiting non-zero", async () => {
    const host = fakeHost({ rocminfo: { exitCode: 1, stdout: fixture("rocminfo-mi210x2-rocm72.txt") } });
    const report = await detect(host);
    expect(report.vendor).toBe("AMD");
    expect(report.devices).toHaveLength(2);
    expect(report.problems).toEqual([]);
  });

  it("says so when no tool names the gfx target", async () => {
    const unknownId = fixture("rocm-smi-json-mi100-rocm602.json").replaceAll("0x738c", "0x7fff");
    const host = fakeHost({
      [ROCM_SMI_JSON]: unknownId,
      "hipconfig --version": { exitCode: 127, stderr: "perl: not found\n" },
    });
    const report = await detect(host);
    expect(report.devices).toHaveLength(4);
    expect(report.architecture).toBeUndefined();
    expect(report.problems).toEqual([
      "no gfx architecture found for GPU 0, 1, 2, 3: rocminfo and the SMI tools named none",
      "hipconfig --version: perl: not found (exit code 127)",
    ]);
  });

  it("uses amd-smi static and metric JSON when rocm-smi is missing", async () => {
    const staticJson = JSON.stringify([
      {
        gpu: 0,
        asic: { market_name: "AMD Instinct MI300X", device_id: "0x74a1", target_graphics_version: "gfx942" },
        bus: { bdf: "0000:0c:00.0" },
        vram: { size: { value: 196592, unit: "MB" } },
        driver: { version: "6.12.12" },
      },
    ]);
    const host = fakeHost({
      "amd-smi static --json": staticJson,
      "amd-smi metric --json": fixture("amd-smi-metric-power-json-rocm61.json"),
    });
    const report = await detect(host);
    expect(report.devices).toEqual([
      {
        index: 0,
        vendor: "AMD",
        name: "AMD Instinct MI300X",
        architecture: "gfx942",
        busId: "0000:0c:00.0",
        memoryTotalMiB: 196592,
        powerW: 10,
      },
    ]);
    expect(report.driverVersion).toBe("6.12.12");
  });
});

describe("detectHostGpus with no usable GPU", () => {
  it("reports NONE with nvidia-smi's own message when the driver is missing (exit 9)", async () => {
    const host = fakeHost({ [NVIDIA_QUERY]: { exitCode: 9, stdout: fixture("nvidia-smi-no-driver.txt") } });
    const report = await detect(host);
    expect(report).toEqual({
      vendor: "NONE",
      devices: [],
      problems: [`nvidia-smi: ${NVIDIA_NO_DRIVER} (exit code 9)`],
    });
    // without a driver every nvidia-smi command fails alike, so only the first one runs
    expect(host.calls.filter((call) => call.includes("nvidia-smi"))).toEqual([NVIDIA_QUERY]);
    expect(gpuContextFacts(report)).toEqual({
      gpu_vendor: "NONE",
      MAD_SYSTEM_NGPUS: 0,
      MAD_SYSTEM_GPU_ARCHITECTURE: undefined,
      MAD_SYSTEM_HIP_VERSION: undefined,
      docker_gpus: undefined,
    });
  });

  it.each([0, 1])("reports each AMD tool's no-driver message (exit %i)", async (exitCode) => {
    const host = fakeHost({
      [ROCM_SMI_JSON]: { exitCode, stderr: fixture("rocm-smi-no-driver.txt") },
      "amd-smi static --json": { exitCode, stderr: fixture("amd-smi-no-driver.txt") },
      rocminfo: {
        exitCode,
        stdout: "\u001b[31mROCk module is NOT loaded, possibly no GPU devices\u001b[0m\n",
      },
      "hipconfig --version": "7.2.26015-fc0010cf6a",
    });
    const report = await detect(host);
    const exit = exitCode === 0 ? "" : ` (exit code ${exitCode})`;
    expect(report).toEqual({
      vendor: "NONE",
      devices: [],
      problems: [
        `rocm-smi: Driver not initialized (amdgpu not found in modules)${exit}`,
        `amd-smi: Unable to get devices, driver not initialized (amdgpu not found in modules)${exit}`,
        `rocminfo: ROCk module is NOT loaded, possibly no GPU devices${exit}`,
      ],
    });
    expect(host.calls).not.toContain("hipconfig --version");
  });

  it("reports NONE with no problems on a host without any GPU tool", async () => {
    const host = fakeHost({});
    const report = await detect(host);
    expect(report).toEqual({ vendor: "NONE", devices: [], problems: [] });
    expect(host.calls.map((call) => call.split(" ")[0])).toEqual([
      "nvidia-smi",
      "/usr/bin/nvidia-smi",
      "rocm-smi",
      `${ROCM_BIN}/rocm-smi`,
      "amd-smi",
      `${ROCM_BIN}/amd-smi`,
      "rocminfo",
      `${ROCM_BIN}/rocminfo`,
    ]);
  });

  it("turns a runner that throws into a problem, not an exception", async () => {
    const report = await detectHostGpus(async () => {
      throw new Error("spawn failed");
    });
    expect(report.vendor).toBe("NONE");
    expect(report.problems[0]).toBe("nvidia-smi: Error: spawn failed");
  });
});

describe("toolCandidates", () => {
  it("looks in the install folders after PATH", () => {
    expect(toolCandidates("rocminfo", { ROCM_PATH: "/opt/rocm-7.2.0" })).toEqual([
      "rocminfo",
      "/opt/rocm-7.2.0/bin/rocminfo",
    ]);
    expect(toolCandidates("hipconfig", {})).toEqual(["hipconfig", "/opt/rocm/bin/hipconfig"]);
    expect(toolCandidates("nvidia-smi", {})).toEqual(["nvidia-smi", "/usr/bin/nvidia-smi"]);
  });
});

describe("the default command runner", () => {
  it("reports a missing binary as notFound", async () => {
    const result = await defaultCommandRunner("madengine-no-such-tool-5f3a", ["--version"], 5_000);
    expect(result).toMatchObject({ notFound: true, exitCode: null, stdout: "" });
  });

  it("passes arguments without a shell and returns the exit code and output", async () => {
    const script =
      "process.stdout.write(process.argv.slice(1).join('|')); process.stderr.write('e'); process.exit(3)";
    const result = await defaultCommandRunner(process.execPath, ["-e", script, "a b", "$HOME", ";"], 5_000);
    expect(result).toEqual({ exitCode: 3, stdout: "a b|$HOME|;", stderr: "e", notFound: false });
  });

  it("stops a command at its timeout", async () => {
    const result = await defaultCommandRunner(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], 200);
    expect(result.notFound).toBe(false);
    expect(result.exitCode).toBeNull();
    expect(result.stderr).toContain("timed out after 0.2 s");
  });

  it("detects this host's GPUs for real without throwing", async () => {
    const report = await detectHostGpus();
    expect(gpuReportSchema.parse(report)).toEqual(report);
    expect(report.vendor === "NONE").toBe(report.devices.length === 0);
  });

  it("reports this host truthfully: NONE without GPU tools (as CI runners are), else what the tools say", async () => {
    const report = await detectHostGpus();
    if (!hostHasGpuTools()) expect(report).toEqual({ vendor: "NONE", devices: [], problems: [] });
    else expect(report.devices.length > 0 || report.problems.length > 0).toBe(true);
  });
});
