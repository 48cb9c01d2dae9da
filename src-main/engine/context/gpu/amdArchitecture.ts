/**
 * AMD gfx target names. rocminfo and amd-smi's TARGET_GRAPHICS_VERSION name the target correctly;
 * rocm-smi's `GFX Version` writes the stepping in decimal (`gfx9010` for gfx90a) and older rocm-smi
 * prints no target at all, so these helpers repair the one and fill in the other.
 */

/**
 * Repairs rocm-smi's spelling: `gfx<major><minor><stepping>` with the stepping in decimal becomes
 * the LLVM target name, whose stepping is one hex digit (`gfx9010` → `gfx90a`, `gfx9012` → `gfx90c`).
 * Names that are already valid come back unchanged.
 */
export function normalizeGfxName(raw: string | undefined): string | undefined {
  const match = /^gfx([0-9a-f]+)$/i.exec(raw?.trim() ?? "");
  if (!match) return undefined;
  const digits = (match[1] ?? "").toLowerCase();
  // Majors 10-12 take two digits (gfx1030, gfx1100, gfx1201); 6-9 take one.
  const majorLength = digits.startsWith("1") ? 2 : 1;
  const major = digits.slice(0, majorLength);
  const minor = digits.slice(majorLength, majorLength + 1);
  const stepping = digits.slice(majorLength + 1);
  if (minor === "" || stepping === "") return undefined;
  if (/^\d{2}$/.test(stepping)) {
    const value = Number(stepping);
    return value < 16 ? `gfx${major}${minor}${value.toString(16)}` : undefined;
  }
  return stepping.length === 1 ? `gfx${major}${minor}${stepping}` : undefined;
}

/**
 * PCI device ids of the Instinct accelerators madengine targets, for hosts where only rocm-smi is
 * available and it prints no gfx target (ROCm 6.0 and older). Radeon parts are not listed: since
 * IP discovery the kernel no longer keeps a per-id table for them either.
 */
const INSTINCT_DEVICE_IDS: Record<string, string> = {
  // MI50 / MI60 (Vega 20)
  "0x66a0": "gfx906",
  "0x66a1": "gfx906",
  "0x66a7": "gfx906",
  // MI100 (Arcturus)
  "0x7388": "gfx908",
  "0x738c": "gfx908",
  "0x738e": "gfx908",
  // MI210 / MI250 / MI250X (Aldebaran)
  "0x7408": "gfx90a",
  "0x740c": "gfx90a",
  "0x740f": "gfx90a",
  "0x7410": "gfx90a",
  // MI300A / MI300X / MI308X / MI325X and their virtual functions (Aqua Vanjaram)
  "0x74a0": "gfx942",
  "0x74a1": "gfx942",
  "0x74a2": "gfx942",
  "0x74a5": "gfx942",
  "0x74a9": "gfx942",
  "0x74b5": "gfx942",
  "0x74b9": "gfx942",
  "0x74bd": "gfx942",
  // MI350X / MI355X
  "0x75a0": "gfx950",
  "0x75a3": "gfx950",
};

export function gfxForDeviceId(deviceId: string | undefined): string | undefined {
  const match = /^(?:0x)?([0-9a-f]{1,4})$/i.exec(deviceId?.trim() ?? "");
  if (!match) return undefined;
  return INSTINCT_DEVICE_IDS[`0x${(match[1] ?? "").toLowerCase().padStart(4, "0")}`];
}
