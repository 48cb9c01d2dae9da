/**
 * Errors that cross every boundary (CLI, IPC, web bridge) as plain values: a code, a one-line
 * message, a hint that says what to do, and where known the file and JSON path at fault.
 */

/** Process exit codes, compatible with the original madengine-cli (decisions.md). */
export const ExitCode = {
  SUCCESS: 0,
  FAILURE: 1,
  BUILD_FAILURE: 2,
  RUN_FAILURE: 3,
  INVALID_ARGS: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type MadErrorCode =
  | "INVALID_ARGS"
  | "INVALID_FILE"
  | "FILE_NOT_FOUND"
  | "UNKNOWN_TAG"
  | "DISCOVERY_FAILED"
  | "CONTEXT_INVALID"
  | "DOCKER_UNAVAILABLE"
  | "BUILD_FAILED"
  | "RUN_FAILED"
  | "INTERNAL";

export interface MadErrorInfo {
  code: MadErrorCode;
  message: string;
  hint?: string;
  file?: string;
  /** JSON path inside `file`, e.g. `[3].n_gpus`. */
  path?: string;
  exitCode: ExitCode;
}

const defaultExitCodes: Record<MadErrorCode, ExitCode> = {
  INVALID_ARGS: ExitCode.INVALID_ARGS,
  CONTEXT_INVALID: ExitCode.INVALID_ARGS,
  INVALID_FILE: ExitCode.FAILURE,
  FILE_NOT_FOUND: ExitCode.FAILURE,
  UNKNOWN_TAG: ExitCode.FAILURE,
  DISCOVERY_FAILED: ExitCode.FAILURE,
  DOCKER_UNAVAILABLE: ExitCode.FAILURE,
  BUILD_FAILED: ExitCode.BUILD_FAILURE,
  RUN_FAILED: ExitCode.RUN_FAILURE,
  INTERNAL: ExitCode.FAILURE,
};

export class MadError extends Error {
  readonly code: MadErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly path: string | undefined;
  readonly exitCode: ExitCode;

  constructor(
    code: MadErrorCode,
    message: string,
    options: { hint?: string; file?: string; path?: string; exitCode?: ExitCode; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MadError";
    this.code = code;
    this.hint = options.hint;
    this.file = options.file;
    this.path = options.path;
    this.exitCode = options.exitCode ?? defaultExitCodes[code];
  }

  toInfo(): MadErrorInfo {
    const info: MadErrorInfo = { code: this.code, message: this.message, exitCode: this.exitCode };
    if (this.hint !== undefined) info.hint = this.hint;
    if (this.file !== undefined) info.file = this.file;
    if (this.path !== undefined) info.path = this.path;
    return info;
  }
}

export function isMadError(value: unknown): value is MadError {
  return value instanceof MadError;
}

/** Turns anything thrown into a typed error value, keeping MadError details. */
export function toErrorInfo(error: unknown): MadErrorInfo {
  if (error instanceof MadError) return error.toInfo();
  const message = error instanceof Error ? error.message : String(error);
  return { code: "INTERNAL", message, exitCode: ExitCode.FAILURE };
}
