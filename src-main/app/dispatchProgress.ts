import type { JobItem, JobNode } from "../../shared/contract.js";
import type { DispatchEvent } from "../../shared/events.js";
import { JobProgress, type LogSource, type ProgressTable } from "./jobProgress.js";

const MAX_DETAIL = 500;

function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL - 1)}…` : text;
}

/**
 * The progress of a run on GPU nodes: one row per node (connecting, ready, running, done, failed,
 * lost, cancelled) and, per node, one row per model (the same rows as a local run, keyed
 * `node/model`). Rows of a build that ran first (tags given instead of a manifest) come first.
 * Pure bookkeeping, folded from the dispatcher's events.
 */
export class DispatchProgress implements ProgressTable {
  readonly logs: LogSource[] = [];
  /** Rows of the build that ran first, if any. */
  readonly build: JobProgress;
  readonly nodes: JobNode[];
  private readonly perNode = new Map<string, JobProgress>();

  constructor(nodeNames: readonly string[]) {
    this.build = new JobProgress(false, { logs: this.logs });
    this.nodes = nodeNames.map((name) => ({ name, state: "connecting", succeeded: 0, failed: 0 }));
    for (const name of nodeNames)
      this.perNode.set(name, new JobProgress(false, { node: name, logs: this.logs }));
  }

  get items(): readonly JobItem[] {
    return [...this.build.items, ...[...this.perNode.values()].flatMap((progress) => progress.items)];
  }

  /** The rows of one node (undefined for a node not in this run). */
  of(node: string): JobProgress | undefined {
    return this.perNode.get(node);
  }

  node(name: string): JobNode | undefined {
    return this.nodes.find((node) => node.name === name);
  }

  addLog(source: string, file: string): boolean {
    return this.build.addLog(source, file);
  }

  restoreRows(rows: readonly JobItem[]): void {
    for (const row of rows) (row.node ? this.perNode.get(row.node) : this.build)?.restoreRows([row]);
  }

  skipQueued(reason: string): boolean {
    let changed = this.build.skipQueued(reason);
    for (const progress of this.perNode.values()) changed = progress.skipQueued(reason) || changed;
    return changed;
  }

  /** Marks nodes still working as `state` (the run ended without them finishing). */
  settleNodes(state: JobNode["state"], detail: string): void {
    for (const node of this.nodes) {
      if (node.state === "connecting" || node.state === "ready" || node.state === "running") {
        node.state = state;
        node.detail = detail;
      }
    }
  }

  /** Folds one event in; true when something shown changed. */
  apply(event: DispatchEvent): boolean {
    const node = this.node(event.node);
    if (!node) return false;
    switch (event.type) {
      case "node:connecting":
        node.address = event.address;
        node.state = "connecting";
        return true;
      case "node:ready":
        node.state = "ready";
        node.detail = clip(
          `${event.docker}; MAD files: ${event.uploaded} uploaded, ${event.unchanged} unchanged`,
        );
        return true;
      case "node:failed":
        if (node.state !== "cancelled") {
          node.state = "failed";
          node.detail = clip(event.hint ? `${event.error} (${event.hint})` : event.error);
        }
        return true;
      case "node:lost":
        node.state = "lost";
        node.detail = clip(event.reason);
        return true;
      case "node:trusted":
        return false;
      default: {
        const progress = this.perNode.get(event.node)!;
        const changed = progress.applyRun(event);
        if (event.type === "run:start" && (node.state === "ready" || node.state === "connecting")) {
          node.state = "running";
          return true;
        }
        if (event.type === "run:done") {
          if (event.status === "SUCCESS") node.succeeded++;
          else if (event.status === "FAILURE") node.failed++;
          return true;
        }
        return changed;
      }
    }
  }

  /** The node's run phase returned: done unless something already says otherwise. */
  nodeFinished(name: string): void {
    const node = this.node(name);
    if (node && (node.state === "running" || node.state === "ready")) node.state = "done";
  }

  snapshotNodes(): JobNode[] {
    return this.nodes.map((node) => ({ ...node }));
  }
}
