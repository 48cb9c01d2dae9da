/**
 * The renderer's Content-Security-Policy, one definition for both faces: the Electron window (a
 * response header on its session) and the web bridge (a header on every response, with the
 * bridge's own WebSocket address). Nothing but our own files: no inline script, no eval, no remote
 * anything, no plugins, no forms, no framing.
 */
export interface CspOptions {
  /** Extra connect-src sources, e.g. `ws://127.0.0.1:8123` for the web bridge's event socket. */
  connectSrc?: readonly string[];
  /**
   * Allow inline `<style>` elements and `style=""` attributes. Off: React's `style={{...}}` sets
   * properties through the CSSOM, which CSP allows; only turn this on for a library that injects
   * `<style>` tags.
   */
  inlineStyles?: boolean;
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const directives: [string, string[]][] = [
    ["default-src", ["'none'"]],
    ["script-src", ["'self'"]],
    ["style-src", ["'self'", ...(options.inlineStyles ? ["'unsafe-inline'"] : [])]],
    ["img-src", ["'self'", "data:"]],
    ["font-src", ["'self'"]],
    ["connect-src", ["'self'", ...(options.connectSrc ?? [])]],
    ["base-uri", ["'none'"]],
    ["form-action", ["'none'"]],
    ["frame-ancestors", ["'none'"]],
    ["object-src", ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(" ")}`).join("; ");
}

/** Headers every renderer response carries, besides the CSP. */
export const HARDENING_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=(), bluetooth=()",
};
