import { MadError } from "../../../../shared/errors.js";

/** The runners madengine knows (spec §3.5). */
export const MULTI_NODE_RUNNERS = ["torchrun", "mpirun"] as const;
export type MultiNodeRunnerKind = (typeof MULTI_NODE_RUNNERS)[number];

/** `multi_node_args` after defaults are filled in and values are checked (spec §3.2, §3.3). */
export interface MultiNodeArgs {
  RUNNER: MultiNodeRunnerKind;
  NNODES: number;
  NODE_RANK: number;
  MASTER_ADDR: string;
  MASTER_PORT: number;
  HOST_LIST: string;
  NCCL_SOCKET_IFNAME: string;
  GLOO_SOCKET_IFNAME: string;
  MAD_RUNTIME_NGPUS: number;
}

/** Context `multi_node_args` as written by the user: values may be strings, numbers or booleans. */
export type MultiNodeArgsInput = Readonly<Record<string, string | number | boolean>>;

/**
 * The defaults of spec §3.3. `MAD_RUNTIME_NGPUS` is the host's GPU count (the original's choice, not
 * the model's `n_gpus`); a host without GPUs (a CPU run) gets 1, since a runner needs one process per node.
 */
export function defaultMultiNodeArgs(systemGpus: number): MultiNodeArgs {
  return {
    RUNNER: "torchrun",
    NNODES: 1,
    NODE_RANK: 0,
    MASTER_ADDR: "localhost",
    MASTER_PORT: 6006,
    HOST_LIST: "",
    NCCL_SOCKET_IFNAME: "",
    GLOO_SOCKET_IFNAME: "",
    MAD_RUNTIME_NGPUS: systemGpus > 0 ? systemGpus : 1,
  };
}

function invalid(key: string, value: unknown, expected: string): MadError {
  return new MadError(
    "CONTEXT_INVALID",
    `multi_node_args.${key}: expected ${expected}, found ${JSON.stringify(value)}`,
    {
      path: `multi_node_args.${key}`,
      hint: `fix multi_node_args.${key} in the context, or leave it out for the default`,
    },
  );
}

function integer(key: string, value: string | number | boolean, min: number, max: number): number {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  const expected = `a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}`;
  if (!/^\d+$/.test(text)) throw invalid(key, value, expected);
  const number = Number(text);
  if (number < min || number > max) throw invalid(key, value, expected);
  return number;
}

/** A word that survives the unquoted `$MAD_MULTI_NODE_RUNNER` expansion in model scripts: no whitespace. */
function word(key: string, value: string | number | boolean, allowEmpty: boolean): string {
  if (typeof value === "boolean") throw invalid(key, value, "a string");
  const text = String(value);
  if (/\s/.test(text)) throw invalid(key, value, "a value without spaces");
  if (!allowEmpty && text === "") throw invalid(key, value, "a non-empty value");
  return text;
}

/**
 * Fills in the defaults and checks the values. Unlike the original (spec §3.1 EDGE, §10.2 #19), a
 * partial user object is merged over the defaults instead of replacing them. Keys the runner does not
 * use are ignored. Numeric fields accept numbers or numeric strings.
 */
export function resolveMultiNodeArgs(
  user: MultiNodeArgsInput | undefined,
  systemGpus: number,
): MultiNodeArgs {
  const args = defaultMultiNodeArgs(systemGpus);
  if (!user) return args;
  const has = (key: keyof MultiNodeArgs): boolean => Object.hasOwn(user, key);
  if (has("RUNNER")) {
    const runner = user.RUNNER;
    if (!MULTI_NODE_RUNNERS.includes(runner as MultiNodeRunnerKind)) {
      throw invalid(
        "RUNNER",
        runner,
        `one of ${MULTI_NODE_RUNNERS.map((r) => JSON.stringify(r)).join(", ")}`,
      );
    }
    args.RUNNER = runner as MultiNodeRunnerKind;
  }
  if (has("NNODES")) args.NNODES = integer("NNODES", user.NNODES!, 1, 1_000_000);
  if (has("NODE_RANK")) args.NODE_RANK = integer("NODE_RANK", user.NODE_RANK!, 0, 1_000_000);
  if (has("MASTER_PORT")) args.MASTER_PORT = integer("MASTER_PORT", user.MASTER_PORT!, 1, 65535);
  if (has("MAD_RUNTIME_NGPUS"))
    args.MAD_RUNTIME_NGPUS = integer("MAD_RUNTIME_NGPUS", user.MAD_RUNTIME_NGPUS!, 1, 1_000_000);
  if (has("MASTER_ADDR")) args.MASTER_ADDR = word("MASTER_ADDR", user.MASTER_ADDR!, false);
  if (has("HOST_LIST")) args.HOST_LIST = word("HOST_LIST", user.HOST_LIST!, true);
  if (has("NCCL_SOCKET_IFNAME"))
    args.NCCL_SOCKET_IFNAME = word("NCCL_SOCKET_IFNAME", user.NCCL_SOCKET_IFNAME!, true);
  if (has("GLOO_SOCKET_IFNAME"))
    args.GLOO_SOCKET_IFNAME = word("GLOO_SOCKET_IFNAME", user.GLOO_SOCKET_IFNAME!, true);
  if (args.NODE_RANK >= args.NNODES) {
    throw invalid("NODE_RANK", user.NODE_RANK ?? args.NODE_RANK, `a rank below NNODES (${args.NNODES})`);
  }
  return args;
}

/** The runner string of spec §3.5 for resolved arguments. */
export function formatMultiNodeRunner(args: MultiNodeArgs): string {
  const prefix = `NCCL_SOCKET_IFNAME=${args.NCCL_SOCKET_IFNAME} GLOO_SOCKET_IFNAME=${args.GLOO_SOCKET_IFNAME} `;
  if (args.RUNNER === "mpirun") {
    const hosts = args.HOST_LIST !== "" ? args.HOST_LIST : `localhost:${args.MAD_RUNTIME_NGPUS}`;
    return `${prefix}mpirun -np ${args.NNODES * args.MAD_RUNTIME_NGPUS} --host ${hosts}`;
  }
  return (
    `${prefix}torchrun --nproc_per_node ${args.MAD_RUNTIME_NGPUS} --nnodes ${args.NNODES} ` +
    `--node_rank ${args.NODE_RANK} --master_addr ${args.MASTER_ADDR} --master_port ${args.MASTER_PORT}`
  );
}

/**
 * `MAD_MULTI_NODE_RUNNER` (spec §3.5) from context `multi_node_args` (merged over the defaults) and
 * the host's GPU count, e.g. `NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= torchrun --nproc_per_node 8
 * --nnodes 1 --node_rank 0 --master_addr localhost --master_port 6006`.
 */
export function buildMultiNodeRunner(user: MultiNodeArgsInput | undefined, systemGpus: number): string {
  return formatMultiNodeRunner(resolveMultiNodeArgs(user, systemGpus));
}
