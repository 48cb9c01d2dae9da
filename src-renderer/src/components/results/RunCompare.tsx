import { useId } from "react";
import type { CallResult } from "../../../../shared/contract.js";
import type { ProvenanceField } from "../../../../shared/schemas/resultsViews.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { formatNumber } from "./format.js";
import { RunSelect } from "./RunSelect.js";

const FIELD_LABELS: Record<ProvenanceField, string> = {
  imageDigest: "Image digest",
  dockerImage: "Docker image",
  node: "Node",
  gpuArchitecture: "GPU architecture",
  args: "Args",
  context: "Context",
};

type Comparison = CallResult<"results.compare">;
type ModelRow = Comparison["models"][number];

function deltaClass(row: ModelRow): string {
  if (row.delta === null || row.delta === 0) return "";
  const better = row.lowerIsBetter ? row.delta < 0 : row.delta > 0;
  return better ? "delta-better" : "delta-worse";
}

function formatDelta(row: ModelRow): string {
  if (row.delta === null) return "—";
  const sign = row.delta > 0 ? "+" : "";
  const percent = row.deltaPercent === null ? "" : ` (${sign}${row.deltaPercent.toFixed(1)}%)`;
  return `${sign}${formatNumber(row.delta)}${percent}`;
}

/** Two runs side by side: per model, the delta (B − A) and the provenance that differs. */
export function RunCompare({
  runs,
  runA,
  runB,
  onRuns,
  data,
  error,
}: {
  runs: CallResult<"results.runs">["runs"];
  runA: string;
  runB: string;
  onRuns(runA: string, runB: string): void;
  data: Comparison | undefined;
  error: unknown;
}) {
  const id = useId();
  return (
    <section className="panel run-compare" aria-labelledby={`${id}-title`}>
      <div className="panel-header">
        <h3 id={`${id}-title`}>Compare two runs</h3>
        <RunSelect label="Run A" runs={runs} value={runA} onChange={(value) => onRuns(value, runB)} />
        <RunSelect label="Run B" runs={runs} value={runB} onChange={(value) => onRuns(runA, value)} />
      </div>
      {error ? (
        <ErrorPanel title="The runs cannot be compared" error={error} compact />
      ) : !data ? (
        <p className="muted">Choose two runs.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table compare-table">
            <caption className="sr-only">
              Run {data.runA} against run {data.runB}, per model
            </caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="num">
                  A
                </th>
                <th scope="col" className="num">
                  B
                </th>
                <th scope="col" className="num">
                  Δ (B − A)
                </th>
                <th scope="col">Provenance differences</th>
              </tr>
            </thead>
            <tbody>
              {data.models.map((row) => (
                <tr key={row.model} data-model={row.model}>
                  <th scope="row">{row.model}</th>
                  <td className="num">{row.a ? formatNumber(row.a.performance) : "not in A"}</td>
                  <td className="num">{row.b ? formatNumber(row.b.performance) : "not in B"}</td>
                  <td className={`num ${deltaClass(row)}`}>
                    {formatDelta(row)} <span className="muted">{row.metric}</span>
                  </td>
                  <td>
                    {row.differences.length === 0 ? (
                      <span className="muted">{row.a && row.b ? "same provenance" : "—"}</span>
                    ) : (
                      <dl className="provenance-diff">
                        {row.differences.map((field) => (
                          <div key={field} className="provenance-row" data-field={field}>
                            <dt>{FIELD_LABELS[field]}</dt>
                            <dd>
                              <code className="wrap">{row.a?.provenance[field] || "(none)"}</code>
                              <span aria-hidden="true"> → </span>
                              <span className="sr-only"> changed to </span>
                              <code className="wrap">{row.b?.provenance[field] || "(none)"}</code>
                            </dd>
                          </div>
                        ))}
                      </dl>
                    )}
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
