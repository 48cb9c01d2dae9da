import { EmptyState } from "../components/ErrorPanel.js";

/** Placeholder until the Nodes screen lands (issue #7). */
export function NodesScreen() {
  return <EmptyState title="Nodes">Coming in this release.</EmptyState>;
}
