import { describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "../../../src-main/app/securityPolicy.js";
import { ELECTRON_CSP, withSecurityHeaders } from "../../../src-main/electron/csp.js";

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(";").map((part) => {
      const [name, ...sources] = part.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}

describe("the window's Content-Security-Policy", () => {
  it("allows only our own files: no inline script, no eval, nothing remote", () => {
    const policy = directives(ELECTRON_CSP);
    expect(Object.fromEntries(policy)).toEqual({
      "default-src": ["'none'"],
      "script-src": ["'self'"],
      "style-src": ["'self'"],
      "img-src": ["'self'", "data:"],
      "font-src": ["'self'"],
      "connect-src": ["'self'"],
      "base-uri": ["'none'"],
      "form-action": ["'none'"],
      "frame-ancestors": ["'none'"],
      "object-src": ["'none'"],
    });
    expect(ELECTRON_CSP).not.toMatch(/unsafe|\*|http:|https:/);
  });

  it("is the web bridge's policy without the WebSocket source", () => {
    const bridge = contentSecurityPolicy({ connectSrc: ["ws://127.0.0.1:7400"] });
    expect(bridge.replace(" ws://127.0.0.1:7400", "")).toBe(ELECTRON_CSP);
    expect(contentSecurityPolicy({ inlineStyles: true })).toContain("style-src 'self' 'unsafe-inline'");
  });

  it("replaces a policy a response brought and adds the hardening headers", () => {
    const headers = withSecurityHeaders({
      "content-security-policy": ["default-src *"],
      "Content-Type": ["text/html"],
      "x-content-type-options": ["whatever"],
    });
    expect(headers).toEqual({
      "Content-Type": ["text/html"],
      "Content-Security-Policy": [ELECTRON_CSP],
      "X-Content-Type-Options": ["nosniff"],
      "Referrer-Policy": ["no-referrer"],
      "X-Frame-Options": ["DENY"],
      "Cross-Origin-Opener-Policy": ["same-origin"],
      "Cross-Origin-Resource-Policy": ["same-origin"],
      "Permissions-Policy": [expect.stringContaining("camera=()")],
    });
    expect(withSecurityHeaders(undefined)["Content-Security-Policy"]).toEqual([ELECTRON_CSP]);
  });
});
