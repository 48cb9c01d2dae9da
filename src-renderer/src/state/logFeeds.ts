import { useEffect, useSyncExternalStore } from "react";
import type { ContractClient } from "../contract/client.js";
import { LogFeed } from "../logs/logFeed.js";
import { useClient } from "./queries.js";

/** How long a log nobody shows is kept (switching tabs back and forth should not re-read it). */
const KEEP_UNUSED_MS = 60_000;

interface Entry {
  feed: LogFeed;
  users: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const registries = new WeakMap<ContractClient, Map<string, Entry>>();

function registryOf(client: ContractClient): Map<string, Entry> {
  let registry = registries.get(client);
  if (!registry) {
    registry = new Map();
    registries.set(client, registry);
  }
  return registry;
}

function scheduleDisposal(registry: Map<string, Entry>, key: string, entry: Entry): void {
  if (entry.timer !== undefined) clearTimeout(entry.timer);
  entry.timer = setTimeout(() => {
    if (entry.users > 0) return;
    entry.feed.dispose();
    if (registry.get(key) === entry) registry.delete(key);
  }, KEEP_UNUSED_MS);
}

/** The feed of a log, created on first use; an unused feed is disposed after KEEP_UNUSED_MS. */
function feedFor(client: ContractClient, jobId: string, source: string): { key: string; entry: Entry } {
  const registry = registryOf(client);
  const key = `${jobId}\u0000${source}`;
  let entry = registry.get(key);
  if (!entry) {
    entry = { feed: new LogFeed(client, jobId, source), users: 0, timer: undefined };
    registry.set(key, entry);
    scheduleDisposal(registry, key, entry); // in case no component ever holds it
  }
  return { key, entry };
}

/** The live log of one job source, held while the calling component is mounted. */
export function useLogFeed(jobId: string, source: string): LogFeed {
  const client = useClient();
  const { entry } = feedFor(client, jobId, source);
  useEffect(() => {
    const registry = registryOf(client);
    const { key, entry: held } = feedFor(client, jobId, source);
    if (held.timer !== undefined) clearTimeout(held.timer);
    held.timer = undefined;
    held.users++;
    return () => {
      held.users--;
      if (held.users === 0) scheduleDisposal(registry, key, held);
    };
  }, [client, jobId, source]);
  useSyncExternalStore(
    (listener) => entry.feed.subscribe(listener),
    () => entry.feed.status,
  );
  return entry.feed;
}
