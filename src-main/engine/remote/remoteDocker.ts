import http from "node:http";
import type { Duplex } from "node:stream";
import type { DockerEndpoint } from "../docker/client.js";
import { loadDockerode } from "../docker/loadDockerode.js";
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

export function remoteDockerEndpoint(connection: NodeConnection, socketPath: string): DockerEndpoint {
  const Dockerode = loadDockerode();
  const agent = new DockerSocketAgent(connection, socketPath);
  const docker = new Dockerode({ protocol: "http", host: "docker", port: 80, agent } as ConstructorParameters<
    typeof Dockerode
  >[0]);
  return {
    description: `ssh://${connection.target.user}@${connection.target.host}:${connection.target.port} -> unix://${socketPath}`,
    docker,
  };
}
