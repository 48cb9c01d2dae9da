import { z } from "zod";

export const AUDIT_KINDS = ["build", "run"] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export const AUDIT_OUTCOMES = ["success", "failure", "interrupted"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What a build or run appends to the audit log (the store adds id). */
export const auditEntryInputSchema = z.strictObject({
  /** ISO-8601 time the build or run ended. */
  at: z.string().min(1),
  /** The OS user who ran it. */
  user: z.string(),
  kind: z.enum(AUDIT_KINDS),
  manifestFile: z.string().nullable(),
  /** sha256 (hex) of the manifest file's bytes; null when there was none to read. */
  manifestSha256: z.string().nullable(),
  /** Image ids and registry digests of the manifest's images. */
  imageDigests: z.array(z.string()),
  /** The nodes it ran on (empty: this machine). */
  nodes: z.array(z.string()),
  outcome: z.enum(AUDIT_OUTCOMES),
  /** A one-line reason for a failure, or an exit code. */
  detail: z.string().nullable(),
});
export type AuditEntryInput = z.output<typeof auditEntryInputSchema>;

export const auditEntrySchema = auditEntryInputSchema.extend({ id: z.number().int() });
export type AuditEntry = z.output<typeof auditEntrySchema>;

export const AUDIT_CSV_COLUMNS = [
  "id",
  "at",
  "user",
  "kind",
  "manifest_file",
  "manifest_sha256",
  "image_digests",
  "nodes",
  "outcome",
  "detail",
] as const;
