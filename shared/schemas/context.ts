import { z } from "zod";

export const GPU_VENDORS = ["AMD", "NVIDIA", "INTEL", "NONE"] as const;
export type GpuVendor = (typeof GPU_VENDORS)[number];
export const GUEST_OSES = ["UBUNTU", "CENTOS", "ROCKY"] as const;

const stringMap = z.record(z.string(), z.string());
/** Environment values may be written as numbers or booleans (MAD_SYSTEM_NGPUS is an int); they become strings. */
const envValue = z.union([z.string(), z.number(), z.boolean()]);

const scriptRef = z.object({ path: z.string().min(1), args: z.string().optional() });
const toolRef = z.looseObject({
  name: z.string().min(1),
  cmd: z.string().optional(),
  env_vars: z.record(z.string(), envValue).optional(),
});

/**
 * The run/build context (spec §3.2). Any extra key is allowed: every top-level key takes part in
 * Dockerfile `# CONTEXT` filtering.
 */
export const contextSchema = z.looseObject({
  gpu_vendor: z.enum(GPU_VENDORS).optional(),
  guest_os: z.enum(GUEST_OSES).optional(),
  docker_build_arg: stringMap.optional(),
  docker_env_vars: z.record(z.string(), envValue).optional(),
  docker_mounts: stringMap.optional(),
  docker_gpus: z
    .string()
    .regex(
      /^\s*(\d+(\s*-\s*\d+)?)(\s*,\s*\d+(\s*-\s*\d+)?)*\s*,?\s*$|^$/,
      'GPU ids and ranges such as "0,2-4,7"',
    )
    .optional(),
  docker_cpus: z.string().optional(),
  tools: z.array(toolRef).optional(),
  pre_scripts: z.array(scriptRef).optional(),
  post_scripts: z.array(scriptRef).optional(),
  encapsulate_script: z.string().optional(),
  model_args: z.string().optional(),
  data: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))).optional(),
  multi_node_args: z.record(z.string(), envValue).optional(),
  gen_sys_env_details: z.boolean().optional(),
  MAD_CONTAINER_IMAGE: z.string().optional(),
  SHM_SIZE: z.string().optional(),
  gpu_renderDs: z.array(z.number().int()).optional(),
});
export type Context = z.output<typeof contextSchema>;
