/**
 * Parser for `nvcc --version`, the source madengine reads the CUDA release from on NVIDIA hosts
 * (MAD_SYSTEM_HIP_VERSION, spec §3.3): "Cuda compilation tools, release 12.4, V12.4.131".
 */

/** `12.4`, or undefined when the text names no release. */
export function parseNvccVersion(text: string): string | undefined {
  return /\brelease\s+(\d+\.\d+)/i.exec(text)?.[1];
}
