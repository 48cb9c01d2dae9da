/** One run against another: per model, the performance delta and what differs in provenance. */
import type Database from "better-sqlite3";
import { MadError } from "../../../shared/errors.js";
import {
  PROVENANCE_FIELDS,
  type Provenance,
  type ProvenanceField,
  type RunComparison,
} from "../../../shared/schemas/resultsViews.js";
import { lowerIsBetter } from "./flags.js";
import { numericPerformance } from "./prometheus.js";
import type { ResultDbRow } from "./resultsStore.js";

/** JSON text with object keys sorted, so two equal contexts compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : inner,
  );
}

interface Side {
  resultId: number;
  performance: number | null;
  status: string;
  metric: string;
  provenance: Provenance;
}

/** The last result of each model in a run, with its provenance. */
function sidesOf(db: Database.Database, file: string, runId: string): Map<string, Side> {
  const run = db.prepare(`SELECT "context_json" FROM runs WHERE "id" = ?`).get(runId) as
    | { context_json: string | null }
    | undefined;
  if (!run) {
    throw new MadError("INVALID_ARGS", `${file}: no run ${JSON.stringify(runId)} in the results database`, {
      file,
      hint: "pick runs from the list of runs (results.runs / 'madengine-cli results list')",
    });
  }
  const context = run.context_json === null ? "" : canonicalJson(JSON.parse(run.context_json));
  const rows = db
    .prepare(`SELECT * FROM results WHERE "run_id" = ? ORDER BY "id"`)
    .all(runId) as ResultDbRow[];
  const sides = new Map<string, Side>();
  for (const row of rows) {
    const text = (column: string) => String(row[column] ?? "");
    sides.set(text("model"), {
      resultId: row.id,
      performance: numericPerformance(text("performance")) ?? null,
      status: text("status"),
      metric: text("metric"),
      provenance: {
        imageDigest: row.image_digest ?? text("docker_sha"),
        dockerImage: text("docker_image"),
        node: row.node || text("machine_name"),
        gpuArchitecture: text("gpu_architecture"),
        args: text("args"),
        context,
      },
    });
  }
  return sides;
}

export function compareRuns(db: Database.Database, file: string, runA: string, runB: string): RunComparison {
  const a = sidesOf(db, file, runA);
  const b = sidesOf(db, file, runB);
  const models = [...new Set([...a.keys(), ...b.keys()])].sort();
  return {
    runA,
    runB,
    models: models.map((model) => {
      const left = a.get(model);
      const right = b.get(model);
      const metric = right?.metric || left?.metric || "";
      const both = left?.performance != null && right?.performance != null;
      const delta = both ? right.performance! - left.performance! : null;
      const differences: ProvenanceField[] =
        left && right
          ? PROVENANCE_FIELDS.filter((field) => left.provenance[field] !== right.provenance[field])
          : [];
      const side = (each: Side | undefined) =>
        each
          ? {
              resultId: each.resultId,
              performance: each.performance,
              status: each.status,
              provenance: each.provenance,
            }
          : null;
      return {
        model,
        metric,
        lowerIsBetter: lowerIsBetter(metric),
        a: side(left),
        b: side(right),
        delta,
        deltaPercent:
          delta !== null && left!.performance !== 0 ? (delta / Math.abs(left!.performance!)) * 100 : null,
        differences,
      };
    }),
  };
}
