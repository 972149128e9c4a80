/** The reference in docs/release-manifest.md states values another tool relies on: keep them true. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  APPROVAL_CONTEXT,
  CLOCK_SKEW_MS,
  canonicalJson,
  manifestDigest,
  parseManifest,
} from "../../../release";
import { exampleText } from "./fixtures";

const DOC = readFileSync(join(__dirname, "..", "..", "..", "docs", "release-manifest.md"), "utf8");

describe("docs/release-manifest.md", () => {
  it("states the hot-fix example's digest correctly", () => {
    const check = parseManifest(exampleText("hot-fix"));
    expect(check.ok).toBe(true);
    expect(DOC).toContain(
      `The digest of \`releases/examples/hot-fix.yaml\` is\n\`${check.ok ? check.digest : ""}\``,
    );
  });

  it("states the canonical JSON example and its length correctly", () => {
    const canonical = canonicalJson({ b: [2, 1], a: "é" });
    expect(canonical).toBe('{"a":"é","b":[2,1]}');
    expect(Buffer.byteLength(canonical, "utf8")).toBe(20);
    expect(manifestDigest({ b: [2, 1], a: "é", approvals: [] })).toBe(manifestDigest({ a: "é", b: [2, 1] }));
    expect(DOC).toContain('becomes `{"a":"é","b":[2,1]}` (20 bytes of UTF-8)');
  });

  it("states the padded-title test vector correctly: text is hashed as written, never trimmed", () => {
    const document = { title: "  Padded  ", version: "1.0.0", approvals: [] };
    expect(canonicalJson({ title: "  Padded  ", version: "1.0.0" })).toBe(
      '{"title":"  Padded  ","version":"1.0.0"}',
    );
    const digest = manifestDigest(document);
    expect(digest).toBe(
      "sha256:" + createHash("sha256").update('{"title":"  Padded  ","version":"1.0.0"}').digest("hex"),
    );
    expect(digest).not.toBe(manifestDigest({ title: "Padded", version: "1.0.0" }));
    expect(DOC).toContain(
      `has the canonical JSON \`{"title":"  Padded  ","version":"1.0.0"}\` and the digest\n\`${digest}\``,
    );
  });

  it("names the approval context and the clock skew the code uses", () => {
    expect(DOC).toContain(`"context": "${APPROVAL_CONTEXT}"`);
    expect(CLOCK_SKEW_MS).toBe(5 * 60 * 1000);
    expect(DOC).toContain("more than 5 minutes after the verifier's clock");
  });
});
