import { describe, expect, it } from "vitest";
import { MadError } from "../../../../shared/errors.js";
import {
  buildMultiNodeRunner,
  defaultMultiNodeArgs,
  formatMultiNodeRunner,
  resolveMultiNodeArgs,
} from "../../../../src-main/engine/run/container/multiNodeRunner.js";

describe("multi-node runner (spec §3.5)", () => {
  it("builds the spec's example from the defaults", () => {
    expect(buildMultiNodeRunner(undefined, 8)).toBe(
      "NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= torchrun --nproc_per_node 8 --nnodes 1 --node_rank 0 --master_addr localhost --master_port 6006",
    );
  });

  it("has the defaults of spec §3.3", () => {
    expect(defaultMultiNodeArgs(4)).toEqual({
      RUNNER: "torchrun",
      NNODES: 1,
      NODE_RANK: 0,
      MASTER_ADDR: "localhost",
      MASTER_PORT: 6006,
      HOST_LIST: "",
      NCCL_SOCKET_IFNAME: "",
      GLOO_SOCKET_IFNAME: "",
      MAD_RUNTIME_NGPUS: 4,
    });
  });

  it("uses one process per node on a host without GPUs", () => {
    expect(defaultMultiNodeArgs(0).MAD_RUNTIME_NGPUS).toBe(1);
    expect(buildMultiNodeRunner({}, 0)).toContain("--nproc_per_node 1 ");
  });

  it("merges a partial user object over the defaults (no KeyError)", () => {
    expect(buildMultiNodeRunner({ NNODES: 2, NODE_RANK: 1, MASTER_ADDR: "10.0.0.1" }, 8)).toBe(
      "NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= torchrun --nproc_per_node 8 --nnodes 2 --node_rank 1 --master_addr 10.0.0.1 --master_port 6006",
    );
    expect(buildMultiNodeRunner({ NCCL_SOCKET_IFNAME: "ens50f0", GLOO_SOCKET_IFNAME: "ens50f0" }, 2)).toBe(
      "NCCL_SOCKET_IFNAME=ens50f0 GLOO_SOCKET_IFNAME=ens50f0 torchrun --nproc_per_node 2 --nnodes 1 --node_rank 0 --master_addr localhost --master_port 6006",
    );
  });

  it("accepts numbers written as strings", () => {
    const args = resolveMultiNodeArgs(
      { NNODES: "4", NODE_RANK: "3", MASTER_PORT: "29500", MAD_RUNTIME_NGPUS: "2" },
      8,
    );
    expect(args).toMatchObject({ NNODES: 4, NODE_RANK: 3, MASTER_PORT: 29500, MAD_RUNTIME_NGPUS: 2 });
  });

  it("lets the user set MAD_RUNTIME_NGPUS over the system count", () => {
    expect(buildMultiNodeRunner({ MAD_RUNTIME_NGPUS: 4 }, 8)).toContain("--nproc_per_node 4 ");
  });

  it("ignores keys the runner does not use", () => {
    expect(buildMultiNodeRunner({ SOMETHING_ELSE: "x" }, 8)).toBe(buildMultiNodeRunner(undefined, 8));
  });

  it("builds the mpirun form with localhost:<ngpus> when HOST_LIST is empty", () => {
    expect(buildMultiNodeRunner({ RUNNER: "mpirun" }, 8)).toBe(
      "NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= mpirun -np 8 --host localhost:8",
    );
  });

  it("multiplies nodes by GPUs for mpirun -np and uses HOST_LIST", () => {
    expect(buildMultiNodeRunner({ RUNNER: "mpirun", NNODES: "2", HOST_LIST: "node1:8,node2:8" }, 8)).toBe(
      "NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= mpirun -np 16 --host node1:8,node2:8",
    );
  });

  it("formats resolved arguments directly", () => {
    expect(formatMultiNodeRunner({ ...defaultMultiNodeArgs(1), MASTER_PORT: 1234 })).toMatch(
      /--master_port 1234$/,
    );
  });

  function contextError(fn: () => unknown): MadError {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(MadError);
      expect((error as MadError).code).toBe("CONTEXT_INVALID");
      return error as MadError;
    }
    throw new Error("expected a throw");
  }

  it("rejects an unknown runner instead of silently using torchrun", () => {
    const error = contextError(() => buildMultiNodeRunner({ RUNNER: "deepspeed" }, 8));
    expect(error.message).toBe(
      'multi_node_args.RUNNER: expected one of "torchrun", "mpirun", found "deepspeed"',
    );
    expect(error.path).toBe("multi_node_args.RUNNER");
  });

  it.each([
    ["NNODES", 0],
    ["NNODES", "two"],
    ["NNODES", 1.5],
    ["NNODES", true],
    ["NODE_RANK", -1],
    ["MASTER_PORT", 0],
    ["MASTER_PORT", 70000],
    ["MAD_RUNTIME_NGPUS", 0],
    ["MASTER_ADDR", ""],
    ["MASTER_ADDR", "a b"],
    ["MASTER_ADDR", false],
    ["HOST_LIST", "n1:8, n2:8"],
    ["NCCL_SOCKET_IFNAME", "eth0 eth1"],
  ] as const)("rejects %s = %j naming the key", (key, value) => {
    const error = contextError(() => buildMultiNodeRunner({ [key]: value }, 8));
    expect(error.message).toContain(`multi_node_args.${key}`);
    expect(error.path).toBe(`multi_node_args.${key}`);
  });

  it("rejects a node rank outside NNODES", () => {
    expect(contextError(() => buildMultiNodeRunner({ NODE_RANK: 1 }, 8)).message).toContain(
      "a rank below NNODES (1)",
    );
    expect(buildMultiNodeRunner({ NNODES: 3, NODE_RANK: 2 }, 8)).toContain("--node_rank 2 ");
  });
});
