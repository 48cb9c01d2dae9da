import { z } from "zod";

/** Errors cross as values, never as stripped exceptions. */
export const contractErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  file: z.string().optional(),
  path: z.string().optional(),
});
export type ContractError = z.output<typeof contractErrorSchema>;

/** One entry of a call table: the schema of its arguments and of its result. */
export function call<A extends z.ZodType, R extends z.ZodType>(args: A, result: R) {
  return { args, result };
}
