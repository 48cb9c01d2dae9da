import { z } from "zod";

/**
 * `credential.json` in the MAD root (spec §4.6): registry entries (`dockerhub` or the registry's
 * address) with repository/username/password, model `cred` entries whose fields become build args
 * and environment, and data-provider settings (which may be lists).
 */
const credentialEntry = z.looseObject({
  repository: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
});
export const credentialsFileSchema = z.record(
  z.string(),
  z.union([credentialEntry, z.array(z.record(z.string(), z.unknown()))]),
);
export type CredentialsFile = z.output<typeof credentialsFileSchema>;
export type CredentialEntry = z.output<typeof credentialEntry>;
