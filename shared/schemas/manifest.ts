import { z } from "zod";
import { contextSchema } from "./context.js";
import { modelEntrySchema } from "./model.js";

/** Version of the manifest layout we write; manifests without the key come from the original madengine. */
export const MANIFEST_SCHEMA_VERSION = 1;

export const buildInfoSchema = z.looseObject({
  docker_image: z.string().min(1),
  dockerfile: z.string(),
  base_docker: z.string(),
  docker_sha: z.string(),
  build_duration: z.number().nonnegative(),
  build_command: z.string(),
  log_file: z.string(),
  registry_image: z.string().optional(),
  /** Our addition: the digest the registry returned on push (`sha256:...`), for manifest-true runs. */
  registry_digest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, "a digest such as sha256:<64 hex digits>")
    .optional(),
  /** Our addition: the local image id after the build. */
  image_id: z.string().optional(),
  push_failed: z.boolean().optional(),
  push_error: z.string().optional(),
});
export type BuildInfo = z.output<typeof buildInfoSchema>;

export const pushFailureSchema = z.object({
  image: z.string(),
  intended_registry_image: z.string(),
  error: z.string(),
});

export const buildManifestSchema = z.looseObject({
  schema_version: z
    .literal(MANIFEST_SCHEMA_VERSION, {
      error: `schema_version ${MANIFEST_SCHEMA_VERSION} (this manifest was written by a newer or unknown tool)`,
    })
    .optional(),
  built_images: z.record(z.string(), buildInfoSchema),
  built_models: z.record(z.string(), modelEntrySchema),
  context: contextSchema,
  credentials_required: z.array(z.string()).optional(),
  registry: z.string().optional(),
  push_failures: z.array(pushFailureSchema).optional(),
});
export type BuildManifest = z.output<typeof buildManifestSchema>;
