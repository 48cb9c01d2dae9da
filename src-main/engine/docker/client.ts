import type Docker from "dockerode";
import { MadError } from "../../../shared/errors.js";
import { loadDockerode } from "./loadDockerode.js";

export interface DockerEndpoint {
  /** As the user would write it: `unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`. */
  description: string;
  /** The client, created (and dockerode loaded) on first use. */
  readonly docker: Docker;
}

const DEFAULT_SOCKET = "/var/run/docker.sock";

function lazyEndpoint(description: string, options: Docker.DockerOptions): DockerEndpoint {
  let client: Docker | undefined;
  return {
    description,
    get docker() {
      if (!client) {
        const Dockerode = loadDockerode();
        client = new Dockerode(options);
      }
      return client;
    },
  };
}

/** A Docker client for DOCKER_HOST (or the default socket), as the docker CLI would pick. */
export function connectDocker(dockerHost: string | undefined = process.env.DOCKER_HOST): DockerEndpoint {
  if (!dockerHost) return lazyEndpoint(`unix://${DEFAULT_SOCKET}`, { socketPath: DEFAULT_SOCKET });
  if (dockerHost.startsWith("unix://"))
    return lazyEndpoint(dockerHost, { socketPath: dockerHost.slice("unix://".length) });
  if (dockerHost.startsWith("/")) return lazyEndpoint(`unix://${dockerHost}`, { socketPath: dockerHost });
  const url = /^(tcp|http):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(dockerHost);
  if (url) return lazyEndpoint(dockerHost, { protocol: "http", host: url[2]!, port: Number(url[3] ?? 2375) });
  throw new MadError("INVALID_ARGS", `DOCKER_HOST=${dockerHost} is not a form madengine-cli understands`, {
    hint: "use unix:///path/to/docker.sock or tcp://host:port",
  });
}

/** Turns a connection failure into an error that says where we looked and how to start Docker. */
export function dockerUnavailable(endpoint: DockerEndpoint, error: unknown): MadError {
  const reason = error instanceof Error ? error.message : String(error);
  return new MadError(
    "DOCKER_UNAVAILABLE",
    `cannot reach the Docker daemon at ${endpoint.description}: ${reason}`,
    {
      hint: `start Docker (e.g. 'sudo systemctl start docker'), or set DOCKER_HOST to the daemon's socket (now ${
        process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : "DOCKER_HOST is unset"
      })`,
      cause: error,
    },
  );
}

function isConnectionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    code === "ENOENT" ||
    code === "ECONNREFUSED" ||
    code === "EACCES" ||
    code === "ECONNRESET" ||
    code === "EPIPE"
  );
}

/** Pings the daemon once; a daemon that is not there becomes DOCKER_UNAVAILABLE. */
export async function ensureDockerReachable(endpoint: DockerEndpoint): Promise<void> {
  try {
    await endpoint.docker.ping();
  } catch (error) {
    throw dockerUnavailable(endpoint, error);
  }
}

/** Maps an error thrown by a dockerode call: a vanished daemon is DOCKER_UNAVAILABLE, else the API message. */
export function describeDockerError(endpoint: DockerEndpoint, error: unknown): Error {
  if (isConnectionError(error)) return dockerUnavailable(endpoint, error);
  const apiMessage = (error as { json?: { message?: string } }).json?.message;
  return new Error(apiMessage ?? (error instanceof Error ? error.message : String(error)));
}
