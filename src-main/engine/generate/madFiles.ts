/**
 * The MAD files a run needs on a node (models.json, scripts/, data.json, tools...), packed into a
 * deterministic tar.gz next to a generated playbook: the same files give the same bytes, so Ansible's
 * `unarchive` finds nothing to change on a second run. Like the SSH dispatch, the Dockerfiles stay
 * behind (images come from the registry), and so do secrets, VCS data and what runs write back.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { MadError } from "../../../shared/errors.js";

const EXCLUDED_NAMES = new Set([
  ".git",
  "node_modules",
  "__pycache__",
  "credential.json",
  "run_directory",
  "build_manifest.json",
  "execution_config.json",
]);
const EXCLUDED_AT_ROOT = new Set(["docker"]);
const EXCLUDED_PATTERNS = [/\.live\.log$/, /^perf.*\.csv$/, /^perf_entry\./, /\.pyc$/];
/** Every entry gets this time, so the archive depends on content only. */
const FIXED_MTIME = new Date("2000-01-01T00:00:00Z");

export interface MadFile {
  /** `/`-separated path inside the MAD root. */
  name: string;
  mode: number;
  content: Buffer;
}

export function isExcludedMadPath(relative: string): boolean {
  const parts = relative.split("/");
  if (parts.length > 0 && EXCLUDED_AT_ROOT.has(parts[0]!)) return true;
  return parts.some(
    (part) => EXCLUDED_NAMES.has(part) || EXCLUDED_PATTERNS.some((pattern) => pattern.test(part)),
  );
}

/** A file of the MAD root that travels to nodes, before it is read. */
export interface MadPath {
  /** `/`-separated path inside the MAD root. */
  name: string;
  /** Absolute path on this machine. */
  full: string;
  mode: number;
}

/**
 * The files of the MAD root that travel to nodes (the one rule for the Ansible archive and the
 * SSH sync), sorted by path; symlinks are followed.
 */
export async function listMadPaths(madRoot: string): Promise<MadPath[]> {
  const root = path.resolve(madRoot);
  const out: MadPath[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    if (depth > 40) throw new MadError("INVALID_FILE", `${root}/${relative}: directories nest too deep`);
    const entries = (await readdir(path.join(root, relative), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (isExcludedMadPath(rel)) continue;
      const full = path.join(root, rel);
      const info = await stat(full).catch(() => undefined);
      if (!info) continue;
      if (info.isDirectory()) await walk(rel, depth + 1);
      else if (info.isFile()) out.push({ name: rel, full, mode: info.mode & 0o777 });
    }
  };
  try {
    await walk("", 0);
  } catch (error) {
    if (error instanceof MadError) throw error;
    throw new MadError("FILE_NOT_FOUND", `cannot read the MAD root ${root}: ${(error as Error).message}`, {
      file: root,
      hint: "run from a MAD checkout or pass --mad-root DIR",
      cause: error,
    });
  }
  return out;
}

/** The files of the MAD root that travel to nodes, with their contents, sorted by path. */
export async function collectMadFiles(madRoot: string): Promise<MadFile[]> {
  const paths = await listMadPaths(madRoot);
  return Promise.all(
    paths.map(async ({ name, full, mode }) => ({ name, mode, content: await readFile(full) })),
  );
}

/** A gzip'd tar of `files` (with their directories), byte-for-byte the same for the same files. */
export async function madFilesArchive(files: readonly MadFile[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
  const finished = new Promise<void>((resolve, reject) => {
    tar.on("end", resolve);
    tar.on("error", reject);
  });
  const dirs = new Set<string>();
  const common = { mtime: FIXED_MTIME, uid: 0, gid: 0, uname: "root", gname: "root" };
  for (const file of files) {
    const parts = file.name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      tar.entry({ ...common, name: `${dir}/`, type: "directory", mode: 0o755 });
    }
    tar.entry({ ...common, name: file.name, type: "file", mode: file.mode | 0o644 }, file.content);
  }
  tar.finalize();
  await finished;
  // a fixed gzip header (no name, mtime 0) keeps the archive deterministic
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}
