import { chmodSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { approveManifest } from "../../../cli/commands/approve";
import { digestManifest } from "../../../cli/commands/digest";
import { generateKey } from "../../../cli/commands/keygen";
import { newManifest } from "../../../cli/commands/new";
import { validateManifests } from "../../../cli/commands/validate";
import { type VerifyOptions, verifyManifest, verifyWithPolicy } from "../../../cli/commands/verify";
import { addApprovalToManifestText, parseManifest, parseTrustedKeys } from "../../../release";
import { present } from "../release/fixtures";
import { EXAMPLES, scratchDir } from "./helpers";

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = scratchDir());
});
afterEach(() => cleanup());

function copyExample(type: string): string {
  const file = join(dir, `${type}.yaml`);
  copyFileSync(join(EXAMPLES, `${type}.yaml`), file);
  return file;
}

function digestOf(file: string): string {
  const check = parseManifest(readFileSync(file, "utf8"));
  if (!check.ok) throw new Error(`${file} is invalid`);
  return check.digest;
}

const DAY = 24 * 60 * 60 * 1000;

/** Keys for erin (technical) and bea (business) in a trusted-keys file inside the scratch directory. */
function approvers(): { trusted: string; erinKey: string; beaKey: string } {
  const trusted = join(dir, "trusted-keys.yaml");
  const erinKey = join(dir, "erin.key");
  const beaKey = join(dir, "bea.key");
  generateKey({ id: "erin", out: erinKey, roles: ["technical"], force: false, addTo: trusted });
  generateKey({ id: "bea", out: beaKey, roles: ["business"], force: false, addTo: trusted });
  return { trusted, erinKey, beaKey };
}

/** verify's options as the CLI's defaults give them, with `overrides`. */
function verifyOptions(
  file: string,
  trustedKeysFile: string,
  overrides: Partial<VerifyOptions> = {},
): VerifyOptions {
  return {
    file,
    trustedKeysFile,
    requireRoles: [],
    minApprovers: 1,
    allowSelfApproval: false,
    strict: false,
    ...overrides,
  };
}

describe("new", () => {
  it("writes a manifest of the type asked for that validates", () => {
    const out = join(dir, "HF-1.yaml");
    const result = newManifest({
      type: "hot-fix",
      out,
      changeId: "HF-1",
      version: "1.2.3",
      author: "alice",
      force: false,
    });
    expect(result).toEqual({
      exitCode: 0,
      text: `Wrote a hot-fix manifest to ${out}. Edit it, then run: shipgate validate ${out}`,
      json: { ok: true, file: out, deploymentType: "hot-fix" },
    });
    const check = parseManifest(readFileSync(out, "utf8"));
    expect(
      check.ok && [
        check.manifest.deploymentType,
        check.manifest.changeId,
        check.manifest.changeRequest.author,
      ],
    ).toEqual(["hot-fix", "HF-1", "alice"]);
    expect(readFileSync(out, "utf8").startsWith("# hot-fix: Critical issue")).toBe(true);
  });

  it("does not overwrite a file unless forced", () => {
    const out = join(dir, "x.yaml");
    writeFileSync(out, "keep me");
    const args = {
      type: "standard-full",
      out,
      changeId: "C-1",
      version: "1.0.0",
      author: "alice",
      force: false,
    };
    expect(() => newManifest(args)).toThrow(
      `cannot write ${out}: already exists (use --force to replace it)`,
    );
    expect(readFileSync(out, "utf8")).toBe("keep me");
    expect(newManifest({ ...args, force: true }).exitCode).toBe(0);
  });

  it.each([
    [
      { type: "yolo" },
      "unknown deployment type yolo: expected one of standard-full, standard-partial, hot-fix, emergency-patch",
    ],
    [{ version: "1.0" }, "--version 1.0 is not a semantic version such as 2.4.0"],
    [{ author: "Alice" }, "--author Alice is not an id of lower-case letters, digits and . _ @ -"],
  ])("refuses %j", (override, message) => {
    const args = {
      type: "hot-fix",
      out: join(dir, "y.yaml"),
      changeId: "C-1",
      version: "1.0.0",
      author: "alice",
      force: false,
    };
    expect(() => newManifest({ ...args, ...override })).toThrow(message);
    expect(existsSync(join(dir, "y.yaml"))).toBe(false);
  });
});

describe("validate and digest", () => {
  it("lists every issue of every file and fails if any file is invalid", () => {
    const good = copyExample("hot-fix");
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      readFileSync(good, "utf8").replace("deploymentType: hot-fix", "deploymentType: standard-full"),
    );
    const result = validateManifests([good, bad]);
    expect(result.exitCode).toBe(1);
    expect(result.text).toBe(
      [
        `${good}: valid (${digestOf(good)})`,
        `${bad}: 3 problems`,
        "  - tests.scope: a standard-full release needs test scope full, not reduced",
        "  - communication.usersNotified: a standard-full release needs this checklist item done",
        "  - people.management: a standard-full release needs at least one person here",
      ].join("\n"),
    );
    expect(result.json).toEqual({
      ok: false,
      results: [
        { file: good, ok: true, digest: digestOf(good), issues: [] },
        { file: bad, ok: false, issues: expect.any(Array) as unknown },
      ],
    });
  });

  it("prints the digest alone, and none for an invalid manifest", () => {
    const file = copyExample("emergency-patch");
    expect(digestManifest(file)).toEqual({
      exitCode: 0,
      text: digestOf(file),
      json: { ok: true, file, digest: digestOf(file) },
    });
    writeFileSync(file, "apiVersion: shipgate.dev/v1\n");
    const result = digestManifest(file);
    expect(result.exitCode).toBe(1);
    expect(result.text.split("\n")[0]).toBe(`${file} is not a valid manifest, so it has no digest to sign:`);
  });

  it("reports an unreadable file as a usage error, not a crash", () => {
    expect(() => digestManifest(join(dir, "missing.yaml"))).toThrow(
      `cannot read manifest ${join(dir, "missing.yaml")}: no such file`,
    );
  });
});

describe("keygen", () => {
  it("writes the private key owner-only, prints only the public key", () => {
    const out = join(dir, "erin.key");
    const result = generateKey({ id: "erin", out, roles: ["technical"], force: false });
    const pem = readFileSync(out, "utf8");
    expect(pem.startsWith("-----BEGIN PRIVATE KEY-----")).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const pemBody = pem.split("\n")[1] ?? "";
    expect(pemBody.length).toBeGreaterThan(20);
    expect(result.text).not.toContain(pemBody);
    expect(JSON.stringify(result.json)).not.toContain(pemBody);
    const publicKey = String(result.json.publicKey);
    expect(result.text).toContain(`Public key: ${publicKey}`);
    expect(parseTrustedKeys(result.text.slice(result.text.indexOf("approvers:")))).toEqual({
      ok: true,
      value: { approvers: { erin: { roles: ["technical"], publicKeys: [publicKey] } } },
    });
  });

  it("creates a missing key folder, owner-only", () => {
    const out = join(dir, "keys", "erin.key");
    generateKey({ id: "erin", out, roles: [], force: false });
    expect(statSync(join(dir, "keys")).mode & 0o777).toBe(0o700);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it("tightens the mode of a key file it overwrites", () => {
    const out = join(dir, "erin.key");
    writeFileSync(out, "old", { mode: 0o644 });
    generateKey({ id: "erin", out, roles: [], force: true });
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it("needs a role to add the key to a trusted-keys file, and writes nothing without one", () => {
    const out = join(dir, "erin.key");
    expect(() =>
      generateKey({ id: "erin", out, roles: [], force: false, addTo: join(dir, "t.yaml") }),
    ).toThrow("--add-to needs at least one --role");
    expect(existsSync(out)).toBe(false);
  });
});

describe("approve and verify", () => {
  it("signs, appends, and verify then approves the release", () => {
    const file = copyExample("hot-fix");
    const { trusted, erinKey, beaKey } = approvers();
    const digest = digestOf(file);
    const now = new Date("2026-12-04T08:00:00Z");
    const first = approveManifest({
      file,
      keyFile: erinKey,
      approverId: "erin",
      role: "technical",
      validForMs: DAY,
      expectDigest: digest,
      trustedKeysFile: trusted,
      now,
    });
    expect(first.json).toEqual({
      ok: true,
      file,
      digest,
      approval: {
        approverId: "erin",
        role: "technical",
        signedAt: "2026-12-04T08:00:00.000Z",
        expiresAt: "2026-12-05T08:00:00.000Z",
      },
      replaced: 0,
    });
    expect(verifyManifest(verifyOptions(file, trusted, { now })).exitCode).toBe(1);
    approveManifest({ file, keyFile: beaKey, approverId: "bea", role: "business", validForMs: DAY, now });
    expect(digestOf(file)).toBe(digest);
    const verified = verifyManifest(verifyOptions(file, trusted, { minApprovers: 2, now, strict: true }));
    expect(verified.exitCode).toBe(0);
    expect(verified.json).toMatchObject({
      ok: true,
      requiredRoles: ["technical", "business"],
      missingRoles: [],
      approvers: ["erin", "bea"],
      rejected: [],
    });
    expect(verified.text.split("\n").at(-1)).toBe("APPROVED");
    // The private keys never reach the manifest.
    const manifestText = readFileSync(file, "utf8");
    for (const key of [erinKey, beaKey])
      expect(manifestText).not.toContain(readFileSync(key, "utf8").split("\n")[1]);
  });

  it("fails verify on extra required roles, too few approvers, expiry and, with --strict, rejections", () => {
    const file = copyExample("hot-fix");
    const { trusted, erinKey, beaKey } = approvers();
    const now = new Date("2026-12-04T08:00:00Z");
    approveManifest({ file, keyFile: erinKey, approverId: "erin", role: "technical", validForMs: DAY, now });
    approveManifest({ file, keyFile: beaKey, approverId: "bea", role: "business", validForMs: DAY, now });
    const base = verifyOptions(file, trusted, { now });
    expect(verifyManifest({ ...base, requireRoles: ["support"] }).json).toMatchObject({
      ok: false,
      missingRoles: ["support"],
    });
    expect(verifyManifest({ ...base, minApprovers: 3 }).text).toContain("approvers:      2 of at least 3");
    const later = verifyManifest({ ...base, now: new Date(now.getTime() + 2 * DAY) });
    expect(later.json).toMatchObject({ ok: false, missingRoles: ["technical", "business"] });
    expect((later.json.rejected as { reason: string }[]).map((rejection) => rejection.reason)).toEqual([
      "expired",
      "expired",
    ]);
    // An approval with a tampered role is rejected; without --strict the other two still carry the release.
    const check = parseManifest(readFileSync(file, "utf8"));
    const erinApproval = present(check.ok ? check.manifest.approvals?.[0] : undefined);
    const tampered = addApprovalToManifestText(readFileSync(file, "utf8"), {
      ...erinApproval,
      role: "business",
    });
    writeFileSync(file, tampered.text);
    expect(verifyManifest(base).exitCode).toBe(0);
    expect(verifyManifest({ ...base, strict: true }).text).toContain(
      "strict: rejected approvals are not allowed",
    );
  });

  it("refuses to sign an invalid manifest, a changed digest, a shared key file or an untrusted key", () => {
    const file = copyExample("hot-fix");
    const { trusted, erinKey } = approvers();
    const base = { file, keyFile: erinKey, approverId: "erin", role: "technical" as const, validForMs: DAY };
    const original = readFileSync(file, "utf8");

    expect(approveManifest({ ...base, expectDigest: `sha256:${"0".repeat(64)}` }).text).toBe(
      `refusing to approve ${file}: its digest is ${digestOf(file)}, not the sha256:${"0".repeat(64)} you reviewed`,
    );
    expect(() => approveManifest({ ...base, role: "business", trustedKeysFile: trusted })).toThrow(
      `${trusted} does not let erin approve as business`,
    );
    expect(() => approveManifest({ ...base, approverId: "bea", trustedKeysFile: trusted })).toThrow(
      `${trusted} does not trust this key for bea`,
    );
    chmodSync(erinKey, 0o640);
    expect(() => approveManifest(base)).toThrow(
      `private key ${erinKey} is readable by others (mode 0640): run chmod 600 ${erinKey}`,
    );
    chmodSync(erinKey, 0o600);
    writeFileSync(join(dir, "not-a-key"), "hello", { mode: 0o600 });
    expect(() => approveManifest({ ...base, keyFile: join(dir, "not-a-key") })).toThrow(
      "expected a PKCS#8 PEM private key (as written by shipgate keygen)",
    );
    expect(readFileSync(file, "utf8")).toBe(original);

    writeFileSync(file, original.replace("incident:", "incidents:"));
    const invalid = approveManifest(base);
    expect(invalid.exitCode).toBe(1);
    expect(invalid.text.split("\n")[0]).toBe(`refusing to approve ${file}: it is not a valid manifest`);
  });

  it("reports a broken trusted-keys file with its issues", () => {
    const file = copyExample("hot-fix");
    const trusted = join(dir, "trusted.yaml");
    writeFileSync(trusted, "approvers:\n  erin:\n    roles: [owner]\n    publicKeys: []\n");
    expect(() => verifyManifest(verifyOptions(file, trusted))).toThrow(
      `trusted keys ${trusted} are not valid:\n  - approvers.erin.roles[0]: Invalid option: expected one of "technical"|"business"|"support"|"change-board"\n  - approvers.erin.publicKeys: expected at least one public key`,
    );
  });
});

describe("verify with the stack's policy config", () => {
  /** A hot fix approved now by erin, bea and carl, and a policy config trusting them, with `extra` entries. */
  function setUp(extra: Record<string, unknown>) {
    const file = copyExample("hot-fix");
    const { trusted, erinKey, beaKey } = approvers();
    const carlKey = join(dir, "carl.key");
    generateKey({ id: "carl", out: carlKey, roles: ["change-board"], force: false, addTo: trusted });
    for (const [keyFile, approverId, role] of [
      [erinKey, "erin", "technical"],
      [beaKey, "bea", "business"],
      [carlKey, "carl", "change-board"],
    ] as const) {
      approveManifest({ file, keyFile, approverId, role, validForMs: DAY });
    }
    const policyConfigFile = join(dir, "production.json");
    const trustedKeys: unknown = parse(readFileSync(trusted, "utf8"));
    writeFileSync(policyConfigFile, JSON.stringify({ "approvals-verified": { trustedKeys }, ...extra }));
    return { file, trusted, policyConfigFile };
  }

  it("says APPROVED only when every approval gate of the pack passes, and plain verify says it checks signatures only", async () => {
    const { file, trusted, policyConfigFile } = setUp({});
    const result = await verifyWithPolicy({
      file,
      policyConfigFile,
      stack: "production",
      requireRoles: [],
      strict: false,
    });
    expect(result.text).toContain("policy gates:   every approval gate of the pack for stack production");
    expect(result.json).toMatchObject({ ok: true, scope: "policy", approvers: ["erin", "bea", "carl"] });
    expect(result.text.split("\n").at(-1)).toBe("APPROVED");

    const plain = verifyManifest(verifyOptions(file, trusted, { minApprovers: 2 }));
    expect(plain.text).toContain(
      "scope:          signatures, roles and approver count only; the policy pack's other approval gates",
    );
    expect(plain.json).toMatchObject({ ok: true, scope: "signatures" });
  });

  it("refuses, as the pack does, a release inside a freeze whose incident id is not a tracker id", async () => {
    const now = Date.now();
    const freeze = {
      start: new Date(now - DAY).toISOString(),
      end: new Date(now + 400 * DAY).toISOString(),
      reason: "year-end",
    };
    const { file, trusted, policyConfigFile } = setUp({
      "deployment-window-open": { freezes: [freeze], incidentIdPattern: "^JIRA-[0-9]+$" },
      "fast-lane-incident-referenced": { incidentIdPattern: "^JIRA-[0-9]+$" },
    });
    const result = await verifyWithPolicy({
      file,
      policyConfigFile,
      stack: "production",
      requireRoles: [],
      strict: false,
    });
    expect(result.exitCode).toBe(1);
    expect(result.text).toContain("[mandatory] deployment-window-open: Reference the incident that HF-");
    expect(result.text).toContain(
      "[mandatory] fast-lane-incident-referenced: Reference the incident that hot-fix",
    );
    expect(result.text.split("\n").at(-1)).toBe("NOT APPROVED");
    // The same file passes a signatures-only check, which says what it left out.
    const plain = verifyManifest(verifyOptions(file, trusted, { minApprovers: 2 }));
    expect(plain.text.split("\n").slice(-2)).toEqual([
      expect.stringMatching(/^scope: /) as unknown,
      "APPROVED",
    ]);
  });

  it("honours the config's levels: an advisory finding does not refuse, a disabled gate does not run", async () => {
    const now = Date.now();
    const freeze = {
      start: new Date(now - DAY).toISOString(),
      end: new Date(now + 400 * DAY).toISOString(),
      reason: "e2e",
    };
    const { file, policyConfigFile } = setUp({
      "deployment-window-open": {
        enforcementLevel: "advisory",
        freezes: [freeze],
        incidentIdPattern: "^JIRA-[0-9]+$",
      },
      "fast-lane-incident-referenced": { enforcementLevel: "disabled" },
    });
    const result = await verifyWithPolicy({
      file,
      policyConfigFile,
      stack: "production",
      requireRoles: [],
      strict: false,
    });
    expect(result.text).toContain("[advisory] deployment-window-open:");
    expect(result.text).not.toContain("fast-lane-incident-referenced:");
    expect(result.exitCode).toBe(0);
  });
});
