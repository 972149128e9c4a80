// Secrets a stack gives its services (`shipgate:secrets`, set with `pulumi config set --secret`): how
// they are named, held in memory, fingerprinted and redacted. Every platform, the program and the
// records share these rules, so a secret's value is never written where a person or a log reads it.
import { scryptSync } from "node:crypto";
import { inspect } from "node:util";
import { z } from "zod";
import { SECRET_NAME_PATTERN } from "../release/schema";

/** What a secret's value is replaced with wherever it would otherwise be shown. */
export const REDACTED = "[secret]";

/** A secret's name: the key under `shipgate:secrets`, as a manifest's config change names it. */
export const secretNameSchema = z
  .string()
  .regex(
    SECRET_NAME_PATTERN,
    "expected a secret name: a letter, then letters, digits, _ or -, at most 64 characters",
  );

/**
 * The stack's secret values, by name. The values are kept out of JSON, `util.inspect` and string
 * conversion (each shows REDACTED), so a config object logged or written by mistake shows no secret;
 * only `value(name)` hands one out, to the code that must pass it on as a Pulumi secret.
 */
export class SecretValues {
  readonly #values: ReadonlyMap<string, string>;

  constructor(values: Readonly<Record<string, string>> = {}) {
    this.#values = new Map(Object.entries(values));
  }

  names(): string[] {
    return [...this.#values.keys()].sort();
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  value(name: string): string | undefined {
    return this.#values.get(name);
  }

  /** Every value, for redaction. */
  values(): string[] {
    return [...this.#values.values()];
  }

  toJSON(): Record<string, string> {
    return Object.fromEntries(this.names().map((name) => [name, REDACTED]));
  }

  toString(): string {
    return `SecretValues(${this.names().join(", ")})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** The program asks for the same fingerprint more than once in a run (checks, plan, kept colours). */
const fingerprints = new Map<string, string>();

/**
 * A fingerprint of a secret's value, written where the platform keeps what a colour runs (the local
 * spec file, a Deployment's annotation, a task definition's label) in place of the value, so that a
 * release sees a rotated secret as a changed build. scrypt (16 MiB, about 50 ms a value) with a salt
 * naming the stack, the service and the variable: the same value gives another fingerprint on another
 * stack, and guessing a weak value from the fingerprint costs a password hash per guess.
 */
export function secretFingerprint(
  where: { readonly stack: string; readonly service: string; readonly variable: string },
  value: string,
): string {
  const salt = `shipgate secret fingerprint\0${where.stack}\0${where.service}\0${where.variable}`;
  const known = fingerprints.get(`${salt}\0${value}`);
  if (known) return known;
  const fingerprint = `scrypt:${scryptSync(value, salt, 32, { N: 16_384, r: 8, p: 1 }).toString("base64url")}`;
  fingerprints.set(`${salt}\0${value}`, fingerprint);
  return fingerprint;
}

/** The forms a value may take in text: as written, JSON-escaped, URL-encoded. */
function forms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  return [...new Set([value, json, encodeURIComponent(value)])];
}

/**
 * `text` with every occurrence of each secret value (also JSON-escaped or URL-encoded) replaced by
 * REDACTED. Longer values first, so a value that contains another is redacted whole.
 */
export function redactSecrets(text: string, values: Iterable<string>): string {
  const all = [...values]
    .filter((value) => value.length > 0)
    .flatMap(forms)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of all) out = out.split(value).join(REDACTED);
  return out;
}
