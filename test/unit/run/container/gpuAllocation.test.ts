import { describe, expect, it } from "vitest";
import {
  allocateGpus,
  MAX_GPU_ID,
  parseGpuList,
} from "../../../../src-main/engine/run/container/gpuAllocation.js";
import { thrown } from "../../../helpers/errors.js";

describe("parseGpuList", () => {
  it("expands ids and ranges, sorted (spec §3.2 example)", () => {
    expect(parseGpuList("0,2-4,7")).toEqual([0, 2, 3, 4, 7]);
  });

  it("sorts and de-duplicates", () => {
    expect(parseGpuList("7,3,0-2,1,3")).toEqual([0, 1, 2, 3, 7]);
    expect(parseGpuList("2-4,3-5")).toEqual([2, 3, 4, 5]);
  });

  it("tolerates whitespace and one trailing comma", () => {
    expect(parseGpuList(" 0 , 2 - 4 ,7 ")).toEqual([0, 2, 3, 4, 7]);
    expect(parseGpuList("0,1,")).toEqual([0, 1]);
    expect(parseGpuList("3, ")).toEqual([3]);
    expect(parseGpuList("5-5")).toEqual([5]);
  });

  it("reads a blank text as the empty list", () => {
    expect(parseGpuList("")).toEqual([]);
    expect(parseGpuList("   ")).toEqual([]);
  });

  it.each([
    ["a", '"a"'],
    ["0,x", '"x"'],
    ["1.5", '"1.5"'],
    ["-1", '"-1"'],
    ["0,,1", "empty item"],
    [",0", "empty item"],
    [",", "empty item"],
    ["0-", '"0-"'],
    ["1-2-3", '"1-2-3"'],
    ["0;1", '"0;1"'],
  ])("rejects %j naming the value", (text, detail) => {
    const error = thrown(() => parseGpuList(text));
    expect(error.message).toContain(`docker_gpus ${JSON.stringify(text)}`);
    expect(error.message).toContain(detail);
    expect(error.code).toBe("CONTEXT_INVALID");
    expect(error.path).toBe("docker_gpus");
  });

  it("rejects a backwards range and says how to write it", () => {
    expect(() => parseGpuList("4-2")).toThrow(/runs backwards \(write 2-4\)/);
  });

  it("refuses ids beyond MAX_GPU_ID instead of filling memory", () => {
    expect(parseGpuList(`${MAX_GPU_ID}`)).toEqual([MAX_GPU_ID]);
    expect(() => parseGpuList("0-999999999")).toThrow(/larger than 4095/);
  });
});

describe("allocateGpus", () => {
  it("takes the first n_gpus ids of the host by default", () => {
    expect(allocateGpus({ nGpus: "2", systemGpus: 8, vendor: "AMD" })).toEqual({ ids: [0, 1] });
    expect(allocateGpus({ nGpus: "1", systemGpus: 1, vendor: "NVIDIA" })).toEqual({ ids: [0] });
  });

  it('gives every GPU for n_gpus "-1"', () => {
    expect(allocateGpus({ nGpus: "-1", systemGpus: 4, vendor: "AMD" }).ids).toEqual([0, 1, 2, 3]);
    expect(allocateGpus({ nGpus: "-1", dockerGpus: "1,3", systemGpus: 4, vendor: "NVIDIA" }).ids).toEqual([
      1, 3,
    ]);
  });

  it("takes the first ids of docker_gpus in ascending order", () => {
    expect(allocateGpus({ nGpus: "2", dockerGpus: "7,2-4", systemGpus: 8, vendor: "AMD" }).ids).toEqual([
      2, 3,
    ]);
    expect(allocateGpus({ nGpus: "5", dockerGpus: "0,2-4,7", systemGpus: 8, vendor: "AMD" }).ids).toEqual([
      0, 2, 3, 4, 7,
    ]);
  });

  it("treats a blank docker_gpus as unset", () => {
    expect(allocateGpus({ nGpus: "-1", dockerGpus: " ", systemGpus: 2, vendor: "AMD" }).ids).toEqual([0, 1]);
  });

  it('gives none for n_gpus "0"', () => {
    expect(allocateGpus({ nGpus: "0", systemGpus: 8, vendor: "AMD" }).ids).toEqual([]);
    expect(allocateGpus({ nGpus: "0", systemGpus: 0, vendor: "NVIDIA" }).ids).toEqual([]);
  });

  it("gives a CPU run no GPUs whatever n_gpus or docker_gpus say", () => {
    expect(allocateGpus({ nGpus: "8", systemGpus: 0, vendor: "NONE" })).toEqual({ ids: [] });
    expect(allocateGpus({ nGpus: "-1", dockerGpus: "0-3", systemGpus: 4, vendor: "NONE" }).ids).toEqual([]);
    expect(allocateGpus({ nGpus: "nonsense", dockerGpus: "x", systemGpus: 0, vendor: "NONE" }).ids).toEqual(
      [],
    );
  });

  it("says how many GPUs the model needs and the host has", () => {
    const error = thrown(() => allocateGpus({ nGpus: "6", dockerGpus: "0-3", systemGpus: 4, vendor: "AMD" }));
    expect(error.message).toBe('model needs 6 GPUs but this host has 4 (docker_gpus "0-3")');
    expect(error.code).toBe("RUN_FAILED");
    expect(error.exitCode).toBe(3);
    expect(error.hint).toMatch(/n_gpus/);
    expect(
      thrown(() => allocateGpus({ nGpus: "2", systemGpus: 1, vendor: "NVIDIA", modelName: "llama" })).message,
    ).toBe('model "llama" needs 2 GPUs but this host has 1');
    expect(thrown(() => allocateGpus({ nGpus: "1", systemGpus: 0, vendor: "AMD" })).message).toBe(
      "model needs 1 GPU but this host has 0",
    );
  });

  it("says when docker_gpus lists fewer GPUs than the model needs", () => {
    const error = thrown(() => allocateGpus({ nGpus: "3", dockerGpus: "0,1", systemGpus: 8, vendor: "AMD" }));
    expect(error.message).toBe('model needs 3 GPUs but docker_gpus "0,1" lists only 2');
  });

  it('fails "-1" when more GPUs are listed than the host has (original: Too many gpus requested)', () => {
    expect(() => allocateGpus({ nGpus: "-1", dockerGpus: "0-7", systemGpus: 4, vendor: "AMD" })).toThrow(
      'model needs 8 GPUs but this host has 4 (docker_gpus "0-7")',
    );
  });

  it('fails "-1" on a GPU vendor with no GPUs at all', () => {
    expect(() => allocateGpus({ nGpus: "-1", systemGpus: 0, vendor: "AMD" })).toThrow(
      'model needs all GPUs (n_gpus "-1") but this host has none',
    );
  });

  it("fails when a chosen docker_gpus id does not exist on the host", () => {
    const error = thrown(() => allocateGpus({ nGpus: "2", dockerGpus: "2,5", systemGpus: 4, vendor: "AMD" }));
    expect(error.message).toBe('model: docker_gpus "2,5" names GPU 5, but this host has 4 GPUs (ids 0-3)');
    // ids beyond the ones chosen are not checked
    expect(allocateGpus({ nGpus: "1", dockerGpus: "2,5", systemGpus: 4, vendor: "AMD" }).ids).toEqual([2]);
  });

  it.each(["-2", "1.5", "two", "", "1 2"])("rejects n_gpus %j", (nGpus) => {
    const error = thrown(() => allocateGpus({ nGpus, systemGpus: 8, vendor: "AMD" }));
    expect(error.code).toBe("INVALID_FILE");
    expect(error.path).toBe("n_gpus");
    expect(error.message).toContain(`n_gpus ${JSON.stringify(nGpus)}`);
  });

  it("accepts n_gpus with surrounding spaces", () => {
    expect(allocateGpus({ nGpus: " 2 ", systemGpus: 2, vendor: "AMD" }).ids).toEqual([0, 1]);
  });

  it("passes docker_gpus syntax errors through", () => {
    expect(() => allocateGpus({ nGpus: "1", dockerGpus: "0-a", systemGpus: 8, vendor: "AMD" })).toThrow(
      /docker_gpus "0-a"/,
    );
  });

  it("rejects a nonsensical system GPU count", () => {
    expect(() => allocateGpus({ nGpus: "1", systemGpus: -1, vendor: "AMD" })).toThrow(/system GPU count/);
    expect(() => allocateGpus({ nGpus: "1", systemGpus: 1.5, vendor: "AMD" })).toThrow(/system GPU count/);
  });
});
