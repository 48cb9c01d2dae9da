import { MadError } from "../../../shared/errors.js";
import { type ModelEntry, modelTags } from "../../../shared/schemas/model.js";
import { nearestNames } from "../util/nearest.js";
import type { DiscoveredModel, Zoo } from "./zoo.js";

export interface ParsedTag {
  /** The tag as the user wrote it. */
  raw: string;
  /** The part before the first `:`: a model name, a tag, `all`, or `dir/…`. */
  selector: string;
  /** Arguments appended to the selected models' args, e.g. ` --batch-size 32 --fp16`. */
  extraArgs: string;
  /** For `dir/x` selectors: the sub-directory the selection is limited to. */
  scope?: string;
}

/**
 * Parses `name[:key=value[:flag]...]` as the original does: every `=` in an argument becomes a space,
 * arguments are joined with ` --`. `m:batch-size=32:fp16` gives ` --batch-size 32 --fp16`.
 */
export function parseTag(raw: string): ParsedTag {
  const parts = raw
    .split(":")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const selector = parts[0] ?? "";
  const items = parts.slice(1).map((item) => item.replaceAll("=", " "));
  const extraArgs = items.length === 0 ? "" : ` --${items.join(" --")}`;
  const slash = selector.split("/");
  const parsed: ParsedTag = { raw, selector, extraArgs };
  if (slash.length === 2 && slash[0] !== "" && slash[1] !== "") parsed.scope = slash[0];
  return parsed;
}

function matches(tag: ParsedTag, model: ModelEntry): boolean {
  if (tag.selector === "all") return true;
  if (model.name === tag.selector) return true;
  if (tag.scope !== undefined) {
    if (!model.name.startsWith(`${tag.scope}/`)) return false;
    const inner = tag.selector.slice(tag.scope.length + 1);
    return inner === "all" || modelTags(model).includes(inner);
  }
  return modelTags(model).includes(tag.selector);
}

export interface SelectedModelEntry {
  model: ModelEntry;
  discovered: DiscoveredModel;
  /** The tag strings that selected this model with these args. */
  selectedBy: string[];
}

function unknownTagError(tag: ParsedTag, zoo: Zoo): MadError {
  const names = zoo.models.map((entry) => entry.model.name);
  const tags = zoo.models.flatMap((entry) => modelTags(entry.model));
  const candidates = [...names, ...tags];
  const nearest = nearestNames(tag.selector, candidates);
  const suggestion = nearest.length > 0 ? `did you mean ${nearest.map((n) => `"${n}"`).join(", ")}? ` : "";
  return new MadError("UNKNOWN_TAG", `no model matches tag "${tag.raw}"`, {
    hint: `${suggestion}run 'madengine-cli discover' to list the ${names.length} models and their tags`,
  });
}

/**
 * Selects models by tags (HEAD semantics, decisions.md): the part before the first `:` is compared
 * with names, tags and `all`; `dir/x` is scoped to that sub-directory. The result is de-duplicated
 * (same model, same args) and in zoo order; an empty tag list selects nothing.
 */
export function selectModels(zoo: Zoo, tags: readonly string[]): SelectedModelEntry[] {
  const byKey = new Map<string, SelectedModelEntry>();
  const tagOrder = new Map<string, number>();
  tags.forEach((raw, tagIndex) => {
    const tag = parseTag(raw);
    if (tag.selector === "") {
      throw new MadError("INVALID_ARGS", `empty tag "${raw}"`, { hint: "give a model name, a tag or 'all'" });
    }
    const hits = zoo.models.filter((entry) => matches(tag, entry.model));
    if (hits.length === 0) throw unknownTagError(tag, zoo);
    for (const discovered of hits) {
      const args = `${discovered.model.args}${tag.extraArgs}`;
      const key = `${discovered.model.name}\u0000${args}`;
      const existing = byKey.get(key);
      if (existing) {
        existing.selectedBy.push(raw);
        continue;
      }
      byKey.set(key, { model: { ...discovered.model, args }, discovered, selectedBy: [raw] });
      tagOrder.set(key, tagIndex);
    }
  });
  return [...byKey.entries()]
    .sort(
      ([keyA, a], [keyB, b]) =>
        a.discovered.order - b.discovered.order || tagOrder.get(keyA)! - tagOrder.get(keyB)!,
    )
    .map(([, entry]) => entry);
}
