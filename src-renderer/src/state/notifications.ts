import { useEffect, useState, useSyncExternalStore } from "react";
import type { JobSummary } from "../../../shared/contract.js";
import { useClient } from "./queries.js";

/** Jobs shorter than this end while the user is still looking: no notification for them. */
export const NOTIFY_AFTER_SECONDS = 10;

const STORAGE_KEY = "madengine.notifications";

type Permission = NotificationPermission | "unsupported";

function permissionNow(): Permission {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

const listeners = new Set<() => void>();
function changed(): void {
  for (const listener of listeners) listener();
}

function wanted(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

/** Whether ended jobs raise a system notification, and a way to turn it on (asks the permission). */
export function useNotificationSetting(): {
  permission: Permission;
  enabled: boolean;
  enable(): Promise<void>;
  disable(): void;
} {
  const permission = useSyncExternalStore((listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, permissionNow);
  const [on, setOn] = useState(wanted);
  return {
    permission,
    enabled: permission === "granted" && on,
    async enable() {
      if (permission === "unsupported") return;
      if (permission !== "granted") await Notification.requestPermission();
      try {
        localStorage.setItem(STORAGE_KEY, "on");
      } catch {
        // private windows: the choice lasts this page
      }
      setOn(true);
      changed();
    },
    disable() {
      try {
        localStorage.setItem(STORAGE_KEY, "off");
      } catch {
        // as above
      }
      setOn(false);
      changed();
    },
  };
}

function describe(job: JobSummary): { title: string; body: string } {
  const seconds = job.endedAt ? (Date.parse(job.endedAt) - Date.parse(job.startedAt)) / 1000 : 0;
  const took = seconds >= 60 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds)} s`;
  const what = job.kind === "build" ? "Build" : "Run";
  const outcome =
    job.state === "succeeded" ? "finished" : job.state === "cancelled" ? "was cancelled" : "failed";
  const nodes = job.nodes
    ? ` · ${job.nodes.filter((node) => node.state === "done").length}/${job.nodes.length} nodes done`
    : "";
  return { title: `${what} ${outcome}`, body: `${job.title} (${took}${nodes})` };
}

/**
 * A system notification (a desktop one in the Electron app, the browser's in the web bridge) when
 * a build or run that ran for a while ends — the moment a user who went to do something else
 * wants to know about. Only jobs this page saw running are announced, each once.
 */
export function useJobEndNotifications(): void {
  const client = useClient();
  useEffect(() => {
    const running = new Set<string>();
    return client.on("job.updated", ({ job }) => {
      if (job.state === "running") {
        running.add(job.id);
        return;
      }
      if (!running.delete(job.id)) return;
      const seconds = job.endedAt ? (Date.parse(job.endedAt) - Date.parse(job.startedAt)) / 1000 : 0;
      if (seconds < NOTIFY_AFTER_SECONDS || permissionNow() !== "granted" || !wanted()) return;
      const { title, body } = describe(job);
      try {
        new Notification(title, { body, tag: `madengine-job-${job.id}` });
      } catch {
        // some embedders only allow notifications from a service worker: the in-app notice remains
      }
    });
  }, [client]);
}
