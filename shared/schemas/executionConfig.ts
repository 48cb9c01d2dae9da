import { z } from "zod";
import { contextSchema } from "./context.js";
import { modelEntrySchema } from "./model.js";

/** `execution_config.json` as written by `export-config` (spec §7.3). */
export const executionConfigSchema = z.looseObject({
  models: z.array(modelEntrySchema),
  context: contextSchema,
  credentials_required: z.array(z.string()),
});
export type ExecutionConfig = z.output<typeof executionConfigSchema>;
