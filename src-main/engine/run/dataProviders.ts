import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Context } from "../../../shared/schemas/context.js";
import type { ModelEntry } from "../../../shared/schemas/model.js";
import { readJsonFile } from "../util/jsonFiles.js";
import { splitShellWords } from "./container/dockerRunOptions.js";
import type { DataStep } from "./inContainerScript.js";
import type { TargetFs } from "./target.js";

/** `data.json`: data name -> provider type -> provider config (spec §6.1). */
export const dataConfigSchema = z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown())));
export type DataConfig = z.output<typeof dataConfigSchema>;

export interface DataPlan {
  env: Record<string, string>;
  mounts: { host: string; container: string; readOnly: boolean }[];
  /** Steps that prepare custom data sets inside the container, before the model. */
  steps: DataStep[];
  /** For perf.csv: the data name and provider type actually used. */
  dataname: string;
  providerType: string;
}

const SUPPORTED = ["custom", "local"] as const;
const PROVIDER_ORDER = ["custom", "local", "minio", "nas", "aws"] as const;

export async function loadDataConfig(
  file: string | undefined,
  madRoot: string,
  context: Context,
): Promise<DataConfig> {
  const resolved = file ? path.resolve(file) : path.join(madRoot, "data.json");
  const fromFile = existsSync(resolved)
    ? await readJsonFile(resolved, dataConfigSchema, { displayName: file ?? "data.json" })
    : {};
  return { ...fromFile, ...((context.data as DataConfig | undefined) ?? {}) };
}

/**
 * Chooses a provider for each of the model's data names (custom, then local, as the original tries
 * them) and returns the mounts, environment and preparation steps. Remote providers (minio, nas, aws)
 * are not supported yet and say so.
 */
export async function planData(
  model: ModelEntry,
  config: DataConfig,
  /** The MAD root and files as the target host sees them (local paths are checked there). */
  target: { madRoot: string; fs: Pick<TargetFs, "exists" | "isDirectory"> },
  forceMirrorLocal?: string,
): Promise<DataPlan | undefined> {
  const names = (model.data ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) return undefined;
  const plan: DataPlan = { env: {}, mounts: [], steps: [], dataname: names.join(","), providerType: "" };
  const homes: string[] = [];
  const types: string[] = [];
  for (const [index, name] of names.entries()) {
    const providers = config[name];
    if (!providers) {
      throw new Error(
        `model ${model.name} needs data "${name}", which data.json does not define (known: ${Object.keys(config).join(", ") || "none"})`,
      );
    }
    const type = PROVIDER_ORDER.find((candidate) => providers[candidate] !== undefined);
    if (type === undefined) {
      // a data name without providers (MAD's "huggingface": {}): the model fetches its own data
      continue;
    }
    if (!(SUPPORTED as readonly string[]).includes(type)) {
      throw new Error(
        `data "${name}" uses the ${type} provider, which madengine-cli does not support yet (supported: ${SUPPORTED.join(", ")})`,
      );
    }
    const settings = providers[type]!;
    const home = `${typeof settings.home === "string" ? settings.home : "/data_dlm"}_${index}`;
    homes.push(home);
    types.push(type);
    if (type === "local") {
      const hostPath = String(settings.path ?? "");
      if (!hostPath || !(await target.fs.isDirectory(hostPath))) {
        throw new Error(
          `data "${name}" (local provider): path ${hostPath || "(none)"} does not exist on this host`,
        );
      }
      plan.mounts.push({
        host: hostPath,
        container: home,
        readOnly: String(settings.readwrite ?? "false") !== "true",
      });
    } else {
      const script = String(settings.path ?? "");
      if (!script || !(await target.fs.exists(path.posix.join(target.madRoot, script)))) {
        throw new Error(
          `data "${name}" (custom provider): script ${script || "(none)"} does not exist in the MAD root`,
        );
      }
      const mirror =
        forceMirrorLocal ?? (typeof settings.mirrorlocal === "string" ? settings.mirrorlocal : undefined);
      if (mirror) plan.mounts.push({ host: path.join(mirror, name), container: home, readOnly: false });
      plan.steps.push({
        home,
        script,
        args: typeof settings.args === "string" ? splitShellWords(settings.args) : [],
      });
    }
  }
  plan.env.MAD_DATANAME = plan.dataname;
  if (homes.length > 0) plan.env.MAD_DATAHOME = homes.join(",");
  plan.providerType = types.join(",");
  return plan;
}
