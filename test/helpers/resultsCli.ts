import { Command } from "commander";
import { vi } from "vitest";
import { registerResultsCommands } from "../../src-main/cli/commands/results.js";

/** `madengine-cli results ...` in this process; returns the exit code it set. */
export async function runResultsCli(...args: string[]): Promise<number | undefined> {
  const program = new Command("madengine-cli").exitOverride();
  registerResultsCommands(program);
  process.exitCode = undefined;
  await program.parseAsync(["node", "madengine-cli", ...args]);
  const code = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return code;
}

/** Collects what is written to stdout and stderr (until vi.restoreAllMocks()). */
export function captureStdio(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  return { out, err };
}
