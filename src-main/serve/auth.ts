import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** A fresh access token: 32 random bytes, URL- and cookie-safe. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** A token we accept from the caller: URL- and cookie-safe, and long enough not to be guessed. */
export function isUsableToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{16,512}$/.test(token);
}

/** Compares in constant time (hashes first, so lengths do not leak either). */
export function tokensEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Cookies are per host, not per port: the port in the name keeps two bridges on one host apart. */
export function tokenCookieName(port: number): string {
  return `madengine_token_${port}`;
}

export function tokenCookie(port: number, token: string): string {
  return `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name !== "" && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === "localhost") return true;
  if (isIP(lower) === 4) return lower.startsWith("127.");
  if (isIP(lower) === 6) return lower === "::1" || /^::ffff:127\./.test(lower);
  return false;
}

/** Splits a Host header into name and port (`[::1]:8080`, `127.0.0.1:8080`, `localhost`). */
export function parseHostHeader(header: string | undefined): { hostname: string; port?: number } | undefined {
  if (!header || !/^[A-Za-z0-9.\-:[\]]+$/.test(header)) return undefined;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header);
  if (!match) return undefined;
  const hostname = match[1]!;
  return match[2] === undefined ? { hostname } : { hostname, port: Number(match[2]) };
}
