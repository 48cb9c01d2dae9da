import { homedir } from "node:os";
import path from "node:path";

/** `~/x` -> `$HOME/x`, as the engine reads node paths (known_hosts, identity files, ssh config). */
export function expandHome(file: string): string {
  return file === "~" ? homedir() : file.startsWith("~/") ? path.join(homedir(), file.slice(2)) : file;
}
