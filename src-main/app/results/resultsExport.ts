import { writeFile } from "node:fs/promises";
import path from "node:path";
import { MadError } from "../../../shared/errors.js";
import type { ResultsFilter } from "../../../shared/schemas/results.js";
import type { ResultsStore } from "../../engine/store/resultsStore.js";

const EXTENSIONS = { csv: "csv", json: "json", prometheus: "prom" } as const;

/** results.export: the text for a download, or written to a file on the server's machine. */
export async function exportResults(
  store: ResultsStore,
  args: { format: "csv" | "json" | "prometheus"; filter: ResultsFilter; outputFile?: string | undefined },
): Promise<{ fileName: string; content?: string; written?: string; count: number }> {
  const count = store.queryResults(args.filter).length;
  const fileName = `madengine-results.${EXTENSIONS[args.format]}`;
  if (args.format === "csv" && args.outputFile) {
    const written = path.resolve(args.outputFile);
    return { fileName, written, count: await store.exportPerfCsv(written, args.filter) };
  }
  const content =
    args.format === "csv"
      ? store.formatPerfCsv(args.filter)
      : args.format === "json"
        ? store.exportJson(args.filter)
        : store.exportPrometheus(args.filter);
  if (!args.outputFile) return { fileName, content, count };
  const written = path.resolve(args.outputFile);
  try {
    await writeFile(written, content, "utf8");
  } catch (error) {
    throw new MadError("INVALID_FILE", `${written}: cannot write: ${(error as Error).message}`, {
      file: written,
      hint: "check that the directory exists and is writable",
      cause: error,
    });
  }
  return { fileName, written, count };
}
