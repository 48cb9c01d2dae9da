/**
 * Combines what two tools said about the same GPUs (rocm-smi or amd-smi with rocminfo, amd-smi
 * `static` with `metric`): each tool knows only some fields.
 */
import type { GpuDevice } from "../../../../shared/schemas/gpu.js";
import { busIdKey, withoutUndefined } from "./values.js";

type DeviceField = keyof GpuDevice;

/**
 * Fills the fields `primary` lacks from the matching `secondary` device; `preferSecondary` fields
 * are taken from `secondary` whenever it has them. Devices are matched by PCI address when every
 * primary device has one that `secondary` also lists, otherwise by index. With no primary devices
 * the secondary ones are the result.
 */
export function mergeDevices(
  primary: GpuDevice[],
  secondary: GpuDevice[],
  preferSecondary: readonly DeviceField[] = [],
): GpuDevice[] {
  if (primary.length === 0) return secondary;
  const byBus = new Map(
    secondary.flatMap((device) => {
      const key = busIdKey(device.busId);
      return key === undefined ? [] : [[key, device] as const];
    }),
  );
  const matchByBus = primary.every((device) => {
    const key = busIdKey(device.busId);
    return key !== undefined && byBus.has(key);
  });
  return primary.map((device) => {
    const match = matchByBus
      ? byBus.get(busIdKey(device.busId) ?? "")
      : secondary.find((other) => other.index === device.index);
    if (match === undefined) return device;
    const merged: GpuDevice = {
      ...withoutUndefined(match),
      ...withoutUndefined(device),
      index: device.index,
    };
    for (const field of preferSecondary) {
      if (match[field] !== undefined) Object.assign(merged, { [field]: match[field] });
    }
    return merged;
  });
}
