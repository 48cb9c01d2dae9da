import { MadError } from "../../../../shared/errors.js";
import type { HostGpuVendor } from "../../../../shared/schemas/gpu.js";

/** Highest GPU id a `docker_gpus` list may name: guards against `0-999999999` filling memory. */
export const MAX_GPU_ID = 4095;

const LIST_EXAMPLE = 'ids and ranges such as "0,2-4,7"';

function badList(text: string, detail: string): MadError {
  return new MadError("CONTEXT_INVALID", `docker_gpus ${JSON.stringify(text)}: ${detail}`, {
    path: "docker_gpus",
    hint: `write docker_gpus as ${LIST_EXAMPLE}, or leave it out to use every GPU of the host`,
  });
}

function parseId(text: string, item: string, whole: string): number {
  if (!/^\d+$/.test(item)) {
    throw badList(whole, `${JSON.stringify(text)} is not a GPU id or range; expected ${LIST_EXAMPLE}`);
  }
  const id = Number(item);
  if (id > MAX_GPU_ID) throw badList(whole, `GPU id ${item} is larger than ${MAX_GPU_ID}`);
  return id;
}

/**
 * Parses a GPU id list as madengine's `docker_gpus` (spec §3.2, §5.3): `"0,2-4,7"` => `[0, 2, 3, 4, 7]`,
 * sorted and de-duplicated. Whitespace around ids, dashes and commas is tolerated, as is one trailing
 * comma; a blank text is the empty list. Anything else throws a MadError naming the value.
 */
export function parseGpuList(text: string): number[] {
  if (text.trim() === "") return [];
  const items = text.split(",").map((item) => item.trim());
  if (items.length > 1 && items[items.length - 1] === "") items.pop();
  const ids = new Set<number>();
  for (const item of items) {
    if (item === "") throw badList(text, `empty item; expected ${LIST_EXAMPLE}`);
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(item);
    if (range) {
      const first = parseId(item, range[1]!, text);
      const last = parseId(item, range[2]!, text);
      if (last < first)
        throw badList(text, `range ${JSON.stringify(item)} runs backwards (write ${last}-${first})`);
      for (let id = first; id <= last; id++) ids.add(id);
    } else {
      ids.add(parseId(item, item, text));
    }
  }
  return [...ids].sort((a, b) => a - b);
}

export interface AllocateGpusInput {
  /** The model's `n_gpus` (a string in models.json): `"-1"` means every GPU available. */
  nGpus: string;
  /** Context `docker_gpus`; absent or blank means every GPU of the host (`0-(N-1)`). */
  dockerGpus?: string | undefined;
  /** How many GPUs the host has (MAD_SYSTEM_NGPUS). */
  systemGpus: number;
  vendor: HostGpuVendor;
  /** Named in error messages when given. */
  modelName?: string | undefined;
}

export interface GpuAllocation {
  /** The host GPU ids given to the container, ascending. */
  ids: number[];
}

function gpus(count: number): string {
  return `${count} GPU${count === 1 ? "" : "s"}`;
}

const ALLOCATION_HINT =
  "lower the model's n_gpus in models.json, widen docker_gpus in the context, or run the model on a node with more GPUs";

/**
 * Chooses the GPUs for one model container (spec §5.3 `get_gpu_arg`): the first `n_gpus` ids of
 * `docker_gpus` (default: all host GPUs), or all of them for `"-1"`. A CPU run (vendor NONE) gets no
 * GPUs whatever `n_gpus` says. Errors (MadError RUN_FAILED unless the input itself is malformed) say
 * how many GPUs the model needs and how many the host or `docker_gpus` offer.
 */
export function allocateGpus(input: AllocateGpusInput): GpuAllocation {
  if (input.vendor === "NONE") return { ids: [] };
  const { systemGpus } = input;
  if (!Number.isSafeInteger(systemGpus) || systemGpus < 0) {
    throw new MadError("INTERNAL", `system GPU count must be a whole number of 0 or more, got ${systemGpus}`);
  }
  const who = input.modelName === undefined ? "model" : `model ${JSON.stringify(input.modelName)}`;
  const nText = input.nGpus.trim();
  if (!/^-?\d+$/.test(nText) || Number(nText) < -1) {
    throw new MadError(
      "INVALID_FILE",
      `${who}: n_gpus ${JSON.stringify(input.nGpus)} is not a GPU count; expected "0", "1", "2", … or "-1" for all GPUs`,
      { path: "n_gpus", hint: 'set n_gpus in models.json to a count as a string, e.g. "1", or "-1" for all' },
    );
  }
  const wanted = Number(nText);
  const listText = input.dockerGpus;
  const explicit = listText !== undefined && listText.trim() !== "";
  const list = explicit ? parseGpuList(listText) : Array.from({ length: systemGpus }, (_, i) => i);
  const listNote = explicit ? ` (docker_gpus ${JSON.stringify(listText)})` : "";

  if (wanted === -1 && list.length === 0) {
    throw new MadError(
      "RUN_FAILED",
      `${who} needs all GPUs (n_gpus "-1") but ${explicit ? `docker_gpus ${JSON.stringify(listText)} lists none` : "this host has none"}`,
      { hint: ALLOCATION_HINT },
    );
  }
  const requested = wanted === -1 ? list.length : wanted;
  if (requested > systemGpus) {
    throw new MadError(
      "RUN_FAILED",
      `${who} needs ${gpus(requested)} but this host has ${systemGpus}${listNote}`,
      {
        hint: ALLOCATION_HINT,
      },
    );
  }
  if (requested > list.length) {
    throw new MadError(
      "RUN_FAILED",
      `${who} needs ${gpus(requested)} but docker_gpus ${JSON.stringify(listText)} lists only ${list.length}`,
      { hint: ALLOCATION_HINT },
    );
  }
  const ids = list.slice(0, requested);
  const missing = ids.find((id) => id >= systemGpus);
  if (missing !== undefined) {
    throw new MadError(
      "RUN_FAILED",
      `${who}: docker_gpus ${JSON.stringify(listText)} names GPU ${missing}, but this host has ${gpus(systemGpus)} (ids 0-${systemGpus - 1})`,
      { path: "docker_gpus", hint: "list only GPU ids that exist on the node in docker_gpus" },
    );
  }
  return { ids };
}
