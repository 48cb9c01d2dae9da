import type { Session } from "electron";
import { contentSecurityPolicy, HARDENING_HEADERS } from "../app/securityPolicy.js";

/** The window's policy: the same as the web bridge's, with no WebSocket (events come over IPC). */
export const ELECTRON_CSP = contentSecurityPolicy();

/** Response headers with any policy the response brought replaced by ours, plus the hardening headers. */
export function withSecurityHeaders(headers: Record<string, string[]> | undefined): Record<string, string[]> {
  const replaced = new Set([
    "content-security-policy",
    ...Object.keys(HARDENING_HEADERS).map((n) => n.toLowerCase()),
  ]);
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers ?? {})) {
    if (!replaced.has(name.toLowerCase())) out[name] = values;
  }
  out["Content-Security-Policy"] = [ELECTRON_CSP];
  for (const [name, value] of Object.entries(HARDENING_HEADERS)) out[name] = [value];
  return out;
}

/** Puts the policy on every response the session receives. */
export function installContentSecurityPolicy(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withSecurityHeaders(details.responseHeaders) });
  });
}
