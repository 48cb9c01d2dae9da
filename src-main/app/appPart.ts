import type { CallName } from "../../shared/contract.js";
import type { CallHandlers } from "./contractCalls.js";
import type { EventMessage } from "./eventHub.js";

/** What a part of the application service gets from the service that hosts it. */
export interface AppPartContext {
  /** Environment for the engine (DOCKER_HOST, passphrase variables, credentials). */
  env: NodeJS.ProcessEnv;
  /** Where jobs write (`<workspaceDir>/jobs/<id>/`). */
  workspaceDir: string;
  /** The user's data: results history, nodes, audit log. */
  dataDir: string;
  /** The results history database. */
  resultsDbFile: string;
  /** The node inventory (nodes.json). */
  nodesFile: string;
  /** known_hosts used for nodes that name none (default ~/.ssh/known_hosts). */
  knownHostsFile: string | undefined;
  /** Sends an event to every subscriber (checked against the contract first). */
  publish(message: EventMessage): void;
}

/**
 * A slice of the contract answered by its own module (results history, nodes): its handlers and
 * what it must release when the service closes. The service spreads the handlers of all parts into
 * one table, so the compiler still checks that every call of the contract has exactly one handler.
 */
export interface AppPart<N extends CallName> {
  handlers: Pick<CallHandlers, N>;
  close(): Promise<void>;
}
