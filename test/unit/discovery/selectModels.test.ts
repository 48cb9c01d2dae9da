import { beforeAll, describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import { parseTag, selectModels } from "../../../src-main/engine/discovery/selectModels.js";
import { discoverModels, type Zoo } from "../../../src-main/engine/discovery/zoo.js";
import { fixturePath, tempTree } from "../../helpers/tempDir.js";

const names = (zoo: Zoo, tags: string[]) => selectModels(zoo, tags).map((entry) => entry.model.name);

describe("parseTag", () => {
  it("turns name:key=value:flag into appended arguments", () => {
    expect(parseTag("m:batch-size=32:fp16")).toEqual({
      raw: "m:batch-size=32:fp16",
      selector: "m",
      extraArgs: " --batch-size 32 --fp16",
    });
    expect(parseTag("dir/tag")).toMatchObject({ selector: "dir/tag", scope: "dir", extraArgs: "" });
    expect(parseTag("a/b/c").scope).toBeUndefined();
  });
});

describe("selectModels on the real MAD zoo", () => {
  let mad: Zoo;
  beforeAll(async () => {
    mad = await discoverModels(fixturePath("mad"));
  });

  it("--tags vllm selects the 25 vLLM models in zoo order", () => {
    const selected = names(mad, ["vllm"]);
    expect(selected).toHaveLength(25);
    const zooOrder = mad.models.map((m) => m.model.name).filter((n) => selected.includes(n));
    expect(selected).toEqual(zooOrder);
  });

  it("name:num_gpu=2 appends ' --num_gpu 2' to that model's args", () => {
    const [entry] = selectModels(mad, ["pyt_vllm_llama-3.1-8b:num_gpu=2"]);
    const original = mad.models.find((m) => m.model.name === "pyt_vllm_llama-3.1-8b")!.model.args;
    expect(entry!.model.args).toBe(`${original} --num_gpu 2`);
    expect(mad.models.find((m) => m.model.name === "pyt_vllm_llama-3.1-8b")!.model.args).toBe(original);
  });

  it("arguments apply to every model a tag selects (HEAD semantics)", () => {
    const selected = selectModels(mad, ["dummies:batch-size=32"]);
    expect(selected.map((e) => [e.model.name, e.model.args])).toEqual([["dummy_multi", " --batch-size 32"]]);
  });

  it("'all' selects every model; an empty list selects none", () => {
    expect(names(mad, ["all"])).toHaveLength(37);
    expect(names(mad, [])).toEqual([]);
  });

  it("de-duplicates a model selected by several tags and keeps zoo order", () => {
    const selected = selectModels(mad, ["dummies", "dummy_multi", "pyt_huggingface_gpt2"]);
    expect(selected.map((e) => e.model.name)).toEqual(["pyt_huggingface_gpt2", "dummy_multi"]);
    expect(selected[1]!.selectedBy).toEqual(["dummies", "dummy_multi"]);
  });

  it("an unknown tag is an error that suggests the nearest names and tags", () => {
    try {
      selectModels(mad, ["vlm"]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MadError);
      const madError = error as MadError;
      expect(madError.code).toBe("UNKNOWN_TAG");
      expect(madError.exitCode).toBe(1);
      expect(madError.message).toBe('no model matches tag "vlm"');
      expect(madError.hint).toContain('"vllm"');
    }
  });
});

describe("scoped selection", () => {
  const model = (name: string, tags: string[]) => ({
    name,
    dockerfile: "d",
    scripts: "s.sh",
    n_gpus: "1",
    tags,
    args: "",
  });
  let zoo: Zoo;
  beforeAll(async () => {
    zoo = await discoverModels(
      tempTree({
        "models.json": [model("model1", ["smoke"]), model("other", ["smoke"])],
        "scripts/team/models.json": [model("model1", ["smoke", "nightly"]), model("model2", ["nightly"])],
        "scripts/lab/models.json": [model("model3", ["smoke"])],
      }),
    );
  });

  it("dir/tag and dir/all stay inside scripts/dir", () => {
    expect(names(zoo, ["team/smoke"])).toEqual(["team/model1"]);
    expect(names(zoo, ["team/all"])).toEqual(["team/model1", "team/model2"]);
  });

  it("a full name selects that model, with arguments", () => {
    const [entry] = selectModels(zoo, ["team/model2:steps=5"]);
    expect(entry!.model).toMatchObject({ name: "team/model2", args: " --steps 5" });
  });

  it("an unscoped short name does not leak into sub-directories", () => {
    expect(names(zoo, ["model1"])).toEqual(["model1"]);
  });

  it("an unscoped tag selects across the whole zoo", () => {
    expect(names(zoo, ["smoke"])).toEqual(["model1", "other", "lab/model3", "team/model1"]);
  });

  it("the same model with different arguments is kept twice", () => {
    const selected = selectModels(zoo, ["other", "other:x=1"]);
    expect(selected.map((e) => e.model.args)).toEqual(["", " --x 1"]);
  });

  it("an unknown scope is an error", () => {
    expect(() => selectModels(zoo, ["nope/all"])).toThrow('no model matches tag "nope/all"');
  });
});
