import { useMutation } from "@tanstack/react-query";
import { useId } from "react";
import { useClient } from "../../state/queries.js";
import { useAudit } from "../../state/resultsQueries.js";
import { downloadBlob } from "../download.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { formatTime } from "./format.js";

/** Every build and run: who, when, which manifest (sha256), images, nodes, outcome. */
export function AuditSection({ enabled }: { enabled: boolean }) {
  const client = useClient();
  const id = useId();
  const audit = useAudit(enabled);
  const exporting = useMutation({
    mutationFn: async (format: "csv" | "jsonl") => {
      const answer = await client.call("audit.export", { format });
      downloadBlob(new Blob([answer.content ?? ""], { type: "text/plain;charset=utf-8" }), answer.fileName);
    },
  });
  const entries = audit.data?.entries ?? [];
  return (
    <section className="panel audit-section" aria-labelledby={`${id}-title`}>
      <div className="panel-header">
        <h3 id={`${id}-title`}>Audit log</h3>
        <div className="toolbar-spacer" />
        <button type="button" onClick={() => exporting.mutate("csv")}>
          Export audit CSV
        </button>
        <button type="button" onClick={() => exporting.mutate("jsonl")}>
          Export audit JSON lines
        </button>
      </div>
      {audit.error ? <ErrorPanel title="The audit log cannot be read" error={audit.error} compact /> : null}
      {exporting.error ? <ErrorPanel title="Export failed" error={exporting.error} compact /> : null}
      {entries.length === 0 ? (
        <p className="muted">No builds or runs recorded yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table audit-table">
            <caption className="sr-only">Audit log, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">User</th>
                <th scope="col">Kind</th>
                <th scope="col">Outcome</th>
                <th scope="col">Manifest sha256</th>
                <th scope="col">Images</th>
                <th scope="col">Nodes</th>
                <th scope="col">Manifest / detail</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id}>
                  <td>{formatTime(entry.at)}</td>
                  <td>{entry.user}</td>
                  <td>{entry.kind}</td>
                  <td>{entry.outcome}</td>
                  <td>
                    <code title={entry.manifestSha256 ?? ""}>
                      {(entry.manifestSha256 ?? "").slice(0, 12)}
                    </code>
                  </td>
                  <td>{entry.imageDigests.length}</td>
                  <td>{entry.nodes.join(", ") || "local"}</td>
                  <td>
                    <code className="wrap">
                      {[entry.manifestFile, entry.detail].filter(Boolean).join(" · ")}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
