import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, useSyncExternalStore } from "react";
import type { CallResult, JobSummary } from "../../../shared/contract.js";
import { type ConnectionState, ContractCallError, type ContractClient } from "../contract/client.js";

/** All server state goes through react-query; the contract client is the only fetcher. */

export const ClientContext = createContext<ContractClient | null>(null);

export function useClient(): ContractClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside <ClientContext.Provider>");
  return client;
}

export const keys = {
  status: ["engine.status"] as const,
  zoo: (madRoot: string) => ["zoo.discover", madRoot] as const,
  jobs: ["jobs.list"] as const,
  job: (id: string) => ["jobs.get", id] as const,
  manifest: (file: string) => ["manifest.read", file] as const,
  results: (jobId: string) => ["results.forJob", jobId] as const,
  context: (json: string) => ["context.validate", json] as const,
};

/** Engine errors are answers, not outages: retry only when the bridge itself was unreachable. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  return error instanceof ContractCallError && error.code === "NETWORK" && failureCount < 2;
}

export function useEngineStatus() {
  const client = useClient();
  return useQuery({
    queryKey: keys.status,
    queryFn: () => client.call("engine.status", {}),
    // Docker may come back (or go away): look again, more often while it is down
    refetchInterval: (query) => (query.state.data?.docker.ok === false ? 5_000 : 30_000),
  });
}

export function useZoo(madRoot: string) {
  const client = useClient();
  return useQuery({
    queryKey: keys.zoo(madRoot),
    queryFn: () => client.call("zoo.discover", madRoot === "" ? {} : { madRoot }),
    staleTime: 60_000,
  });
}

export function useJobs() {
  const client = useClient();
  return useQuery({ queryKey: keys.jobs, queryFn: () => client.call("jobs.list", {}) });
}

export function useJob(id: string | undefined) {
  const client = useClient();
  return useQuery({
    queryKey: keys.job(id ?? ""),
    queryFn: () => client.call("jobs.get", { id: id! }),
    enabled: id !== undefined,
  });
}

export function useManifest(file: string | undefined) {
  const client = useClient();
  return useQuery({
    queryKey: keys.manifest(file ?? ""),
    queryFn: () => client.call("manifest.read", { file: file! }),
    enabled: file !== undefined && file !== "",
  });
}

export function useResults(jobId: string | undefined, finished: boolean) {
  const client = useClient();
  return useQuery({
    queryKey: keys.results(jobId ?? ""),
    queryFn: () => client.call("results.forJob", { jobId: jobId! }),
    enabled: jobId !== undefined && finished,
  });
}

/** A value that settles `delayMs` after it last changed. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/** Live validation of context JSON by the engine, as the user types (debounced). */
export function useContextValidation(json: string) {
  const client = useClient();
  const settled = useDebounced(json, 250);
  const query = useQuery({
    queryKey: keys.context(settled),
    queryFn: () => client.call("context.validate", { json: settled }),
    staleTime: Number.POSITIVE_INFINITY,
    placeholderData: (previous) => previous,
  });
  return { ...query, pending: settled !== json || query.isFetching };
}

function upsertJob(list: JobSummary[], job: JobSummary): JobSummary[] {
  const index = list.findIndex((each) => each.id === job.id);
  if (index < 0) return [job, ...list];
  const next = list.slice();
  next[index] = job;
  return next;
}

/** Seeds the caches with a job the engine just started. */
export function rememberJob(queryClient: QueryClient, job: JobSummary): void {
  queryClient.setQueryData<CallResult<"jobs.list">>(keys.jobs, (old) => ({
    jobs: upsertJob(old?.jobs ?? [], job),
  }));
  queryClient.setQueryData<CallResult<"jobs.get">>(keys.job(job.id), (old) => ({
    job,
    items: old?.items ?? [],
  }));
  // the start answer has no items: read them (events may also have come before this answer)
  void queryClient.invalidateQueries({ queryKey: keys.job(job.id) });
}

/**
 * Keeps job queries current from `job.updated` events, and re-reads everything after the event
 * stream reconnects (events sent while it was down are lost).
 */
export function useJobEventsSync(): void {
  const client = useClient();
  const queryClient = useQueryClient();
  useEffect(() => {
    const offJob = client.on("job.updated", ({ job, items }) => {
      // an answer still on its way was read before this event: it must not overwrite it
      void queryClient.cancelQueries({ queryKey: keys.job(job.id), exact: true });
      queryClient.setQueryData<CallResult<"jobs.get">>(keys.job(job.id), { job, items });
      queryClient.setQueryData<CallResult<"jobs.list">>(keys.jobs, (old) =>
        old ? { jobs: upsertJob(old.jobs, job) } : old,
      );
      if (job.state !== "running") {
        void queryClient.invalidateQueries({ queryKey: keys.results(job.id) });
      }
    });
    const offReconnect = client.onReconnect(() => {
      void queryClient.invalidateQueries();
    });
    return () => {
      offJob();
      offReconnect();
    };
  }, [client, queryClient]);
}

export function useConnectionState(): ConnectionState {
  const client = useClient();
  return useSyncExternalStore(
    (listener) => client.onConnectionState(listener),
    () => client.connectionState(),
  );
}
