import { EmptyState } from "../components/ErrorPanel.js";

/** Placeholder until the Results screen lands (issue #7). */
export function ResultsScreen() {
  return <EmptyState title="Results">Coming in this release.</EmptyState>;
}
