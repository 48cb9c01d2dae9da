import type { CommandRunner } from "../context/gpu/detectHostGpus.js";
import type { ExecutionTarget, TargetFs } from "../run/target.js";
import { shellJoin, shellQuote } from "../util/shellQuote.js";
import type { NodeConnection } from "./connection.js";
import { remoteDockerEndpoint } from "./remoteDocker.js";

const SFTP_NO_SUCH_FILE = 2;

/** The node's filesystem: SFTP for reads and stats, one shell command for removals and device listing. */
export function remoteFs(connection: NodeConnection): TargetFs {
  const stat = async (file: string) => {
    const sftp = await connection.sftp();
    return new Promise<import("ssh2").Stats | undefined>((resolve, reject) => {
      sftp.stat(file, (error, stats) => {
        if (!error) resolve(stats);
        else if ((error as { code?: number }).code === SFTP_NO_SUCH_FILE) resolve(undefined);
        else reject(error);
      });
    });
  };
  return {
    async exists(file) {
      return (await stat(file)) !== undefined;
    },
    async isDirectory(file) {
      return (await stat(file))?.isDirectory() === true;
    },
    async readText(file) {
      const sftp = await connection.sftp();
      return new Promise((resolve, reject) => {
        sftp.readFile(file, (error, data) => (error ? reject(error) : resolve(data.toString("utf8"))));
      });
    },
    async remove(file) {
      const result = await connection.exec(`rm -rf -- ${shellQuote(file)}`);
      if (result.code !== 0)
        throw new Error(`cannot remove ${file} on ${connection.target.name}: ${result.stderr.trim()}`);
    },
    async devices() {
      const result = await connection.exec(
        'for f in /dev/kfd /dev/fuse /dev/dri/*; do [ -e "$f" ] && echo "$f"; done; true',
      );
      return new Set(result.stdout.split("\n").filter(Boolean));
    },
  };
}

/** Runs GPU query tools on the node (for detection), with the same contract as the local runner. */
export function remoteCommandRunner(connection: NodeConnection): CommandRunner {
  return async (command, args, timeoutMs) => {
    const result = await connection.exec(shellJoin([command, ...args]), { timeoutMs });
    return {
      exitCode: result.code,
      stdout: result.stdout,
      stderr: result.stderr,
      notFound: result.code === 127,
    };
  };
}

export function remoteTarget(
  connection: NodeConnection,
  options: { dockerSocket: string; madRoot: string },
): ExecutionTarget {
  return {
    name: connection.target.name,
    endpoint: remoteDockerEndpoint(connection, options.dockerSocket),
    madRoot: options.madRoot,
    fs: remoteFs(connection),
    machineName: connection.target.name,
    runCommand: remoteCommandRunner(connection),
  };
}
