import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { MadError, type MadErrorCode } from "../../../shared/errors.js";
import { parseJsonText, validateWithSchema } from "../../../shared/schemas/validate.js";

export interface ReadJsonOptions {
  /** How the file is named in errors (defaults to the path as given). */
  displayName?: string;
  /** Hint for a missing file. */
  missingHint?: string;
  code?: MadErrorCode;
}

/** Reads a text file, turning ENOENT and friends into errors that name the file and what to do. */
export async function readTextFile(file: string, options: ReadJsonOptions = {}): Promise<string> {
  const shown = options.displayName ?? file;
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === "ENOENT") {
      throw new MadError("FILE_NOT_FOUND", `${shown}: file not found`, {
        file: shown,
        hint: options.missingHint ?? `check the path, or create ${shown}`,
        cause: error,
      });
    }
    if (errno === "EISDIR") {
      throw new MadError(options.code ?? "INVALID_FILE", `${shown}: is a directory, expected a file`, {
        file: shown,
        hint: `pass the path of a file, not of a directory`,
      });
    }
    throw new MadError(options.code ?? "INVALID_FILE", `${shown}: cannot read: ${(error as Error).message}`, {
      file: shown,
      hint: "check the file's permissions",
      cause: error,
    });
  }
}

/** Reads, parses and validates a JSON file; every failure names the file (and line/column or JSON path). */
export async function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadJsonOptions = {},
): Promise<z.output<S>> {
  const shown = options.displayName ?? file;
  const text = await readTextFile(file, options);
  const data = parseJsonText(text, shown, options.code);
  return validateWithSchema(schema, data, { file: shown, ...(options.code ? { code: options.code } : {}) });
}

/**
 * Writes JSON so that readers never see a half-written file: write a sibling temp file, then rename.
 * Validates first when a schema is given, so we never write a file we could not read back.
 */
export async function writeJsonAtomic<S extends z.ZodType>(
  file: string,
  data: z.input<S>,
  schema?: S,
): Promise<void> {
  if (schema) validateWithSchema(schema, data, { file, code: "INTERNAL" });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(data, null, 2)}\n`, "utf8");
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new MadError("INVALID_FILE", `${file}: cannot write: ${(error as Error).message}`, {
      file,
      hint: "check that the directory exists and is writable",
      cause: error,
    });
  }
}
