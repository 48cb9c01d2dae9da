import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * URL policies of the window, as plain functions (tested without Electron): what the renderer may
 * load, and which links may leave the app for the system browser.
 */

/** Links opened in the system browser: http(s) to a named host, no credentials in the URL. */
export function isSafeExternalUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (url.username !== "" || url.password !== "") return false;
  return url.hostname !== "";
}

function filePathOf(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    if (url.protocol !== "file:" || (url.host !== "" && url.host !== "localhost")) return undefined;
    return path.resolve(fileURLToPath(url));
  } catch {
    return undefined;
  }
}

/** The page is our renderer's index.html (any query or #route). */
export function isAppPage(raw: string, indexHtml: string): boolean {
  const file = filePathOf(raw);
  return file !== undefined && file === path.resolve(indexHtml);
}

/**
 * Requests the window may make: files of the built renderer, inline data images, blobs, and the
 * DevTools' own pages. Nothing remote, no other file.
 */
export function isAllowedRequest(raw: string, rendererDir: string): boolean {
  if (raw.startsWith("devtools://") || raw.startsWith("data:") || raw.startsWith("blob:")) return true;
  const file = filePathOf(raw);
  if (file === undefined) return false;
  const relative = path.relative(path.resolve(rendererDir), file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}
