import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { listMadPaths } from "../generate/madFiles.js";
import { mapWithConcurrency } from "../util/pool.js";
import { shellQuote } from "../util/shellQuote.js";
import type { NodeConnection } from "./connection.js";

export interface LocalFile {
  relative: string;
  mode: number;
  sha256: string;
  size: number;
}

/** The MAD files to copy (the same files the Ansible archive carries), with their hashes: list once, sync to every node. */
export async function listMadFiles(root: string): Promise<LocalFile[]> {
  return mapWithConcurrency(await listMadPaths(root), 8, async ({ name, full, mode }) => {
    const content = await readFile(full);
    return {
      relative: name,
      mode,
      size: content.length,
      sha256: createHash("sha256").update(content).digest("hex"),
    };
  });
}

export interface SyncResult {
  remoteRoot: string;
  uploaded: number;
  unchanged: number;
  bytes: number;
}

/** The remote user's home, asked once per connection (it cannot change while the connection lives). */
const homes = new WeakMap<NodeConnection, Promise<string>>();

/** Expands `~` in a node work directory to the remote user's home. */
export async function resolveRemotePath(connection: NodeConnection, remotePath: string): Promise<string> {
  if (!remotePath.startsWith("~")) return remotePath;
  let home = homes.get(connection);
  if (!home) {
    home = connection.exec('printf %s "$HOME"').then((result) => result.stdout.trim() || "/root");
    homes.set(connection, home);
    // a failed lookup (node lost) is not remembered
    home.catch(() => homes.delete(connection));
  }
  return path.posix.join(await home, remotePath.slice(1));
}

/**
 * Copies the MAD files a run needs to the node (scripts, models, data config...), by SFTP, skipping
 * files whose sha256 already matches there. The Dockerfiles stay behind (images come from the
 * registry) and so does credential.json (secrets never land in files on nodes).
 */
export async function syncMadRoot(
  connection: NodeConnection,
  localRoot: string,
  remoteRoot: string,
  /** The local listing, when the caller already has it (`listMadFiles`): one listing for all nodes. */
  localFiles?: Promise<LocalFile[]>,
): Promise<SyncResult> {
  const files = await (localFiles ?? listMadFiles(localRoot));
  const listing = await connection.exec(
    `mkdir -p ${shellQuote(remoteRoot)} && cd ${shellQuote(remoteRoot)} && find . -type f -exec sha256sum {} + 2>/dev/null; true`,
  );
  if (listing.code !== 0)
    throw new Error(`${connection.target.name}: cannot prepare ${remoteRoot}: ${listing.stderr.trim()}`);
  const remote = new Map<string, string>();
  for (const line of listing.stdout.split("\n")) {
    const match = /^([0-9a-f]{64})\s+\.\/(.*)$/.exec(line);
    if (match) remote.set(match[2]!, match[1]!);
  }
  const changed = files.filter((file) => remote.get(file.relative) !== file.sha256);
  const dirs = [
    ...new Set(changed.map((file) => path.posix.dirname(file.relative)).filter((dir) => dir !== ".")),
  ];
  if (dirs.length > 0) {
    const made = await connection.exec(
      `cd ${shellQuote(remoteRoot)} && mkdir -p ${dirs.map(shellQuote).join(" ")}`,
    );
    if (made.code !== 0)
      throw new Error(
        `${connection.target.name}: cannot create directories under ${remoteRoot}: ${made.stderr.trim()}`,
      );
  }
  const sftp = await connection.sftp();
  await mapWithConcurrency(changed, 8, async (file) => {
    const content = await readFile(path.join(localRoot, file.relative));
    await new Promise<void>((resolve, reject) => {
      sftp.writeFile(path.posix.join(remoteRoot, file.relative), content, { mode: file.mode }, (error) =>
        error ? reject(error) : resolve(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      sftp.chmod(path.posix.join(remoteRoot, file.relative), file.mode, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  });
  return {
    remoteRoot,
    uploaded: changed.length,
    unchanged: files.length - changed.length,
    bytes: changed.reduce((sum, file) => sum + file.size, 0),
  };
}
