import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { MadError } from "../../../shared/errors.js";
import { trace } from "../util/trace.js";

/** What the host-key check decided; a refusal carries the message shown to the user. */
export type HostKeyDecision = { accept: true } | { accept: false; reason: string; hint: string };

export interface ConnectionTarget {
  /** Name used in messages (the node's name). */
  name: string;
  host: string;
  port: number;
  user: string;
  identityFile?: string | undefined;
  passphrase?: string | undefined;
  /** Decides whether the presented host key (raw wire format) is acceptable. Must be synchronous. */
  checkHostKey: (rawKey: Buffer) => HostKeyDecision;
  /** An already-open stream to the host (for ProxyJump: a forwarded channel of the jump host). */
  sock?: Duplex;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
}

export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

export class NodeLostError extends Error {}

/**
 * One persistent SSH connection to a node (ssh2): every command, SFTP session and Docker API call
 * to that node travels over it. The error listener lives as long as the client (ssh2 can emit a
 * second 'error' after a protocol failure), and a channel that closes without an exit status is
 * treated as the node going away.
 */
export class NodeConnection {
  readonly client = new Client();
  private closedReason: string | undefined;
  private readonly closeListeners = new Set<(reason: string) => void>();
  private sftpSession: Promise<SFTPWrapper> | undefined;

  private constructor(readonly target: ConnectionTarget) {
    this.client.on("error", () => {
      // reported through connect() or the close listeners; kept so a late error never crashes Node
    });
    this.client.on("close", () => {
      const reason = this.closedReason ?? `connection to ${target.name} closed`;
      this.closedReason = reason;
      for (const listener of this.closeListeners) listener(reason);
    });
  }

  static connect(target: ConnectionTarget): Promise<NodeConnection> {
    const connection = new NodeConnection(target);
    return connection.open().then(() => connection);
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  onClose(listener: (reason: string) => void): () => void {
    if (this.closedReason) listener(this.closedReason);
    else this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private open(): Promise<void> {
    const { target } = this;
    let refusal: MadError | undefined;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: target.readyTimeoutMs ?? 10_000,
      keepaliveInterval: target.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: target.keepaliveCountMax ?? 3,
      hostVerifier: (key: Buffer) => {
        const decision = target.checkHostKey(key);
        if (!decision.accept)
          refusal = new MadError("INVALID_ARGS", `${target.name}: ${decision.reason}`, {
            hint: decision.hint,
          });
        return decision.accept;
      },
    };
    if (target.sock) config.sock = target.sock as unknown as ConnectConfig["sock"];
    if (target.identityFile) {
      try {
        config.privateKey = readFileSync(target.identityFile);
      } catch (error) {
        return Promise.reject(
          new MadError(
            "FILE_NOT_FOUND",
            `${target.name}: cannot read identity file ${target.identityFile}: ${(error as Error).message}`,
            {
              hint: "check the node's identityFile in the nodes file",
            },
          ),
        );
      }
      if (target.passphrase !== undefined) config.passphrase = target.passphrase;
    } else if (process.env.SSH_AUTH_SOCK) {
      config.agent = process.env.SSH_AUTH_SOCK;
    }
    return new Promise((resolve, reject) => {
      const onError = (error: Error & { level?: string }) => {
        this.client.off("ready", onReady);
        this.closedReason = error.message;
        reject(refusal ?? describeSshError(target, error));
      };
      const onReady = () => {
        this.client.off("error", onError);
        resolve();
      };
      this.client.once("error", onError);
      this.client.once("ready", onReady);
      try {
        this.client.connect(config);
      } catch (error) {
        onError(error as Error);
      }
    });
  }

  /** Runs a command; output is collected. A channel closing without an exit status means the node is gone. */
  exec(command: string, options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const started = performance.now();
    return new Promise<ExecResult>((resolve, reject) => {
      if (this.closedReason) {
        reject(new NodeLostError(`${this.target.name}: ${this.closedReason}`));
        return;
      }
      this.client.exec(command, (error, channel: ClientChannel) => {
        if (error) {
          reject(new NodeLostError(`${this.target.name}: ${error.message}`));
          return;
        }
        let stdout = "";
        let stderr = "";
        let exit: { code: number | null; signal: string | undefined } | undefined;
        const timer =
          options.timeoutMs !== undefined
            ? setTimeout(() => {
                channel.close();
                reject(
                  new Error(
                    `${this.target.name}: '${command.slice(0, 60)}' did not finish within ${options.timeoutMs} ms`,
                  ),
                );
              }, options.timeoutMs)
            : undefined;
        channel.on("data", (chunk: Buffer) => {
          stdout += chunk.toString("utf8");
        });
        channel.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8");
        });
        channel.on("exit", (code: number | null, signal?: string) => {
          exit = { code, signal };
        });
        channel.on("close", () => {
          if (timer) clearTimeout(timer);
          if (!exit)
            reject(
              new NodeLostError(
                `${this.target.name}: the command's channel closed without an exit status (node lost?)`,
              ),
            );
          else resolve({ ...exit, stdout, stderr });
        });
      });
    }).finally(() => trace(`${this.target.name} exec ${command.slice(0, 50)}`, started));
  }

  sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => {
      this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp)));
    });
    this.sftpSession.catch(() => {
      this.sftpSession = undefined;
    });
    return this.sftpSession;
  }

  /** A stream to a unix socket on the node (the Docker socket), over this connection. */
  openUnixSocket(socketPath: string): Promise<ClientChannel> {
    return this.openChannel((done) => this.client.openssh_forwardOutStreamLocal(socketPath, done));
  }

  /** A TCP stream from the node to host:port (to reach the next hop of a ProxyJump chain). */
  forwardTo(host: string, port: number): Promise<ClientChannel> {
    return this.openChannel((done) => this.client.forwardOut("127.0.0.1", 0, host, port, done));
  }

  /**
   * Opens a channel, failing at once on a connection already closed and as soon as the connection
   * closes before the node answers: ssh2 never calls back then, and a Docker call made on a lost node
   * (removing a container after a failed start) would wait for ever.
   */
  private openChannel(
    open: (done: (error: Error | undefined, channel: ClientChannel) => void) => void,
  ): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.closedReason) {
        reject(new NodeLostError(`${this.target.name}: ${this.closedReason}`));
        return;
      }
      const stopListening = this.onClose((reason) =>
        reject(new NodeLostError(`${this.target.name}: ${reason}`)),
      );
      try {
        open((error, channel) => {
          stopListening();
          if (error) reject(error);
          else resolve(channel);
        });
      } catch (error) {
        stopListening();
        reject(error);
      }
    });
  }

  close(): void {
    this.closedReason ??= `connection to ${this.target.name} closed by madengine-cli`;
    this.client.end();
  }
}

function describeSshError(
  target: ConnectionTarget,
  error: Error & { level?: string; code?: string },
): MadError {
  const where = `${target.user}@${target.host}:${target.port}`;
  switch (error.level) {
    case "client-authentication":
      return new MadError("INVALID_ARGS", `${target.name}: authentication failed for ${where}`, {
        hint: target.identityFile
          ? `check that ${target.identityFile} is authorised on the node (and its passphrase, if it has one)`
          : "set identityFile for the node, or load a key into ssh-agent (SSH_AUTH_SOCK)",
      });
    case "client-timeout":
      return new MadError(
        "INVALID_ARGS",
        `${target.name}: ${where} did not answer in time (${error.message})`,
        {
          hint: "check that the node is up and reachable, and that sshd listens on that port",
        },
      );
    case "client-socket":
      return new MadError("INVALID_ARGS", `${target.name}: cannot connect to ${where}: ${error.message}`, {
        hint: "check the host and port in the nodes file and that sshd runs on the node",
      });
    case "protocol":
      return new MadError(
        "INVALID_ARGS",
        `${target.name}: ${where} does not speak SSH correctly: ${error.message}`,
        {
          hint: "check the port: is it really sshd?",
        },
      );
    default:
      return new MadError("INVALID_ARGS", `${target.name}: SSH to ${where} failed: ${error.message}`, {
        hint: "try: ssh -p PORT USER@HOST true",
      });
  }
}
