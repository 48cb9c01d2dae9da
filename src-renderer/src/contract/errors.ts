import type { ContractError } from "../../../shared/contract.js";

/**
 * The one error type the renderer sees from the engine: a ContractError value (code, message, hint,
 * file, JSON path) wrapped as an Error so it can be thrown and caught by react-query.
 * Codes come from the engine (shared/errors.ts) or from the client itself:
 * BRIDGE_UNAVAILABLE, NETWORK, UNAUTHORIZED, BAD_RESPONSE, INVALID_ARGS.
 */
export class ContractCallError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly path: string | undefined;

  constructor(readonly info: ContractError) {
    super(info.message);
    this.name = "ContractCallError";
    this.code = info.code;
    this.hint = info.hint;
    this.file = info.file;
    this.path = info.path;
  }
}

/** Any thrown value as a ContractError value (for showing it). */
export function toContractError(error: unknown): ContractError {
  if (error instanceof ContractCallError) return error.info;
  if (error instanceof Error) return { code: "INTERNAL", message: error.message };
  return { code: "INTERNAL", message: String(error) };
}
