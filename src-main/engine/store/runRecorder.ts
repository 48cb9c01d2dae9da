import type { PerfRow } from "../../../shared/schemas/perf.js";
import { defaultResultsDbPath } from "./paths.js";
import { ResultsStore } from "./resultsStore.js";

export interface RunRecorder {
  /** Rows just appended to perf.csv for one model on one target. */
  results(rows: readonly PerfRow[], extra: { node?: string; logFile?: string }): void;
  finish(status: "success" | "failure" | "interrupted"): void;
  /** Stops recording without ending the run (it goes on elsewhere and is picked up again later). */
  detach(): void;
}

/**
 * Lands a run in the results history as it progresses (every model's rows as they are written).
 * The history is a convenience next to perf.csv, never a reason for a run to fail: if the database
 * cannot be opened or written, one warning says why and the run goes on.
 */
export function openRunRecorder(
  run: { id: string; manifestFile?: string; context?: unknown; nodes?: unknown },
  warn: (message: string) => void,
  file: string = defaultResultsDbPath(),
): RunRecorder {
  let store: ResultsStore | undefined;
  let broken = false;
  const attempt = (what: string, action: (db: ResultsStore) => void) => {
    if (broken || !store) return;
    try {
      action(store);
    } catch (error) {
      broken = true;
      warn(`results history (${file}): cannot ${what}: ${(error as Error).message}; perf.csv is unaffected`);
    }
  };
  try {
    store = ResultsStore.open(file);
    // a resumed run is already there: its new results join it
    const known = store.listRuns().some((existing) => existing.id === run.id);
    if (!known) {
      store.recordRun({
        id: run.id,
        kind: "run",
        manifestFile: run.manifestFile ?? null,
        context: run.context,
        nodes: run.nodes,
      });
    }
  } catch (error) {
    broken = true;
    warn(`results history (${file}) is not recorded: ${(error as Error).message}`);
  }
  return {
    results(rows, extra) {
      if (rows.length > 0)
        attempt("record results", (db) =>
          db.addResults(run.id, rows, { node: extra.node ?? null, logFile: extra.logFile ?? null }),
        );
    },
    finish(status) {
      attempt("record the end of the run", (db) => db.finishRun(run.id, status));
      store?.close();
      store = undefined;
    },
    detach() {
      store?.close();
      store = undefined;
    },
  };
}
