/**
 * Kubernetes name, label and quantity rules (the API server's validation, which the OpenAPI schemas
 * do not carry): checked before anything is written, with errors that name the option at fault.
 */
import { createHash } from "node:crypto";
import { MadError } from "../../../shared/errors.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
/** A resource quantity as the API server parses it (no sign: requests and limits cannot be negative). */
const QUANTITY = /^\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

function invalid(option: string, value: string, rule: string, example: string): MadError {
  return new MadError("INVALID_ARGS", `${option} ${JSON.stringify(value)}: ${rule}`, {
    hint: `e.g. ${option} ${example}`,
  });
}

/** A namespace name: a DNS-1123 label (lower-case letters, digits and '-', at most 63). */
export function checkNamespace(value: string, option = "--namespace"): string {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw invalid(
      option,
      value,
      "not a valid namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
      "madengine",
    );
  }
  return value;
}

/** An object name that must be a DNS-1123 subdomain (Secrets, ConfigMaps), at most 253. */
export function checkSubdomainName(value: string, option: string): string {
  if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw invalid(
      option,
      value,
      "not a valid Kubernetes object name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)",
      "registry-credentials",
    );
  }
  return value;
}

/** A label value: at most 63 of [A-Za-z0-9._-], beginning and ending with a letter or digit (or empty). */
export function isLabelValue(value: string): boolean {
  return value === "" || (value.length <= 63 && LABEL_NAME.test(value));
}

/** A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

/**
 * Turns any text into a valid label value: characters outside [A-Za-z0-9._-] become '_', the ends
 * are trimmed to letters or digits, and long values keep their start plus a short hash of the whole.
 */
export function sanitizeLabelValue(text: string): string {
  let value = text.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (value.length > 63) {
    const hash = createHash("sha256").update(text).digest("hex").slice(0, 8);
    value = `${value.slice(0, 54).replace(/[^A-Za-z0-9]+$/, "")}-${hash}`;
  }
  return value === "" ? "x" : value;
}

/** Turns any text into a DNS-1123 label of at most `max` characters (for object names). */
export function sanitizeDnsLabel(text: string, max = 63): string {
  let value = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  if (value.length > max) value = value.slice(0, max).replace(/-+$/, "");
  return value === "" ? "x" : value;
}

/** `key=value` node selectors, each checked as a label key and value. */
export function parseNodeSelectors(
  items: readonly string[],
  option = "--node-selector",
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? "" : item.slice(eq + 1);
    if (eq < 0 || !isLabelKey(key)) {
      throw invalid(option, item, "expected key=value with a valid label key", "accelerator=mi300x");
    }
    if (!isLabelValue(value)) {
      throw invalid(
        option,
        item,
        "the value must be at most 63 of letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
        `${key}=mi300x`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** A CPU or memory quantity such as 2, 500m, 4Gi. */
export function checkQuantity(value: string, option: string, example: string): string {
  if (!QUANTITY.test(value.trim())) {
    throw invalid(
      option,
      value,
      "not a resource quantity (a non-negative number with an optional unit)",
      example,
    );
  }
  return value.trim();
}

/** Whether a ConfigMap data key is valid. */
export function isConfigMapKey(key: string): boolean {
  return (
    key.length <= 253 && CONFIG_MAP_KEY.test(key) && key !== "." && key !== ".." && !key.startsWith("..")
  );
}

/** Flattens a relative file path into a ConfigMap key (`scripts/dummy/run.sh` -> `scripts_dummy_run.sh`), unique in `taken`. */
export function configMapKeyFor(relative: string, taken: Set<string>): string {
  let base = relative
    .replace(/\//g, "_")
    .replace(/[^-._a-zA-Z0-9]/g, "-")
    .replace(/^\.+/, "");
  if (base === "") base = "file";
  if (base.length > 240) base = base.slice(base.length - 240);
  let key = base;
  for (let n = 2; taken.has(key) || !isConfigMapKey(key); n++) key = `${base}-${n}`;
  taken.add(key);
  return key;
}
