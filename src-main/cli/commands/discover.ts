import { ExitCode } from "../../../shared/errors.js";
import { modelTags } from "../../../shared/schemas/model.js";
import { selectModels } from "../../engine/discovery/selectModels.js";
import { discoverModels } from "../../engine/discovery/zoo.js";
import { tagsOf } from "../options.js";
import { dim } from "../output/style.js";
import { renderTable } from "../output/table.js";

export interface DiscoverOptions {
  madRoot?: string;
  tags?: string[];
  json?: boolean;
}

export async function runDiscover(options: DiscoverOptions): Promise<number> {
  const zoo = await discoverModels(options.madRoot ?? process.cwd());
  const tags = tagsOf(options.tags);
  const models =
    tags.length === 0
      ? zoo.models.map((entry) => entry.model)
      : selectModels(zoo, tags).map((entry) => entry.model);

  if (options.json) {
    process.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
    return ExitCode.SUCCESS;
  }
  const table = renderTable(
    models,
    [
      { header: "MODEL", value: (m) => m.name },
      { header: "TAGS", value: (m) => modelTags(m).join(","), shrinkable: true },
      { header: "GPUS", value: (m) => m.n_gpus },
      { header: "DOCKERFILE", value: (m) => m.dockerfile, shrinkable: true },
      { header: "SCRIPTS", value: (m) => m.scripts, shrinkable: true },
      { header: "ARGS", value: (m) => m.args, shrinkable: true, minWidth: 8 },
    ],
    process.stdout.isTTY ? process.stdout.columns : undefined,
  );
  process.stdout.write(`${table}\n`);
  const scope = tags.length === 0 ? "" : ` selected by ${tags.join(" ")}`;
  process.stdout.write(
    `${dim(`${models.length} model${models.length === 1 ? "" : "s"}${scope} (zoo: ${zoo.root}, ${zoo.models.length} models)`)}\n`,
  );
  return ExitCode.SUCCESS;
}
