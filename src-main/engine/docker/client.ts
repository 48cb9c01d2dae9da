import { Agent } from "node:http";
import { inspect } from "node:util";
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

/**
 * The daemon speaks plain HTTP (unix socket or tcp://), so there is no TLS server name to work out:
 * an empty one spares every process Node's check of the host against its IPv6 pattern (compiling
 * that regular expression costs ~3 ms of a short command). Otherwise as Node's global agent (idle
 * keep-alive sockets closed after 5 s, so a long-lived app holds none for endpoints it no longer uses).
 */
class PlainHttpAgent extends Agent {
  constructor() {
    super({
      keepAlive: true,
      scheduling: "lifo",
      timeout: 5000,
      servername: "",
    } as ConstructorParameters<typeof Agent>[0]);
  }

  /** docker-modem formats request options (this agent and its sockets included) for its debug log. */
  [inspect.custom](): string {
    return "PlainHttpAgent";
  }
}

function lazyEndpoint(description: string, options: Docker.DockerOptions): DockerEndpoint {
  let client: Docker | undefined;
  return {
    description,
    get docker() {
      if (!client) {
        const Dockerode = loadDockerode();
        // docker-modem passes `agent` on to http.request (its typings leave it out)
        client = new Dockerode({ ...options, agent: new PlainHttpAgent() } as Docker.DockerOptions);
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
