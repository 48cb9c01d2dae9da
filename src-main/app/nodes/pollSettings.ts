import { MadError } from "../../../shared/errors.js";

/** How the Nodes part polls; each can be set in the environment (for serve and benches). */
export interface PollSettings {
  /** MADENGINE_NODES_POLL_MS: pause between probes of a node (default 5000). */
  intervalMs: number;
  /** MADENGINE_NODES_PROBE_TIMEOUT_MS: a connection or probe taking longer fails (default 10000). */
  probeTimeoutMs: number;
  /** MADENGINE_NODES_IDLE_CLOSE_MS: connections stay open this long after the last watcher left (default 15000). */
  idleCloseMs: number;
  /** Lease given to a watcher that asks for no length (default 30000). */
  defaultLeaseMs: number;
}

const VARIABLES: [keyof PollSettings, string, number, number][] = [
  ["intervalMs", "MADENGINE_NODES_POLL_MS", 100, 3_600_000],
  ["probeTimeoutMs", "MADENGINE_NODES_PROBE_TIMEOUT_MS", 100, 600_000],
  ["idleCloseMs", "MADENGINE_NODES_IDLE_CLOSE_MS", 0, 3_600_000],
];

export function pollSettingsFrom(env: NodeJS.ProcessEnv): PollSettings {
  const settings: PollSettings = {
    intervalMs: 5_000,
    probeTimeoutMs: 10_000,
    idleCloseMs: 15_000,
    defaultLeaseMs: 30_000,
  };
  for (const [key, name, min, max] of VARIABLES) {
    const text = env[name];
    if (text === undefined || text === "") continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new MadError(
        "INVALID_ARGS",
        `${name} must be a whole number of milliseconds from ${min} to ${max}`,
        {
          hint: `unset ${name} for the default, or fix its value`,
        },
      );
    }
    settings[key] = value;
  }
  return settings;
}
