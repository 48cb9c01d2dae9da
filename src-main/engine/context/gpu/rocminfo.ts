/**
 * Parser for `rocminfo`: the HSA agents with `Device Type: GPU` give the gfx target (the `Name`),
 * the marketing name, the UUID, the PCI address and the VRAM size. This is the source madengine takes
 * MAD_SYSTEM_GPU_ARCHITECTURE from (spec §3.3).
 */
import type { GpuDevice } from "../../../../shared/schemas/gpu.js";
import { normalizeGfxName } from "./amdArchitecture.js";
import {
  firstNonEmptyLine,
  type GpuParseResult,
  presentText,
  splitLines,
  toMiB,
  withoutUndefined,
} from "./values.js";

const NO_DRIVER = /ROCk module is NOT (loaded|live)/i;
const FAILURE =
  /hsa api call failure|HSA_STATUS_ERROR|Unable to open \/dev\/kfd|failed to get|permission denied/i;

export interface RocminfoResult extends GpuParseResult {
  /** `ROCk module version X is loaded`: the amdgpu (ROCk) kernel driver version. */
  driverVersion?: string;
}

/** rocminfo's failure message (driver not loaded or not live, HSA init errors), if it printed one. */
export function rocminfoFailure(text: string): string | undefined {
  const lines = splitLines(text).map((line) => line.trim());
  return lines.find((line) => NO_DRIVER.test(line)) ?? lines.find((line) => FAILURE.test(line));
}

/** BDFID is the PCI location packed as bus << 8 | device << 3 | function; rocminfo prints no domain. */
function busIdFromBdfid(raw: string | undefined): string | undefined {
  const bdfid = Number(presentText(raw) ?? Number.NaN);
  if (!Number.isInteger(bdfid) || bdfid <= 0 || bdfid > 0xffff) return undefined;
  const hex = (value: number) => value.toString(16).padStart(2, "0");
  return `0000:${hex(bdfid >> 8)}:${hex((bdfid >> 3) & 0x1f)}.${bdfid & 0x7}`;
}

interface Agent {
  fields: Map<string, string>;
  coarseGrainedSize: string | undefined;
  isa: string | undefined;
}

function readAgents(lines: string[]): Agent[] {
  const agents: Agent[] = [];
  let agent: Agent | undefined;
  let segment = "";
  for (const line of lines) {
    if (/^Agent\s+\d+\s*$/.test(line.trim())) {
      agent = { fields: new Map(), coarseGrainedSize: undefined, isa: undefined };
      agents.push(agent);
      segment = "";
      continue;
    }
    if (agent === undefined) continue;
    // Agent properties sit at two spaces; deeper lines belong to caches, pools and ISAs.
    const property = /^ {2}(\S[^:]*?):\s*(.*?)\s*$/.exec(line);
    if (property) {
      const [, key = "", value = ""] = property;
      if (!agent.fields.has(key)) agent.fields.set(key, value);
      continue;
    }
    const nested = /^\s+(Segment|Size|Name):\s*(.*?)\s*$/.exec(line);
    if (nested?.[1] === "Segment") segment = nested[2] ?? "";
    else if (nested?.[1] === "Size" && /COARSE GRAINED/i.test(segment)) agent.coarseGrainedSize ??= nested[2];
    else if (nested?.[1] === "Name") agent.isa ??= /--(gfx[0-9a-f]+)/i.exec(nested[2] ?? "")?.[1];
  }
  return agents;
}

/** `rocminfo`: GPU agents in enumeration order become devices 0..N-1; CPU agents are skipped. */
export function parseRocminfo(text: string): RocminfoResult {
  const lines = splitLines(text);
  const noDriver = lines.map((line) => line.trim()).find((line) => NO_DRIVER.test(line));
  if (noDriver !== undefined) return { devices: [], problems: [`rocminfo: ${noDriver}`] };
  const driverVersion = lines
    .map((line) => /ROCk module version\s+(\S+)\s+is loaded/i.exec(line)?.[1])
    .find(Boolean);
  const gpuAgents = readAgents(lines).filter(
    (agent) => agent.fields.get("Device Type")?.toUpperCase() === "GPU",
  );
  const devices = gpuAgents.map((agent, index): GpuDevice => {
    const name = presentText(agent.fields.get("Name"));
    const uuid = presentText(agent.fields.get("Uuid"));
    return withoutUndefined({
      index,
      vendor: "AMD",
      name: presentText(agent.fields.get("Marketing Name")) ?? name ?? "AMD GPU",
      architecture: normalizeGfxName(name) ?? normalizeGfxName(agent.isa),
      // rocminfo prints GPU-XX when the device has no unique id.
      uuid: uuid !== undefined && !/-XX$/i.test(uuid) ? uuid : undefined,
      busId: busIdFromBdfid(agent.fields.get("BDFID")),
      memoryTotalMiB: toMiB(agent.coarseGrainedSize?.replace(/\(0x[0-9a-f]+\)/i, "")),
    });
  });
  const problems: string[] = [];
  if (devices.length === 0) {
    const message =
      rocminfoFailure(text) ??
      (lines.some((line) => /^Agent\s+\d+/.test(line.trim())) ? undefined : firstNonEmptyLine(text));
    problems.push(`rocminfo: ${message ?? "no GPU agents found"}`);
  }
  return withoutUndefined({ devices, problems, driverVersion });
}
