import type { z } from "zod";
import {
  type CallName,
  type CallResult,
  type ContractCalls,
  type ContractError,
  type callResponseSchema,
  contractCalls,
} from "../../shared/contract.js";
import { toErrorInfo } from "../../shared/errors.js";
import { formatJsonPath } from "../../shared/schemas/validate.js";

/**
 * The contract's call table made executable: name checks, argument validation, errors as values.
 * Every face (web bridge, Electron IPC) goes through these, so all of them answer alike.
 */

export type CallResponse = z.output<typeof callResponseSchema>;

/** Arguments of a call after validation (what a handler receives). */
export type ParsedCallArgs<N extends CallName> = z.output<ContractCalls[N]["args"]>;

/** One async handler per contract call; the compiler checks that none is missing. */
export type CallHandlers = { [N in CallName]: (args: ParsedCallArgs<N>) => Promise<CallResult<N>> };

/** Error codes that the faces add to the engine's MadErrorCode values (they are plain strings on the wire). */
export type FaceErrorCode = "UNKNOWN_CALL" | "NOT_FOUND" | "UNAUTHORIZED" | "FORBIDDEN" | "PAYLOAD_TOO_LARGE";

/** An error that already is a contract error value (the engine's MadError covers engine failures). */
export class ContractFailure extends Error {
  constructor(readonly info: ContractError) {
    super(info.message);
    this.name = "ContractFailure";
  }
}

export const CALL_NAMES = Object.keys(contractCalls) as CallName[];

export function isCallName(name: unknown): name is CallName {
  return typeof name === "string" && Object.hasOwn(contractCalls, name);
}

/** Anything thrown, as the error value that crosses the boundary (no exit code, no stack). */
export function toContractError(error: unknown): ContractError {
  if (error instanceof ContractFailure) return { ...error.info };
  const { exitCode: _exitCode, ...info } = toErrorInfo(error);
  return info;
}

export function unknownCallError(name: unknown): ContractError {
  const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : typeof name;
  return {
    code: "UNKNOWN_CALL",
    message: `no call named ${shown}`,
    hint: `the calls are: ${CALL_NAMES.join(", ")}`,
  };
}

export type ArgsCheck<N extends CallName> =
  | { ok: true; args: ParsedCallArgs<N> }
  | {
      ok: false;
      error: ContractError;
      /** Safe to log: the call name, the JSON path and what was expected, never a value. */
      logLine: string;
    };

/**
 * Validates a call's arguments with the contract's schema. The error names the JSON path and what
 * was expected; zod's messages never quote the value, so a secret in the arguments stays out of
 * the error and the log line.
 */
export function validateCallArgs<N extends CallName>(name: N, raw: unknown): ArgsCheck<N> {
  const schema = contractCalls[name].args as z.ZodType;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, args: parsed.data as ParsedCallArgs<N> };
  const issues = parsed.error.issues;
  const first = issues[0];
  const where = first ? formatJsonPath(first.path) : "(top level)";
  const what = first?.message ?? "invalid arguments";
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return {
    ok: false,
    error: {
      code: "INVALID_ARGS",
      message: `${name}: ${where}: ${what}${more}`,
      hint: `the arguments of ${name} do not match the contract (shared/contract.ts)`,
      path: where,
    },
    logLine: `${name}: invalid arguments at ${where}: ${what}${more}`,
  };
}

/**
 * Runs one call through its handler: validates the arguments, runs it, checks the result against
 * the contract (a mismatch is our bug, reported as INTERNAL rather than sent), and turns every
 * failure into `{ ok: false, error }`. Never throws.
 */
export async function invokeCall(handlers: CallHandlers, name: unknown, raw: unknown): Promise<CallResponse> {
  if (!isCallName(name)) return { ok: false, error: unknownCallError(name) };
  const checked = validateCallArgs(name, raw);
  if (!checked.ok) return { ok: false, error: checked.error };
  let result: unknown;
  try {
    const handler = handlers[name] as (args: unknown) => Promise<unknown>;
    result = await handler(checked.args);
  } catch (error) {
    return { ok: false, error: toContractError(error) };
  }
  const valid = (contractCalls[name].result as z.ZodType).safeParse(result);
  if (!valid.success) {
    const issue = valid.error.issues[0];
    return {
      ok: false,
      error: {
        code: "INTERNAL",
        message: `${name} produced a result that does not match the contract at ${issue ? formatJsonPath(issue.path) : "(top level)"}: ${issue?.message ?? "invalid"}`,
        hint: "this is a bug in madengine Control Center; please report it",
      },
    };
  }
  return { ok: true, result: valid.data };
}
