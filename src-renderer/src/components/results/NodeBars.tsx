import { useId } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { CallResult } from "../../../../shared/contract.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { colorOf, formatNumber } from "./format.js";
import { RunSelect } from "./RunSelect.js";

/** One run's models, node against node: a bar per node in each model's group. */
export function NodeBars({
  runs,
  runId,
  onRun,
  data,
  error,
}: {
  runs: CallResult<"results.runs">["runs"];
  runId: string;
  onRun(runId: string): void;
  data: CallResult<"results.nodeComparison"> | undefined;
  error: unknown;
}) {
  const id = useId();
  const rows = (data?.models ?? []).map((model) => ({
    model: model.model,
    ...Object.fromEntries(model.values.map((value) => [value.node, value.value])),
  }));
  return (
    <section className="panel chart-panel" aria-labelledby={`${id}-title`}>
      <div className="panel-header">
        <h3 id={`${id}-title`}>Node against node</h3>
        <RunSelect label="Run" runs={runs} value={runId} onChange={onRun} />
      </div>
      {error ? (
        <ErrorPanel title="The comparison cannot be read" error={error} compact />
      ) : !data ? (
        <p className="muted">Choose a run.</p>
      ) : rows.length === 0 ? (
        <p className="muted">No numeric SUCCESS results in this run.</p>
      ) : (
        <div
          className="chart-box"
          role="img"
          aria-label={`Performance per model of run ${data.runId} on ${data.nodes.join(", ")}`}
          data-nodes={data.nodes.join("|")}
        >
          <ResponsiveContainer width="100%" height={280}>
            <BarChart data={rows} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
              <CartesianGrid stroke="#2f343c" strokeDasharray="3 3" />
              <XAxis dataKey="model" stroke="#9aa1ab" />
              <YAxis stroke="#9aa1ab" tickFormatter={(value: number) => formatNumber(value)} />
              <Tooltip
                formatter={(value) => formatNumber(Number(value))}
                contentStyle={{ background: "#1c1f24", border: "1px solid #2f343c" }}
              />
              <Legend />
              {data.nodes.map((node, index) => (
                <Bar key={node} dataKey={node} name={node} fill={colorOf(index)} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </section>
  );
}
