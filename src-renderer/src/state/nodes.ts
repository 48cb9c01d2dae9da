import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { NodeHealth } from "../../../shared/contract/nodes.js";
import type { CallResult } from "../../../shared/contract.js";
import { useClient } from "./queries.js";

/** Server state of the Nodes screen: the inventory, live health (snapshot + events) and the watch lease. */

export const nodeKeys = {
  list: ["nodes.list"] as const,
  health: ["nodes.health"] as const,
};

/** A lease lives 30 s and is renewed every 10 s: two renewals may fail before polling stops. */
export const WATCH_LEASE_MS = 30_000;
export const WATCH_RENEW_MS = 10_000;

export function useNodesList() {
  const client = useClient();
  return useQuery({ queryKey: nodeKeys.list, queryFn: () => client.call("nodes.list", {}) });
}

type HealthSnapshot = CallResult<"nodes.health">;

function mergeHealth(
  old: HealthSnapshot | undefined,
  changed: readonly NodeHealth[],
): HealthSnapshot | undefined {
  if (!old) return old;
  const byName = new Map(changed.map((health) => [health.node, health]));
  return { ...old, nodes: old.nodes.map((health) => byName.get(health.node) ?? health) };
}

/** Re-reads the inventory and the health after an inventory change (new nodes start pending). */
export function nodesChanged(queryClient: QueryClient): void {
  void queryClient.invalidateQueries({ queryKey: nodeKeys.list });
  void queryClient.invalidateQueries({ queryKey: nodeKeys.health });
}

/** The latest health per node: the snapshot for the first paint, then `nodes.health` events. */
export function useNodeHealth() {
  const client = useClient();
  const queryClient = useQueryClient();
  useEffect(
    () =>
      client.on("nodes.health", ({ nodes }) => {
        queryClient.setQueryData<HealthSnapshot>(nodeKeys.health, (old) => mergeHealth(old, nodes));
      }),
    [client, queryClient],
  );
  return useQuery({ queryKey: nodeKeys.health, queryFn: () => client.call("nodes.health", {}) });
}

function documentVisible(): boolean {
  return document.visibilityState === "visible";
}

/**
 * Holds a watch lease while `active` (the Nodes screen is shown) and the document is visible; gives
 * it back at once when either ends, so the engine stops probing nobody's nodes.
 */
export function useNodesWatch(active: boolean): boolean {
  const client = useClient();
  const queryClient = useQueryClient();
  const [visible, setVisible] = useState(documentVisible);
  useEffect(() => {
    const onChange = () => setVisible(documentVisible());
    document.addEventListener("visibilitychange", onChange);
    return () => document.removeEventListener("visibilitychange", onChange);
  }, []);
  const watching = active && visible;
  useEffect(() => {
    if (!watching) return;
    const watcher = `nodes-screen-${crypto.randomUUID()}`;
    const renew = () =>
      client.call("nodes.watch", { watcher, leaseMs: WATCH_LEASE_MS }).catch(() => undefined);
    void renew().then(() => queryClient.invalidateQueries({ queryKey: nodeKeys.health }));
    const timer = setInterval(renew, WATCH_RENEW_MS);
    // after the event stream reconnects, the lease may have lapsed: take it again
    const offReconnect = client.onReconnect(() => void renew());
    return () => {
      clearInterval(timer);
      offReconnect();
      void client.call("nodes.unwatch", { watcher }).catch(() => undefined);
    };
  }, [client, queryClient, watching]);
  return watching;
}
