import { MadError } from "../../../shared/errors.js";
import {
  type BuildManifest,
  buildManifestSchema,
  MANIFEST_SCHEMA_VERSION,
} from "../../../shared/schemas/manifest.js";
import { parseJsonText, validateWithSchema } from "../../../shared/schemas/validate.js";
import { readTextFile } from "../util/jsonFiles.js";

/** Reads and validates a build manifest, with errors that say which file and what to do. */
export async function loadManifest(file: string): Promise<BuildManifest> {
  const text = await readTextFile(file, {
    missingHint: "build first (madengine-cli build), or pass --tags to build and run",
  });
  const data = parseJsonText(text, file);
  const version = (data as { schema_version?: unknown } | null)?.schema_version;
  if (version !== undefined && version !== MANIFEST_SCHEMA_VERSION) {
    throw new MadError(
      "INVALID_FILE",
      `${file}: schema_version ${JSON.stringify(version)} is not supported (this madengine-cli reads ${MANIFEST_SCHEMA_VERSION})`,
      {
        file,
        path: "schema_version",
        hint: "rebuild the manifest with this version of madengine-cli",
      },
    );
  }
  return validateWithSchema(buildManifestSchema, data, {
    file,
    hint: `${file} is not a build manifest: rebuild it with madengine-cli build`,
  });
}
