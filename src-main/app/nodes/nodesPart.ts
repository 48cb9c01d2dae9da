import type { nodesCalls } from "../../../shared/contract/nodes.js";
import type { AppPart, AppPartContext } from "../appPart.js";

export type NodesCallName = keyof typeof nodesCalls;

/** The GPU nodes as the app sees them: inventory, host-key trust, live health, preflight. */
export function createNodesPart(_context: AppPartContext): AppPart<NodesCallName> {
  return { handlers: {}, close: async () => {} };
}
