import { type MadErrorInfo, toErrorInfo } from "../../../shared/errors.js";
import { bold, dim, red } from "./style.js";

/**
 * Prints an error as one clear line plus a hint (and, with --verbose, the stack), returning the exit
 * code to use.
 */
export function reportError(error: unknown, verbose: boolean): number {
  const info: MadErrorInfo = toErrorInfo(error);
  const stderr = process.stderr;
  const [first, ...rest] = info.message.split("\n");
  stderr.write(`${red(bold("error", stderr), stderr)}: ${first}\n`);
  for (const line of rest) stderr.write(`  ${line}\n`);
  if (info.hint) stderr.write(`${dim("hint", stderr)}: ${info.hint}\n`);
  if (verbose && error instanceof Error && error.stack) stderr.write(`${dim(error.stack, stderr)}\n`);
  else if (info.code === "INTERNAL") stderr.write(`${dim("(run with --verbose for details)", stderr)}\n`);
  return info.exitCode;
}
