import http from "node:http";
import https from "node:https";
import {
  credentialEntry,
  isDockerHub,
  type LoadedCredentials,
  registryCredentialKey,
} from "./credentials.js";

/** Where a local image goes in a registry (spec §4.6), split into repository and tag. */
export interface RegistryTarget {
  /** Full reference, e.g. `127.0.0.1:5000/ci-dummy_dummy.ubuntu.none` or `127.0.0.1:5000/mad:ci-dummy_...`. */
  reference: string;
  repository: string;
  tag: string;
}

export function registryTarget(
  localImage: string,
  registry: string,
  credentials: LoadedCredentials,
): RegistryTarget {
  const repository = credentialEntry(credentials, registryCredentialKey(registry))?.repository;
  if (isDockerHub(registry)) {
    if (repository) return { reference: `${repository}:${localImage}`, repository, tag: localImage };
    return { reference: localImage, repository: localImage, tag: "latest" };
  }
  const base = registry.replace(/\/+$/, "");
  if (repository)
    return {
      reference: `${base}/${repository}:${localImage}`,
      repository: `${base}/${repository}`,
      tag: localImage,
    };
  return { reference: `${base}/${localImage}`, repository: `${base}/${localImage}`, tag: "latest" };
}

export interface AuthConfig {
  serveraddress: string;
  username?: string;
  password?: string;
}

/** Auth for the daemon's push/pull, handed over in the API's X-Registry-Auth header (never on a command line). */
export function registryAuth(registry: string, credentials: LoadedCredentials): AuthConfig {
  const serveraddress = isDockerHub(registry) ? "https://index.docker.io/v1/" : registry;
  const entry = credentialEntry(credentials, registryCredentialKey(registry));
  if (entry?.username && entry.password)
    return { serveraddress, username: entry.username, password: entry.password };
  return { serveraddress };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "[::1]";
}

/**
 * Asks the registry's `/v2/` endpoint whether it is there, so a dead registry fails in seconds with its
 * name instead of after the daemon's retries. Any HTTP answer (401 included) means reachable.
 */
export async function probeRegistry(
  registry: string,
  timeoutMs = 5000,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (isDockerHub(registry)) return { ok: true };
  const hostPort = registry.split("/")[0]!;
  const host = hostPort.replace(/:\d+$/, "");
  const secure = !isLoopback(host);
  const url = `${secure ? "https" : "http"}://${hostPort}/v2/`;
  return new Promise((resolve) => {
    const request = (secure ? https : http).get(url, { timeout: timeoutMs }, (response) => {
      response.resume();
      resolve({ ok: true });
    });
    request.on("timeout", () => {
      request.destroy();
      resolve({ ok: false, reason: `no answer from ${url} within ${timeoutMs / 1000} s` });
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === "ECONNREFUSED" ? `${hostPort} refused the connection` : `${url}: ${error.message}`;
      resolve({ ok: false, reason });
    });
  });
}
