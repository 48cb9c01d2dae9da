import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import type { CallArgs } from "../../../shared/contract.js";
import { useClient } from "./queries.js";

/** The results history's queries; every key starts with "results" so one invalidation re-reads all. */
export const resultsKeys = {
  all: ["results"] as const,
  status: ["results", "status"] as const,
  runs: ["results", "runs"] as const,
  facets: ["results", "facets"] as const,
  query: (args: CallArgs<"results.query">) => ["results", "query", args] as const,
  series: (args: CallArgs<"results.series">) => ["results", "series", args] as const,
  nodes: (runId: string) => ["results", "nodes", runId] as const,
  compare: (runA: string, runB: string) => ["results", "compare", runA, runB] as const,
  flags: ["results", "flags"] as const,
  audit: ["results", "audit"] as const,
};

export function useResultsStatus() {
  const client = useClient();
  return useQuery({ queryKey: resultsKeys.status, queryFn: () => client.call("results.status", {}) });
}

/** Everything below waits for a usable database (results.status ok). */
export function useResultsRuns(enabled: boolean) {
  const client = useClient();
  return useQuery({ queryKey: resultsKeys.runs, queryFn: () => client.call("results.runs", {}), enabled });
}

export function useResultsFacets(enabled: boolean) {
  const client = useClient();
  return useQuery({
    queryKey: resultsKeys.facets,
    queryFn: () => client.call("results.facets", {}),
    enabled,
  });
}

export function useResultsPage(args: CallArgs<"results.query">, enabled: boolean) {
  const client = useClient();
  return useQuery({
    queryKey: resultsKeys.query(args),
    queryFn: () => client.call("results.query", args),
    enabled,
    placeholderData: keepPreviousData,
  });
}

export function useSeries(args: CallArgs<"results.series"> | undefined) {
  const client = useClient();
  return useQuery({
    queryKey: resultsKeys.series(args ?? { model: "" }),
    queryFn: () => client.call("results.series", args!),
    enabled: args !== undefined && args.model !== "",
    // the chart stays mounted and updates in place when another model is chosen
    placeholderData: keepPreviousData,
  });
}

export function useNodeComparison(runId: string) {
  const client = useClient();
  return useQuery({
    queryKey: resultsKeys.nodes(runId),
    queryFn: () => client.call("results.nodeComparison", { runId }),
    enabled: runId !== "",
  });
}

export function useRunComparison(runA: string, runB: string) {
  const client = useClient();
  return useQuery({
    queryKey: resultsKeys.compare(runA, runB),
    queryFn: () => client.call("results.compare", { runA, runB }),
    enabled: runA !== "" && runB !== "",
  });
}

export function useCurrentFlags(enabled: boolean) {
  const client = useClient();
  return useQuery({ queryKey: resultsKeys.flags, queryFn: () => client.call("results.flags", {}), enabled });
}

export function useAudit(enabled: boolean) {
  const client = useClient();
  return useQuery({
    queryKey: resultsKeys.audit,
    queryFn: () => client.call("audit.list", { limit: 500 }),
    enabled,
  });
}

/** Re-reads the results history when the engine says it changed (an import, a fresh database). */
export function useResultsChangedSync(): void {
  const client = useClient();
  const queryClient = useQueryClient();
  useEffect(
    () =>
      client.on("results.changed", () => {
        void queryClient.invalidateQueries({ queryKey: resultsKeys.all });
      }),
    [client, queryClient],
  );
}
