import { MadError } from "../../shared/errors.js";

/** The MadError a function throws (anything else thrown, or nothing, fails the test). */
export function thrown(fn: () => unknown): MadError {
  try {
    fn();
  } catch (error) {
    if (error instanceof MadError) return error;
    throw error;
  }
  throw new Error("expected a MadError");
}

/** The MadError a promise rejects with (anything else, or fulfilment, fails the test). */
export async function rejection(promise: Promise<unknown>): Promise<MadError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MadError) return error;
    throw error;
  }
  throw new Error("expected a MadError");
}
