import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { useClient } from "../../state/queries.js";
import { ErrorPanel } from "../ErrorPanel.js";

/** Imports a perf.csv that is on the engine's machine; shows which rows were broken, by line. */
export function ImportForm() {
  const client = useClient();
  const id = useId();
  const [file, setFile] = useState("");
  const [mode, setMode] = useState<"good-rows" | "all-or-nothing">("good-rows");
  const importing = useMutation({
    mutationFn: () => client.call("results.import", { file: file.trim(), mode }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    importing.mutate();
  };
  const report = importing.data;
  return (
    <section className="panel import-form" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Import a perf.csv</h3>
      <form onSubmit={submit} className="field-row">
        <div className="field grow">
          <label htmlFor={`${id}-file`}>Path of a perf.csv on the engine's machine</label>
          <input
            id={`${id}-file`}
            type="text"
            value={file}
            placeholder="/path/to/perf.csv"
            onChange={(event) => setFile(event.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-mode`}>Broken rows</label>
          <select
            id={`${id}-mode`}
            value={mode}
            onChange={(event) => setMode(event.target.value as "good-rows" | "all-or-nothing")}
          >
            <option value="good-rows">Import the good rows</option>
            <option value="all-or-nothing">All or nothing</option>
          </select>
        </div>
        <button type="submit" className="primary" disabled={importing.isPending || file.trim() === ""}>
          {importing.isPending ? "Importing…" : "Import"}
        </button>
      </form>
      {importing.error ? <ErrorPanel title="Import failed" error={importing.error} compact /> : null}
      {report ? (
        <div className="import-report" role="status">
          <p>
            {report.runId
              ? `Imported ${report.imported} of ${report.totalRows} row(s) as run ${report.runId}.`
              : `Nothing imported: ${report.broken.length} broken row(s) of ${report.totalRows}${report.mode === "all-or-nothing" && report.broken.length > 0 ? " (all or nothing)" : ""}.`}
          </p>
          {report.ignoredColumns.length > 0 ? (
            <p className="muted">Ignored columns: {report.ignoredColumns.join(", ")}</p>
          ) : null}
          {report.broken.length > 0 ? (
            <table className="data-table broken-rows">
              <caption>Broken rows</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Line
                  </th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {report.broken.map((row) => (
                  <tr key={row.line}>
                    <td className="num">{row.line}</td>
                    <td>{row.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
