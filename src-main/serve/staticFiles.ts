import { realpath, stat } from "node:fs/promises";
import path from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm",
  ".webmanifest": "application/manifest+json",
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

export type StaticLookup =
  | { ok: true; file: string; size: number; isIndex: boolean }
  | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * Maps a request path to a file inside `root`, refusing everything that could leave it: `..` and
 * `.` segments (also percent-encoded, also with backslashes), NUL bytes, hidden files, and symbolic
 * links that resolve outside the root. `/` is index.html; a path without an extension that names
 * no file is index.html too (client-side routes).
 */
export async function lookupStaticFile(root: string, rawPathname: string): Promise<StaticLookup> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPathname);
  } catch {
    return { ok: false, status: 400, reason: "malformed percent-encoding in the path" };
  }
  if (decoded.includes("\0") || decoded.includes("\\"))
    return { ok: false, status: 400, reason: "bad character in the path" };
  const segments = decoded.split("/").filter((segment) => segment !== "");
  if (segments.some((segment) => segment === ".." || segment === "."))
    return { ok: false, status: 400, reason: "path traversal refused" };
  if (segments.some((segment) => segment.startsWith(".")))
    return { ok: false, status: 404, reason: "not found" };

  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch {
    return { ok: false, status: 404, reason: "not found" };
  }
  const relative = segments.length === 0 ? "index.html" : segments.join("/");
  const found = await resolveInside(rootReal, relative);
  if (found.ok || found.status !== 404) return found;
  const last = segments.at(-1) ?? "";
  if (segments.length > 0 && path.extname(last) === "") return resolveInside(rootReal, "index.html");
  return found;
}

async function resolveInside(rootReal: string, relative: string): Promise<StaticLookup> {
  const candidate = path.join(rootReal, relative);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return { ok: false, status: 404, reason: "not found" };
  }
  if (!real.startsWith(`${rootReal}${path.sep}`))
    return { ok: false, status: 403, reason: "outside the renderer directory" };
  const info = await stat(real).catch(() => undefined);
  if (!info?.isFile()) return { ok: false, status: 404, reason: "not found" };
  return { ok: true, file: real, size: info.size, isIndex: real === path.join(rootReal, "index.html") };
}
