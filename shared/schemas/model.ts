import { z } from "zod";

/**
 * One entry of a MAD `models.json` (spec §2.2). Unknown keys are kept (they travel into the
 * manifest's `built_models`), so the object is loose.
 */
export const modelEntrySchema = z.looseObject({
  name: z
    .string()
    .min(1, "a non-empty model name")
    .refine((name) => name.trim() === name, "a name without leading or trailing spaces")
    .refine(
      (name) => !name.includes(":"),
      "a name without ':' (':' starts tag arguments, as in name:batch-size=32)",
    ),
  url: z.string().optional(),
  dockerfile: z.string().min(1, "a Dockerfile family prefix such as docker/dummy"),
  scripts: z.string().min(1, "a script path such as scripts/dummy/run.sh"),
  n_gpus: z.string().regex(/^-?\d+$/, 'a GPU count as a string, e.g. "1", or "-1" for all'),
  owner: z.string().optional(),
  training_precision: z.string().optional(),
  tags: z.union([z.array(z.string()), z.string()]).default([]),
  args: z.string().default(""),
  timeout: z.number().int().min(-1).optional(),
  multiple_results: z.string().optional(),
  data: z.string().optional(),
  cred: z.string().optional(),
  dockercontext: z.string().optional(),
  skip_gpu_arch: z.string().optional(),
  is_deprecated: z.boolean().optional(),
  additional_docker_run_options: z.string().optional(),
});
export type ModelEntry = z.output<typeof modelEntrySchema>;

export const modelsFileSchema = z.array(modelEntrySchema);

/** A model's tags as a list, whether `tags` was written as a list or a comma string (HEAD allows both). */
export function modelTags(model: Pick<ModelEntry, "tags">): string[] {
  if (Array.isArray(model.tags)) return model.tags;
  return model.tags
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag !== "");
}

/** A model after selection: the entry plus where it came from. */
export interface SelectedModel {
  model: ModelEntry;
  /** `root`, the sub-directory name for `scripts/<dir>/models.json`, or the dir of a get_models_json.py. */
  source: ModelSource;
}

export type ModelSource =
  | { kind: "root"; file: string }
  | { kind: "subdir"; dir: string; file: string }
  | { kind: "dynamic"; dir: string; file: string };
