import { existsSync, readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import { type ModelEntry, type ModelSource, modelsFileSchema } from "../../../shared/schemas/model.js";
import { formatJsonPath, validateWithSchema } from "../../../shared/schemas/validate.js";
import { readJsonFile } from "../util/jsonFiles.js";
import { type DynamicModelsOptions, loadDynamicModels } from "./dynamicModels.js";

export interface DiscoveredModel {
  model: ModelEntry;
  source: ModelSource;
  /** Position in the zoo: selections keep this order. */
  order: number;
}

export interface Zoo {
  /** Absolute path of the MAD root. */
  root: string;
  models: DiscoveredModel[];
}

export interface DiscoverOptions extends DynamicModelsOptions {}

/** A path as users recognise it: relative to the working directory when inside it, else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === "" || relative.startsWith("..") ? file : relative;
}

/** `a/b/../c` style normalisation of a path written relative to a sub-directory, as the original's normpath. */
function rewriteRelativeTo(dir: string, value: string): string {
  return path.posix.normalize(path.posix.join("scripts", dir, value));
}

function prefixModel(dir: string, model: ModelEntry): ModelEntry {
  return {
    ...model,
    name: `${dir}/${model.name}`,
    dockerfile: rewriteRelativeTo(dir, model.dockerfile),
    scripts: rewriteRelativeTo(dir, model.scripts),
  };
}

function listSubdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

async function isDirectory(candidate: string): Promise<boolean> {
  try {
    return (await stat(candidate)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads a MAD model zoo: `models.json` at the root, then every `scripts/<dir>/models.json`, then
 * every `scripts/<dir>/get_models_json.py` (sub-directories in sorted order, so results do not
 * depend on the filesystem). Sub-directory models are named `<dir>/<name>` and their dockerfile and
 * scripts paths are rewritten relative to the root. Duplicate names are an error.
 */
export async function discoverModels(madRoot: string, options: DiscoverOptions = {}): Promise<Zoo> {
  const root = path.resolve(madRoot);
  const scriptsDir = path.join(root, "scripts");
  // Sub-directories are listed synchronously and get_models_json.py files started at once, so the
  // python3 processes run while the rest of the zoo is read (and while callers load other modules).
  const subdirs = listSubdirectories(scriptsDir);
  const kinds = subdirs.map((dir) => ({
    dir,
    hasStatic: existsSync(path.join(scriptsDir, dir, "models.json")),
    hasDynamic: existsSync(path.join(scriptsDir, dir, "get_models_json.py")),
  }));
  const both = kinds.find((kind) => kind.hasStatic && kind.hasDynamic);
  if (both) {
    const dir = both.dir;
    throw new MadError(
      "DISCOVERY_FAILED",
      `scripts/${dir} has both models.json and get_models_json.py; a sub-directory may have only one`,
      {
        file: `scripts/${dir}`,
        hint: `remove one of scripts/${dir}/models.json and scripts/${dir}/get_models_json.py`,
      },
    );
  }
  const dynamic = kinds
    .filter((kind) => kind.hasDynamic)
    .map(({ dir }) => {
      const relative = `scripts/${dir}/get_models_json.py`;
      const output = loadDynamicModels(path.join(scriptsDir, dir, "get_models_json.py"), relative, options);
      output.catch(() => {}); // awaited below, in order; this only keeps an early failure from going unhandled
      return { dir, relative, output };
    });

  if (!(await isDirectory(root))) {
    throw new MadError("FILE_NOT_FOUND", `MAD root ${madRoot} is not a directory`, {
      file: madRoot,
      hint: "run from a MAD checkout or pass --mad-root DIR",
    });
  }
  const rootFile = path.join(root, "models.json");
  const rootModels = await readJsonFile(rootFile, modelsFileSchema, {
    displayName: displayPath(rootFile),
    missingHint: `${root} is not a MAD root: it has no models.json. Run from a MAD checkout or pass --mad-root DIR`,
  });

  const found: { model: ModelEntry; source: ModelSource }[] = rootModels.map((model) => ({
    model,
    source: { kind: "root", file: "models.json" },
  }));

  for (const { dir } of kinds.filter((kind) => kind.hasStatic)) {
    const relative = `scripts/${dir}/models.json`;
    const models = await readJsonFile(path.join(scriptsDir, dir, "models.json"), modelsFileSchema, {
      displayName: relative,
    });
    for (const model of models)
      found.push({ model: prefixModel(dir, model), source: { kind: "subdir", dir, file: relative } });
  }

  for (const { dir, relative, output } of dynamic) {
    const models = validateWithSchema(modelsFileSchema, await output, { file: `${relative} (list_models)` });
    for (const model of models)
      found.push({ model: prefixModel(dir, model), source: { kind: "dynamic", dir, file: relative } });
  }

  const firstSeen = new Map<string, ModelSource>();
  found.forEach(({ model, source }, index) => {
    const earlier = firstSeen.get(model.name);
    if (earlier) {
      throw new MadError(
        "DISCOVERY_FAILED",
        `duplicate model name "${model.name}": defined in ${earlier.file} and again in ${source.file}${
          source.kind === "root" ? ` at ${formatJsonPath([index])}` : ""
        }`,
        {
          file: source.file,
          hint: "model names must be unique across the zoo: rename or remove one of them",
        },
      );
    }
    firstSeen.set(model.name, source);
  });

  return { root, models: found.map((entry, order) => ({ ...entry, order })) };
}
