// The contract's secret rules: values kept out of JSON and logs, fingerprints that change with the
// value and the stack, and redaction of a value in every form text may hold it in.
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { REDACTED, SecretValues, redactSecrets, secretFingerprint } from "../../../contract";

describe("SecretValues", () => {
  it("hands a value out by name only, and shows none in JSON, inspect or as a string", () => {
    const values = new SecretValues({ b: "value-b", a: "value-a" });
    expect(values.names()).toEqual(["a", "b"]);
    expect(values.value("a")).toBe("value-a");
    expect(values.has("c")).toBe(false);
    const shown = [JSON.stringify({ values }), inspect({ values }, { depth: 5 }), `${values}`].join("\n");
    expect(shown).not.toMatch(/value-[ab]/);
    expect(JSON.stringify(values)).toBe(`{"a":"${REDACTED}","b":"${REDACTED}"}`);
  });
});

describe("secretFingerprint", () => {
  const where = { stack: "prod", service: "payments", variable: "API_TOKEN" };

  it("is stable for a value and changes with the value, the stack, the service and the variable", () => {
    const base = secretFingerprint(where, "s3cret");
    expect(base).toMatch(/^scrypt:[A-Za-z0-9_-]{43}$/);
    expect(secretFingerprint(where, "s3cret")).toBe(base);
    expect(secretFingerprint(where, "s3cret2")).not.toBe(base);
    expect(secretFingerprint({ ...where, stack: "staging" }, "s3cret")).not.toBe(base);
    expect(secretFingerprint({ ...where, service: "billing" }, "s3cret")).not.toBe(base);
    expect(secretFingerprint({ ...where, variable: "OTHER" }, "s3cret")).not.toBe(base);
  });

  it("is not a plain hash of the value", async () => {
    const { createHash } = await import("node:crypto");
    const plain = createHash("sha256").update("s3cret").digest("base64url");
    expect(secretFingerprint(where, "s3cret")).not.toContain(plain);
  });
});

describe("redactSecrets", () => {
  it("replaces a value as written, JSON-escaped and URL-encoded", () => {
    const value = 'p@ss "word"/x';
    const text = [
      `env: ${value}`,
      `json: ${JSON.stringify({ token: value })}`,
      `url: https://h/?t=${encodeURIComponent(value)}`,
    ].join("\n");
    const redacted = redactSecrets(text, [value]);
    expect(redacted).toBe(
      [`env: ${REDACTED}`, `json: {"token":"${REDACTED}"}`, `url: https://h/?t=${REDACTED}`].join("\n"),
    );
  });

  it("redacts a value that contains another whole, and leaves text without values alone", () => {
    expect(redactSecrets("token=abc-long; other=abc", ["abc", "abc-long"])).toBe(
      `token=${REDACTED}; other=${REDACTED}`,
    );
    expect(redactSecrets("nothing here", ["abc", ""])).toBe("nothing here");
  });
});
