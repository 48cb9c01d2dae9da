import { useId } from "react";
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceDot,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { CallResult } from "../../../../shared/contract.js";
import type { SeriesGroup } from "../../../../shared/schemas/resultsViews.js";
import { ErrorPanel } from "../ErrorPanel.js";
import { colorOf, formatNumber } from "./format.js";

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Performance over time of one model: one line per node or per GPU architecture (a toggle). */
export function SeriesChart({
  data,
  error,
  loading,
  model,
  models,
  groupBy,
  onModel,
  onGroupBy,
}: {
  data: CallResult<"results.series"> | undefined;
  error: unknown;
  loading: boolean;
  model: string;
  models: readonly string[];
  groupBy: SeriesGroup;
  onModel(model: string): void;
  onGroupBy(groupBy: SeriesGroup): void;
}) {
  const id = useId();
  const lines = (data?.series ?? []).map((series) => ({
    name: series.name,
    points: series.points.map((point) => ({
      t: Date.parse(point.at),
      value: point.value,
      flag: point.flag,
      runId: point.runId,
    })),
  }));
  return (
    <section className="panel chart-panel" aria-labelledby={`${id}-title`} aria-busy={loading}>
      <div className="panel-header">
        <h3 id={`${id}-title`}>Performance over time</h3>
        <div className="field inline">
          <label htmlFor={`${id}-model`}>Model</label>
          <select id={`${id}-model`} value={model} onChange={(event) => onModel(event.target.value)}>
            {models.map((each) => (
              <option key={each} value={each}>
                {each}
              </option>
            ))}
          </select>
        </div>
        <fieldset className="segmented">
          <legend className="sr-only">One line per</legend>
          {(
            [
              ["node", "Per node"],
              ["gpu_architecture", "Per GPU architecture"],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className={groupBy === value ? "selected" : undefined}>
              <input
                type="radio"
                name={`${id}-group`}
                value={value}
                checked={groupBy === value}
                onChange={() => onGroupBy(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
      </div>
      {error ? (
        <ErrorPanel title="The chart cannot be drawn" error={error} compact />
      ) : lines.length === 0 ? (
        <p className="muted">{model ? `No numeric SUCCESS results of ${model}.` : "No results yet."}</p>
      ) : (
        <div
          className="chart-box"
          role="img"
          aria-label={`Performance of ${data?.model} in ${data?.metric || "its metric"} over time, ${lines.length} line(s): ${lines.map((l) => l.name).join(", ")}`}
          data-series={lines.map((l) => l.name).join("|")}
        >
          <ResponsiveContainer width="100%" height={320}>
            <LineChart margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
              <CartesianGrid stroke="#2f343c" strokeDasharray="3 3" />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={["dataMin", "dataMax"]}
                tickFormatter={day}
                stroke="#9aa1ab"
                allowDuplicatedCategory={false}
              />
              <YAxis
                dataKey="value"
                stroke="#9aa1ab"
                tickFormatter={(value: number) => formatNumber(value)}
                label={{ value: data?.metric ?? "", angle: -90, position: "insideLeft", fill: "#9aa1ab" }}
              />
              <Tooltip
                labelFormatter={(value) => new Date(Number(value)).toLocaleString()}
                formatter={(value) => formatNumber(Number(value))}
                contentStyle={{ background: "#1c1f24", border: "1px solid #2f343c" }}
              />
              <Legend />
              {lines.map((line, index) => (
                <Line
                  key={line.name}
                  data={line.points}
                  dataKey="value"
                  name={line.name}
                  stroke={colorOf(index)}
                  strokeWidth={2}
                  dot={false}
                  isAnimationActive={false}
                  className={`series-line series-${index}`}
                />
              ))}
              {/* only flagged points get a dot (a dot per point would be thousands of SVG nodes) */}
              {lines.flatMap((line) =>
                line.points
                  .filter((point) => point.flag !== null)
                  .map((point) => (
                    <ReferenceDot
                      key={`${line.name}-${point.t}-${point.value}`}
                      x={point.t}
                      y={point.value}
                      r={5}
                      fill={point.flag === "regression" ? "#ff6b6b" : "#3fbf7f"}
                      stroke="none"
                      className={`chart-flag chart-flag-${point.flag}`}
                    />
                  )),
              )}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
      {data?.lowerIsBetter ? <p className="muted">Lower is better for {data.metric}.</p> : null}
    </section>
  );
}
