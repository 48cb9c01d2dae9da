import { existsSync } from "node:fs";
import path from "node:path";
import {
  type CredentialEntry,
  type CredentialsFile,
  credentialsFileSchema,
} from "../../../shared/schemas/credentials.js";
import { readJsonFile } from "../util/jsonFiles.js";

export interface LoadedCredentials {
  /** The merged credentials (file, then MAD_DOCKERHUB_* on top). Never printed. */
  entries: CredentialsFile;
  /** Whether a credential.json was found (the original fails a missing `cred` only then). */
  fromFile: boolean;
  /** Every secret value, for the redaction filter. */
  secretValues: string[];
}

const SECRET_FIELD = /pass|token|secret|key/i;

function collectSecrets(value: unknown, key: string, out: Set<string>): void {
  if (typeof value === "string") {
    if (SECRET_FIELD.test(key) && value.length >= 3) out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const item of value) collectSecrets(item, key, out);
  else if (value && typeof value === "object") {
    for (const [innerKey, inner] of Object.entries(value)) collectSecrets(inner, innerKey, out);
  }
}

/** Reads `credential.json` from the MAD root (optional) and the `MAD_DOCKERHUB_*` variables. */
export async function loadCredentials(
  madRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedCredentials> {
  const file = path.join(madRoot, "credential.json");
  const fromFile = existsSync(file);
  const entries: CredentialsFile = fromFile
    ? await readJsonFile(file, credentialsFileSchema, { displayName: "credential.json" })
    : {};
  if (env.MAD_DOCKERHUB_USER && env.MAD_DOCKERHUB_PASSWORD) {
    const current = entries.dockerhub;
    entries.dockerhub = {
      ...(current && !Array.isArray(current) ? current : {}),
      username: env.MAD_DOCKERHUB_USER,
      password: env.MAD_DOCKERHUB_PASSWORD,
      ...(env.MAD_DOCKERHUB_REPO ? { repository: env.MAD_DOCKERHUB_REPO } : {}),
    };
  }
  const secrets = new Set<string>();
  collectSecrets(entries, "", secrets);
  for (const [name, value] of Object.entries(env)) {
    if (value && (name.includes("MAD_SECRETS") || name === "MAD_DOCKERHUB_PASSWORD") && value.length >= 3)
      secrets.add(value);
  }
  return { entries, fromFile, secretValues: [...secrets] };
}

export function credentialEntry(credentials: LoadedCredentials, key: string): CredentialEntry | undefined {
  const entry = credentials.entries[key];
  return entry && !Array.isArray(entry) ? entry : undefined;
}

export function isDockerHub(registry: string): boolean {
  const lower = registry.toLowerCase();
  return lower === "docker.io" || lower === "dockerhub" || lower === "index.docker.io";
}

/** The credential.json key for a registry: `dockerhub` for Docker Hub, else the registry string. */
export function registryCredentialKey(registry: string): string {
  return isDockerHub(registry) ? "dockerhub" : registry;
}
