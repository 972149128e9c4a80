import { sign, verify as cryptoVerify } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Approval,
  type ApprovalRole,
  type Manifest,
  APPROVAL_CONTEXT,
  approvalMessage,
  checkManifest,
  checkTrustedKeys,
  decodePublicKey,
  manifestDigest,
  missingRoles,
  parseTrustedKeys,
  signApproval,
  verifyApprovals,
} from "../../../release";
import {
  type TestApprover,
  deleteAt,
  exampleManifest,
  getAt,
  leaves,
  makeApprover,
  memberPaths,
  setAt,
  trustedKeysFor,
  present,
} from "./fixtures";

const NOW = new Date("2026-12-04T08:00:00Z");
const HOUR = 60 * 60 * 1000;

let erin: TestApprover;
let bea: TestApprover;
let sam: TestApprover;
let dana: TestApprover;

beforeAll(() => {
  erin = makeApprover("erin");
  bea = makeApprover("bea");
  sam = makeApprover("sam");
  dana = makeApprover("dana"); // the hot-fix example's change request author
});

function approve(
  manifest: Manifest,
  approver: TestApprover,
  role: ApprovalRole,
  options: { signedAt?: Date; validForMs?: number } = {},
): Approval {
  const signedAt = options.signedAt ?? new Date(NOW.getTime() - HOUR);
  return signApproval({
    digest: manifestDigest(manifest),
    approverId: approver.id,
    role,
    privateKey: approver.privateKey,
    signedAt,
    expiresAt: new Date(signedAt.getTime() + (options.validForMs ?? 24 * HOUR)),
  });
}

function trusted() {
  return trustedKeysFor([
    [erin, ["technical"]],
    [bea, ["business", "change-board"]],
    [sam, ["support"]],
    [dana, ["technical", "business"]],
  ]);
}

function withApprovals(manifest: Manifest, approvals: Approval[]): Manifest {
  return { ...manifest, approvals };
}

describe("signApproval", () => {
  it("signs the canonical claims, timestamps as written", () => {
    const manifest = exampleManifest("hot-fix");
    const approval = approve(manifest, erin, "technical");
    expect(approval).toEqual({
      approverId: "erin",
      role: "technical",
      signature: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/) as unknown,
      signedAt: "2026-12-04T07:00:00.000Z",
      expiresAt: "2026-12-05T07:00:00.000Z",
    });
    const message = approvalMessage({ ...approval, digest: manifestDigest(manifest) });
    expect(message.toString("utf8")).toBe(
      `{"approverId":"erin","context":"${APPROVAL_CONTEXT}","digest":"${manifestDigest(manifest)}",` +
        `"expiresAt":"2026-12-05T07:00:00.000Z","role":"technical","signedAt":"2026-12-04T07:00:00.000Z"}`,
    );
    expect(
      cryptoVerify(null, message, decodePublicKey(erin.publicKey), Buffer.from(approval.signature, "base64")),
    ).toBe(true);
  });

  it("refuses an approval that expires before it is signed", () => {
    expect(() => approve(exampleManifest("hot-fix"), erin, "technical", { validForMs: 0 })).toThrow(
      "an approval must expire after it is signed",
    );
  });
});

describe("verifyApprovals", () => {
  it("accepts valid approvals and reports the roles they cover", () => {
    const manifest = exampleManifest("hot-fix");
    const result = verifyApprovals(
      withApprovals(manifest, [approve(manifest, bea, "business"), approve(manifest, erin, "technical")]),
      trusted(),
      { now: NOW },
    );
    expect(result).toEqual({
      digest: manifestDigest(manifest),
      author: "dana",
      valid: [
        {
          index: 0,
          approverId: "bea",
          role: "business",
          signedAt: "2026-12-04T07:00:00.000Z",
          expiresAt: "2026-12-05T07:00:00.000Z",
        },
        {
          index: 1,
          approverId: "erin",
          role: "technical",
          signedAt: "2026-12-04T07:00:00.000Z",
          expiresAt: "2026-12-05T07:00:00.000Z",
        },
      ],
      rejected: [],
      coveredRoles: ["technical", "business"],
      approvers: ["bea", "erin"],
    });
    expect(missingRoles(result, ["technical", "support", "business"])).toEqual(["support"]);
  });

  it("gives each rejected approval its reason", () => {
    const manifest = exampleManifest("hot-fix");
    const stranger = makeApprover("mallory");
    // Signed with erin's key but claiming to be sam: only sam's trusted key could have made it.
    const forged = approve(manifest, { ...sam, privateKey: erin.privateKey }, "support");
    const approvals = [
      approve(manifest, stranger, "technical"),
      approve(manifest, erin, "business"),
      forged,
      { ...approve(manifest, sam, "support"), role: "business" as const },
      approve(manifest, bea, "business", { signedAt: new Date(NOW.getTime() - 48 * HOUR) }),
      approve(manifest, sam, "support", { signedAt: new Date(NOW.getTime() + HOUR) }),
      approve(manifest, dana, "technical"),
    ];
    const result = verifyApprovals(withApprovals(manifest, approvals), trusted(), { now: NOW });
    expect(result.valid).toEqual([]);
    expect(
      result.rejected.map((rejection) => [rejection.index, rejection.approverId, rejection.reason]),
    ).toEqual([
      [0, "mallory", "unknown-approver"],
      [1, "erin", "role-not-allowed"],
      [2, "sam", "invalid-signature"],
      [3, "sam", "role-not-allowed"],
      [4, "bea", "expired"],
      [5, "sam", "not-yet-valid"],
      [6, "dana", "self-approval"],
    ]);
    expect(present(result.rejected[1]).message).toBe("erin may approve as technical, not business");
    expect(present(result.rejected[6]).message).toBe("dana wrote the change request and cannot approve it");
    expect(result.coveredRoles).toEqual([]);
  });

  it("binds the signature to role and expiry: editing either breaks it", () => {
    const manifest = exampleManifest("hot-fix");
    const original = approve(manifest, bea, "business");
    const edits: Approval[] = [
      { ...original, role: "change-board" },
      { ...original, expiresAt: "2027-12-05T07:00:00.000Z" },
      { ...original, signedAt: "2026-12-04T07:30:00.000Z" },
      { ...original, expiresAt: "2026-12-05T07:00:00Z" },
    ];
    const result = verifyApprovals(withApprovals(manifest, edits), trusted(), { now: NOW });
    expect(result.rejected.map((rejection) => rejection.reason)).toEqual([
      "invalid-signature",
      "invalid-signature",
      "invalid-signature",
      "invalid-signature",
    ]);
  });

  it("rejects a validly signed approval whose expiry is not after its signing", () => {
    const manifest = exampleManifest("hot-fix");
    const digest = manifestDigest(manifest);
    const claims = {
      digest,
      approverId: "erin",
      role: "technical" as const,
      signedAt: "2026-12-04T07:00:00Z",
      expiresAt: "2026-12-04T07:00:00Z",
    };
    const signature = sign(null, approvalMessage(claims), erin.privateKey).toString("base64");
    const result = verifyApprovals(withApprovals(manifest, [{ ...claims, signature }]), trusted(), {
      now: NOW,
    });
    expect(result.rejected.map((rejection) => rejection.reason)).toEqual(["invalid-validity"]);
  });

  it("counts an approver once however many signatures they add", () => {
    const manifest = exampleManifest("standard-full");
    const approvals = [
      approve(manifest, bea, "business"),
      approve(manifest, bea, "change-board"),
      approve(manifest, bea, "business"),
    ];
    const result = verifyApprovals(withApprovals(manifest, approvals), trusted(), { now: NOW });
    expect(result.approvers).toEqual(["bea"]);
    expect(result.coveredRoles).toEqual(["business"]);
    expect(
      result.rejected.map((rejection) => [rejection.index, rejection.reason, rejection.message]),
    ).toEqual([
      [1, "duplicate-approver", "bea already approved as business (approvals[0]); a person counts once"],
      [2, "duplicate-approver", "bea already approved as business (approvals[0]); a person counts once"],
    ]);
  });

  it("does not let an invalid first signature shadow a valid later one by the same approver", () => {
    const manifest = exampleManifest("standard-full");
    const expired = approve(manifest, bea, "business", { signedAt: new Date(NOW.getTime() - 72 * HOUR) });
    const result = verifyApprovals(
      withApprovals(manifest, [expired, approve(manifest, bea, "change-board")]),
      trusted(),
      {
        now: NOW,
      },
    );
    expect(result.valid.map((approval) => [approval.index, approval.role])).toEqual([[1, "change-board"]]);
    expect(result.rejected.map((rejection) => rejection.reason)).toEqual(["expired"]);
  });

  it("counts the author's approval only when self-approval is allowed", () => {
    const manifest = exampleManifest("hot-fix");
    const signed = withApprovals(manifest, [approve(manifest, dana, "technical")]);
    expect(verifyApprovals(signed, trusted(), { now: NOW }).coveredRoles).toEqual([]);
    expect(verifyApprovals(signed, trusted(), { now: NOW, allowSelfApproval: true }).coveredRoles).toEqual([
      "technical",
    ]);
  });

  it("accepts any of an approver's trusted keys, for key rotation", () => {
    const manifest = exampleManifest("hot-fix");
    const newKey = makeApprover("erin");
    const keys = trusted();
    keys.approvers.erin = { roles: ["technical"], publicKeys: [erin.publicKey, newKey.publicKey] };
    const result = verifyApprovals(withApprovals(manifest, [approve(manifest, newKey, "technical")]), keys, {
      now: NOW,
    });
    expect(result.approvers).toEqual(["erin"]);
  });

  it("treats ids such as constructor as unknown approvers, not as Object.prototype members", () => {
    const manifest = exampleManifest("hot-fix");
    const odd = makeApprover("constructor");
    const result = verifyApprovals(
      withApprovals(manifest, [approve(manifest, odd, "technical")]),
      trusted(),
      { now: NOW },
    );
    expect(result.rejected.map((rejection) => rejection.reason)).toEqual(["unknown-approver"]);
  });

  it("voids the approvals of a manifest whose title was padded with spaces after signing", () => {
    const manifest = exampleManifest("standard-full");
    const signed = withApprovals(manifest, [
      approve(manifest, erin, "technical"),
      approve(manifest, bea, "business"),
    ]);
    expect(verifyApprovals(signed, trusted(), { now: NOW }).approvers).toEqual(["erin", "bea"]);
    const padded = checkManifest({ ...structuredClone(signed), title: `  ${manifest.title}  ` });
    expect(padded.ok).toBe(true);
    if (!padded.ok) return;
    // The program acts on, and the pack verifies, the document as written: the padding is kept.
    expect(padded.manifest.title).toBe(`  ${manifest.title}  `);
    expect(padded.digest).not.toBe(manifestDigest(manifest));
    expect(verifyApprovals(padded.manifest, trusted(), { now: NOW }).rejected.map((r) => r.reason)).toEqual([
      "invalid-signature",
      "invalid-signature",
    ]);
  });

  it("validates a manifest without changing it, so its digest is the digest of the document as written (property)", () => {
    const manifest = exampleManifest("standard-full");
    const { approvals: _approvals, ...content } = manifest;
    const textPaths = leaves(content)
      .filter(([, value]) => typeof value === "string")
      .map(([path]) => path);
    fc.assert(
      fc.property(fc.constantFrom(...textPaths), fc.constantFrom(" ", "\t", "\n", "  "), (path, pad) => {
        const data = structuredClone(content) as unknown as Record<string, unknown>;
        setAt(data, path, `${pad}${String(getAt(data, path))}${pad}`);
        const check = checkManifest(data);
        if (!check.ok) return; // a pattern-checked field (a version, an id) refuses padding outright
        expect(check.manifest).toEqual(data);
        expect(check.digest).toBe(manifestDigest(data));
        expect(check.digest).not.toBe(manifestDigest(content));
      }),
      { numRuns: 100 },
    );
  });

  it("invalidates every signature when any signed field changes (property)", () => {
    const manifest = exampleManifest("standard-full");
    const approvals = [
      approve(manifest, erin, "technical"),
      approve(manifest, bea, "business"),
      approve(manifest, sam, "support"),
    ];
    const signed = withApprovals(manifest, approvals);
    const { approvals: _approvals, ...content } = manifest;
    const leafPaths = leaves(content);
    const members = memberPaths(content);
    const change = fc.oneof(
      fc.record({
        kind: fc.constant("leaf" as const),
        at: fc.constantFrom(...leafPaths),
        text: fc.string({ minLength: 1 }),
      }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.constantFrom(...members) }),
      fc.record({
        kind: fc.constant("add" as const),
        key: fc
          .string({ minLength: 1 })
          .filter((key) => !(key in content) && key !== "approvals" && key !== "__proto__"),
      }),
    );
    expect(verifyApprovals(signed, trusted(), { now: NOW }).approvers).toEqual(["erin", "bea", "sam"]);
    fc.assert(
      fc.property(change, (edit) => {
        const tampered = structuredClone(signed) as unknown as Record<string, unknown>;
        if (edit.kind === "leaf") {
          const [path, value] = edit.at;
          const replacement =
            typeof value === "string"
              ? value + edit.text
              : typeof value === "number"
                ? value + 1
                : typeof value === "boolean"
                  ? !value
                  : [edit.text];
          setAt(tampered, path, replacement);
          expect(getAt(tampered, path)).not.toEqual(value);
        } else if (edit.kind === "delete") {
          deleteAt(tampered, edit.at);
        } else {
          tampered[edit.key] = "added";
        }
        const digest = manifestDigest(tampered);
        expect(digest).not.toBe(manifestDigest(manifest));
        for (const approval of approvals) {
          const key = decodePublicKey(
            present(present(trusted().approvers[approval.approverId]).publicKeys[0]),
          );
          const message = approvalMessage({ ...approval, digest });
          expect(cryptoVerify(null, message, key, Buffer.from(approval.signature, "base64"))).toBe(false);
        }
        // Where the edit leaves a well-formed manifest, verification says so approval by approval.
        const check = checkManifest(tampered);
        if (check.ok) {
          const result = verifyApprovals(check.manifest, trusted(), { now: NOW });
          expect(result.valid).toEqual([]);
          expect(result.rejected.map((rejection) => rejection.reason)).toEqual([
            "invalid-signature",
            "invalid-signature",
            "invalid-signature",
          ]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("trusted keys", () => {
  it("parses a trusted-keys file", () => {
    const checked = parseTrustedKeys(
      `approvers:\n  erin:\n    name: Erin\n    roles: [technical]\n    publicKeys: ["${erin.publicKey}"]\n`,
    );
    expect(checked).toEqual({
      ok: true,
      value: { approvers: { erin: { name: "Erin", roles: ["technical"], publicKeys: [erin.publicKey] } } },
    });
  });

  it("names every problem in a trusted-keys file", () => {
    const checked = checkTrustedKeys({
      approvers: {
        Erin: { roles: [], publicKeys: ["AAAA"] },
        sam: { roles: ["owner"], publicKeys: [], keys: [] },
      },
    });
    expect(checked.ok).toBe(false);
    // zod checks no entry whose key is already wrong, so Erin's entry gets one issue, for the key.
    expect(!checked.ok && checked.issues.map((issue) => issue.path)).toEqual([
      "approvers.Erin",
      "approvers.sam.roles[0]",
      "approvers.sam.publicKeys",
      "approvers.sam.keys",
    ]);
  });
});
