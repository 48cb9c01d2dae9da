import http from "node:http";
import type { Duplex } from "node:stream";
import { inspect } from "node:util";
import type { DockerEndpoint } from "../docker/client.js";
import { loadDockerode } from "../docker/loadDockerode.js";
import { trace, traceEnabled } from "../util/trace.js";
import type { NodeConnection } from "./connection.js";

/**
 * An HTTP agent whose "sockets" are streamlocal channels to the node's Docker socket on the node's
 * one SSH connection: every Docker API call (attach streams included) rides that connection, instead
 * of a new SSH login per call as docker-modem's own ssh transport does.
 */
class DockerSocketAgent extends http.Agent {
  constructor(
    private readonly connection: NodeConnection,
    private readonly socketPath: string,
  ) {
    super({ keepAlive: true, maxSockets: 32 });
    // a lost connection takes its channels with it, without a word to the agent: a request on a
    // kept-alive channel would then be written into the void and wait for ever (the removal after a
    // failed start, on a node whose sshd was killed). Destroying them fails such requests at once.
    connection.onClose(() => this.destroy());
  }

  /**
   * docker-modem formats every request's options with util.inspect (showHidden, unlimited depth)
   * for its debug log, even when that log is off; the options hold this agent, and through it the
   * whole SSH connection with its buffers and channels. Without this, formatting that graph cost
   * more CPU than everything else a dispatch does (over half a minute for 8 nodes x 7 models).
   */
  [inspect.custom](): string {
    return `DockerSocketAgent(${this.connection.target.name}:${this.socketPath})`;
  }

  override createConnection(
    _options: http.ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex | undefined {
    this.connection.openUnixSocket(this.socketPath).then(
      (channel) => {
        // http expects a net.Socket; these are the calls it makes on one
        const socketLike = channel as unknown as Record<string, unknown>;
        for (const method of ["setTimeout", "setNoDelay", "setKeepAlive", "ref", "unref"]) {
          if (typeof socketLike[method] !== "function") socketLike[method] = () => channel;
        }
        callback?.(null, channel);
      },
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/**
 * One Docker endpoint per connection and socket: its keep-alive agent holds channels to the node's
 * Docker socket open between calls, so preflight, the probe and the run reuse open channels (no
 * channel-open round trip per call), and a long-lived connection never piles up idle channels.
 */
const endpoints = new WeakMap<NodeConnection, Map<string, DockerEndpoint>>();

export function remoteDockerEndpoint(connection: NodeConnection, socketPath: string): DockerEndpoint {
  let bySocket = endpoints.get(connection);
  if (!bySocket) {
    bySocket = new Map();
    endpoints.set(connection, bySocket);
  }
  let endpoint = bySocket.get(socketPath);
  if (!endpoint) {
    endpoint = newRemoteDockerEndpoint(connection, socketPath);
    bySocket.set(socketPath, endpoint);
  }
  return endpoint;
}

function newRemoteDockerEndpoint(connection: NodeConnection, socketPath: string): DockerEndpoint {
  const Dockerode = loadDockerode();
  const agent = new DockerSocketAgent(connection, socketPath);
  const docker = new Dockerode({ protocol: "http", host: "docker", port: 80, agent } as ConstructorParameters<
    typeof Dockerode
  >[0]);
  if (traceEnabled()) {
    const modem = (
      docker as unknown as {
        modem: {
          dial: (options: Record<string, unknown>, callback: (...args: unknown[]) => void) => unknown;
        };
      }
    ).modem;
    const dial = modem.dial.bind(modem);
    modem.dial = (options, callback) => {
      const started = performance.now();
      return dial(options, (...args: unknown[]) => {
        trace(
          `${connection.target.name} docker ${String(options.method)} ${String(options.path).split("?")[0]}`,
          started,
        );
        callback(...args);
      });
    };
  }
  return {
    description: `ssh://${connection.target.user}@${connection.target.host}:${connection.target.port} -> unix://${socketPath}`,
    docker,
  };
}
