import { useMutation } from "@tanstack/react-query";
import type { CallArgs } from "../../../../shared/contract.js";
import { useClient } from "../../state/queries.js";
import { downloadBlob } from "../download.js";
import { ErrorPanel } from "../ErrorPanel.js";

const TYPES = { csv: "text/csv", json: "application/json", prometheus: "text/plain" } as const;

/** Downloads the results matching the filters as perf.csv, JSON or Prometheus text. */
export function ExportButtons({ filter }: { filter: CallArgs<"results.export">["filter"] }) {
  const client = useClient();
  const exporting = useMutation({
    mutationFn: async (format: "csv" | "json" | "prometheus") => {
      const answer = await client.call("results.export", { format, filter });
      downloadBlob(
        new Blob([answer.content ?? ""], { type: `${TYPES[format]};charset=utf-8` }),
        answer.fileName,
      );
      return answer;
    },
  });
  return (
    <fieldset className="export-buttons">
      <legend className="sr-only">Export the filtered results</legend>
      {(["csv", "json", "prometheus"] as const).map((format) => (
        <button
          key={format}
          type="button"
          disabled={exporting.isPending}
          onClick={() => exporting.mutate(format)}
        >
          Export {format === "csv" ? "CSV" : format === "json" ? "JSON" : "Prometheus"}
        </button>
      ))}
      {exporting.error ? <ErrorPanel title="Export failed" error={exporting.error} compact /> : null}
    </fieldset>
  );
}
