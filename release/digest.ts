/**
 * The canonical digest of a release manifest: what approvers sign.
 *
 * canonical JSON (RFC 8785, the JSON Canonicalization Scheme, for the values a YAML manifest can hold):
 * - objects: members sorted by key, comparing keys as sequences of UTF-16 code units; a member whose
 *   value is undefined is left out, as JSON.stringify does;
 * - arrays in their order; strings, numbers, booleans and null as ECMAScript's JSON.stringify writes
 *   them (shortest round-trip numbers, minimal string escapes);
 * - no whitespace between tokens; the text is encoded as UTF-8.
 *
 * digest = "sha256:" + lower-case hex of SHA-256 over the canonical JSON of the parsed manifest with its
 * top-level `approvals` member removed.
 */
import { createHash } from "node:crypto";

export const DIGEST_PREFIX = "sha256:";

/** Thrown for a value canonical JSON cannot represent (a function, a NaN, a Date, a lone surrogate...). */
export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path === "" ? "value" : path}: ${message}`);
    this.name = "CanonicalJsonError";
  }
}

// A UTF-16 surrogate with no partner: RFC 8785 cannot encode it and UTF-8 has no bytes for it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function canonicalString(text: string, path: string): string {
  if (LONE_SURROGATE.test(text))
    throw new CanonicalJsonError(path, "string contains a lone UTF-16 surrogate");
  return JSON.stringify(text);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function canonicalize(value: unknown, path: string): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string") return canonicalString(value, path);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value
      .map((item: unknown, index) => {
        if (item === undefined) throw new CanonicalJsonError(`${path}[${index}]`, "undefined is not JSON");
        return canonicalize(item, `${path}[${index}]`);
      })
      .join(",")}]`;
  }
  if (typeof value === "object" && isPlainObject(value)) {
    const members = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      // Default sort compares UTF-16 code units, exactly what RFC 8785 prescribes.
      .sort()
      .map((key) => {
        const memberPath = path === "" ? key : `${path}.${key}`;
        return `${canonicalString(key, memberPath)}:${canonicalize(value[key], memberPath)}`;
      });
    return `{${members.join(",")}}`;
  }
  throw new CanonicalJsonError(path, `a ${typeof value} is not JSON`);
}

/** The canonical JSON text of a JSON value (see the module comment for the exact rules). */
export function canonicalJson(value: unknown): string {
  return canonicalize(value, "");
}

/** `sha256:<hex>` of the UTF-8 bytes of a text. */
export function sha256Digest(text: string): string {
  return DIGEST_PREFIX + createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The digest approvers sign: SHA-256 over the canonical JSON of the manifest as written (after YAML
 * parsing, no schema defaults involved), without its top-level `approvals`.
 */
export function manifestDigest(manifest: object): string {
  const { approvals: _approvals, ...signed } = manifest as Record<string, unknown>;
  return sha256Digest(canonicalJson(signed));
}
