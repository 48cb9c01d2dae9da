import { z } from "zod";

/** Vendors a detected device can have. */
export const GPU_DEVICE_VENDORS = ["AMD", "NVIDIA"] as const;
export type GpuDeviceVendor = (typeof GPU_DEVICE_VENDORS)[number];

/** Vendors a host report can have: `NONE` when no tool found a usable GPU. */
export const HOST_GPU_VENDORS = ["AMD", "NVIDIA", "NONE"] as const;
export type HostGpuVendor = (typeof HOST_GPU_VENDORS)[number];

/**
 * One MIG instance of an NVIDIA GPU. `profile` is the name `nvidia-smi -L` prints (`3g.40gb`);
 * `nvidia-smi -q -x` has no profile name, so devices read from XML say `GI <gpu instance> CI <compute instance>`.
 */
export const migDeviceSchema = z.object({
  profile: z.string(),
  index: z.number().int().nonnegative(),
  uuid: z.string().optional(),
});
export type MigDevice = z.output<typeof migDeviceSchema>;

/**
 * One physical (or, on partitioned AMD parts, logical) GPU. `architecture` is what madengine puts in
 * MAD_SYSTEM_GPU_ARCHITECTURE (spec §3.3): the gfx target on AMD (`gfx90a`), the product name on NVIDIA.
 * Measurements a tool could not give (`N/A`, `[Not Supported]`) are left out.
 */
export const gpuDeviceSchema = z.object({
  index: z.number().int().nonnegative(),
  vendor: z.enum(GPU_DEVICE_VENDORS),
  name: z.string(),
  architecture: z.string().optional(),
  uuid: z.string().optional(),
  busId: z.string().optional(),
  memoryTotalMiB: z.number().nonnegative().optional(),
  memoryUsedMiB: z.number().nonnegative().optional(),
  utilizationPercent: z.number().nonnegative().optional(),
  temperatureC: z.number().optional(),
  powerW: z.number().nonnegative().optional(),
  migDevices: z.array(migDeviceSchema).optional(),
});
export type GpuDevice = z.output<typeof gpuDeviceSchema>;

/**
 * What host GPU detection found. `runtimeVersion` is the CUDA version on NVIDIA hosts and the
 * ROCm/HIP `major.minor` on AMD hosts; `architecture` is GPU 0's. `problems` are human-readable lines,
 * one per tool that exists but failed, quoting the tool's own message.
 */
export const gpuReportSchema = z.object({
  vendor: z.enum(HOST_GPU_VENDORS),
  devices: z.array(gpuDeviceSchema),
  driverVersion: z.string().optional(),
  runtimeVersion: z.string().optional(),
  architecture: z.string().optional(),
  problems: z.array(z.string()),
});
export type GpuReport = z.output<typeof gpuReportSchema>;
