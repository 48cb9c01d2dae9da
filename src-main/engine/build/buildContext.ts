import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pack } from "tar-stream";
import { isIgnored, parseDockerignore } from "./dockerignore.js";

export interface ContextEntry {
  /** Path inside the context, `/`-separated. */
  name: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  mtime: Date;
  content?: Buffer;
  linkname?: string;
}

export interface BuildContext {
  entries: ContextEntry[];
  /** Where the Dockerfile is inside the context (it is added when it lives outside). */
  dockerfileInContext: string;
  /** sha256 over every entry's name, type, mode and content: the context's part of the inputs hash. */
  digest: string;
  fileCount: number;
  totalBytes: number;
}

const INJECTED_DOCKERFILE = ".madengine.Dockerfile";

async function walk(
  root: string,
  relative: string,
  out: ContextEntry[],
  ignore: ReturnType<typeof parseDockerignore>,
) {
  const dir = path.join(root, relative);
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const rel = relative === "" ? name : `${relative}/${name}`;
    const full = path.join(root, rel);
    if (isIgnored(ignore, rel)) {
      // an excluded directory may still hold files that a later `!pattern` takes back, as Docker does
      if (ignore.some((rule) => rule.negate) && (await lstat(full)).isDirectory())
        await walk(root, rel, out, ignore);
      continue;
    }
    const info = await lstat(full);
    const mode = info.mode & 0o7777;
    if (info.isSymbolicLink()) {
      out.push({ name: rel, type: "symlink", mode, mtime: info.mtime, linkname: await readlink(full) });
    } else if (info.isDirectory()) {
      out.push({ name: rel, type: "directory", mode, mtime: info.mtime });
      await walk(root, rel, out, ignore);
    } else if (info.isFile()) {
      out.push({ name: rel, type: "file", mode, mtime: info.mtime, content: await readFile(full) });
    }
  }
}

/**
 * Reads a build context directory as Docker would send it: `.dockerignore` honoured (the Dockerfile
 * and .dockerignore themselves are always kept), the Dockerfile added if it lives outside the context.
 */
export async function readBuildContext(contextDir: string, dockerfilePath: string): Promise<BuildContext> {
  let ignoreText = "";
  try {
    ignoreText = await readFile(path.join(contextDir, ".dockerignore"), "utf8");
  } catch {
    // no .dockerignore: everything is sent
  }
  const rules = parseDockerignore(ignoreText);
  const entries: ContextEntry[] = [];
  await walk(contextDir, "", entries, rules);

  const relativeDockerfile = path.relative(contextDir, dockerfilePath).split(path.sep).join("/");
  let dockerfileInContext = relativeDockerfile;
  const insideContext = !relativeDockerfile.startsWith("../") && !path.isAbsolute(relativeDockerfile);
  if (!insideContext || !entries.some((entry) => entry.name === relativeDockerfile)) {
    if (insideContext) dockerfileInContext = relativeDockerfile;
    else dockerfileInContext = INJECTED_DOCKERFILE;
    const info = await lstat(dockerfilePath);
    entries.push({
      name: dockerfileInContext,
      type: "file",
      mode: info.mode & 0o7777,
      mtime: info.mtime,
      content: await readFile(dockerfilePath),
    });
  }

  const hash = createHash("sha256");
  let totalBytes = 0;
  let fileCount = 0;
  for (const entry of entries) {
    hash.update(`${entry.type}\0${entry.name}\0${entry.mode.toString(8)}\0${entry.linkname ?? ""}\0`);
    if (entry.content) {
      hash.update(createHash("sha256").update(entry.content).digest("hex"));
      totalBytes += entry.content.length;
      fileCount++;
    }
    hash.update("\n");
  }
  return { entries, dockerfileInContext, digest: hash.digest("hex"), fileCount, totalBytes };
}

/** The context as a tar stream for the Docker build API. */
export function contextTarStream(context: BuildContext): Readable {
  const tar = pack();
  for (const entry of context.entries) {
    if (entry.type === "file")
      tar.entry({ name: entry.name, mode: entry.mode, mtime: entry.mtime }, entry.content ?? Buffer.alloc(0));
    else if (entry.type === "directory")
      tar.entry({ name: entry.name, type: "directory", mode: entry.mode, mtime: entry.mtime });
    else
      tar.entry({
        name: entry.name,
        type: "symlink",
        linkname: entry.linkname ?? "",
        mode: entry.mode,
        mtime: entry.mtime,
      });
  }
  tar.finalize();
  return tar as unknown as Readable;
}
