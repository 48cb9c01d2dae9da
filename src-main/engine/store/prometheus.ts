/** Prometheus text exposition (format 0.0.4) of stored results. */
import type { StoredResult } from "../../../shared/schemas/results.js";

/** Escapes a label value as the exposition format requires: `\` `"` and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The performance cell as a finite number, or undefined when it is not a plain decimal number. */
export function numericPerformance(cell: string): number | undefined {
  const text = cell.trim();
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export const PROMETHEUS_METRIC = "madengine_performance";

/**
 * One gauge sample per result with a numeric performance, labelled by model, metric, node, status
 * and gpu_architecture. A label set may appear only once in an exposition, so where several results
 * share one the latest (highest id) wins.
 */
export function formatPrometheus(results: readonly StoredResult[]): string {
  const samples = new Map<string, { id: number; value: number }>();
  for (const result of results) {
    const value = numericPerformance(result.row.performance);
    if (value === undefined) continue;
    const labels = [
      ["model", result.row.model],
      ["metric", result.row.metric],
      // an imported perf.csv has no node of ours: the machine that ran it names it
      ["node", result.node || result.row.machine_name],
      ["status", result.row.status],
      ["gpu_architecture", result.row.gpu_architecture],
    ]
      .map(([name, v]) => `${name}="${escapeLabelValue(v ?? "")}"`)
      .join(",");
    const previous = samples.get(labels);
    if (!previous || previous.id < result.id) samples.set(labels, { id: result.id, value });
  }
  const lines = [
    `# HELP ${PROMETHEUS_METRIC} Model performance recorded by madengine (the unit is the metric label).`,
    `# TYPE ${PROMETHEUS_METRIC} gauge`,
  ];
  for (const [labels, { value }] of samples) lines.push(`${PROMETHEUS_METRIC}{${labels}} ${value}`);
  return `${lines.join("\n")}\n`;
}
