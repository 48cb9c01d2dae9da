import { existsSync } from "node:fs";
import { rename } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export const RESULTS_DB_ENV = "MADENGINE_RESULTS_DB";

/**
 * The user's data directory (results history, nodes, audit log):
 * $XDG_DATA_HOME/madengine-control-center, else ~/.local/share/madengine-control-center.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, ".local", "share");
  return path.join(base, "madengine-control-center");
}

/**
 * The results database used when no --db is given: $MADENGINE_RESULTS_DB, else
 * $XDG_DATA_HOME/madengine-control-center/results.db, else
 * ~/.local/share/madengine-control-center/results.db.
 */
export function defaultResultsDbPath(
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): string {
  const explicit = env[RESULTS_DB_ENV];
  if (explicit) return path.resolve(explicit);
  return path.join(defaultDataDir(env, home), "results.db");
}

/** `2026-01-02T03-04-05-678Z`: an ISO time usable in a file name. */
function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, "-");
}

/**
 * Moves a broken database aside to `<file>.broken-<timestamp>` (and its `-wal`/`-shm` files next to
 * it), never overwriting anything and never deleting data. Returns the new path of the database.
 */
export async function moveAside(file: string, now: Date = new Date()): Promise<string> {
  const base = `${file}.broken-${fileTimestamp(now)}`;
  let target = base;
  for (let n = 1; [target, `${target}-wal`, `${target}-shm`].some((p) => existsSync(p)); n++) {
    target = `${base}-${n}`;
  }
  await rename(file, target);
  for (const suffix of ["-wal", "-shm"]) {
    if (existsSync(`${file}${suffix}`)) await rename(`${file}${suffix}`, `${target}${suffix}`);
  }
  return target;
}
