import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelEntrySchema, modelsFileSchema, modelTags } from "../../../shared/schemas/model.js";
import { fixturePath } from "../../helpers/tempDir.js";

describe("models.json entry schema", () => {
  it("accepts all 37 entries of the real MAD models.json", () => {
    const data = JSON.parse(readFileSync(fixturePath("mad", "models.json"), "utf8"));
    const models = modelsFileSchema.parse(data);
    expect(models).toHaveLength(37);
    const hf = models.find((m) => m.name === "pyt_huggingface_gpt2")!;
    expect(hf.url).toBe("https://github.com/huggingface/transformers");
    expect(hf.n_gpus).toBe("-1");
    expect(models.some((m) => m.timeout === -1)).toBe(true);
  });

  it("keeps unknown fields and fills defaults for tags and args", () => {
    const model = modelEntrySchema.parse({
      name: "m",
      dockerfile: "docker/m",
      scripts: "scripts/m/run.sh",
      n_gpus: "1",
      custom_field: { nested: true },
    });
    expect(model.custom_field).toEqual({ nested: true });
    expect(model.tags).toEqual([]);
    expect(model.args).toBe("");
  });

  it.each([
    ["n_gpus as a number", { n_gpus: 1 }],
    ["n_gpus not a count", { n_gpus: "all" }],
    ["tags as a number", { tags: 3 }],
    ["timeout as a string", { timeout: "60" }],
    ["timeout below -1", { timeout: -5 }],
    ["is_deprecated as a string", { is_deprecated: "yes" }],
    ["a name with a colon", { name: "a:b" }],
    ["an empty name", { name: "" }],
    ["no dockerfile", { dockerfile: undefined }],
  ])("rejects %s", (_label, patch) => {
    const base = { name: "m", dockerfile: "docker/m", scripts: "run.sh", n_gpus: "1" };
    expect(modelEntrySchema.safeParse({ ...base, ...patch }).success).toBe(false);
  });

  it("reads tags written as a list or as a comma string", () => {
    expect(modelTags({ tags: ["a", "b"] })).toEqual(["a", "b"]);
    expect(modelTags({ tags: "a, b,,c" })).toEqual(["a", "b", "c"]);
  });
});
