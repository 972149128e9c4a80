import { describe, expect, it } from "vitest";
import {
  approvalsVerified,
  requiredRoles,
  approvalsVerifiedDefaults,
} from "../../../policies/rules/approvals-verified";
import { manifestDigest } from "../../../release";
import { approve, approvers, defined, evidence, exampleManifest, trustedKeys } from "./fixtures";
import { runResourcePolicy } from "./harness";

const { tara, bea, carl, riley, sue } = approvers;
const base = exampleManifest("releases/sample-app/v2.yaml"); // standard-partial, medium risk, author riley
const digest = manifestDigest(base);
const release = "CHG-101@2.0.0 (release-anchor-evidence)";
const config = { trustedKeys: trustedKeys() };
const run = (manifest: typeof base, options: Record<string, unknown> = config) =>
  runResourcePolicy(approvalsVerified, evidence(manifest), { config: options });

const rolesMissing = (missing: string, covered: string) =>
  `Collect approvals of ${release} for the role(s) ${missing}: a medium-risk standard-partial release needs ` +
  `technical, business, change-board; valid approvals cover ${covered}.`;

describe("approvals-verified", () => {
  it("is named, described, critical and mandatory by default, with trusted keys in its config", () => {
    expect(approvalsVerified.name).toBe("approvals-verified");
    expect(approvalsVerified.enforcementLevel).toBe("mandatory");
    expect(approvalsVerified.severity).toBe("critical");
    expect(approvalsVerified.description).toMatch(/^Every .+\.$/);
    expect(approvalsVerified.configSchema?.properties["trustedKeys"]).toEqual({
      type: "object",
      default: { approvers: {} },
    });
  });

  it("passes a release approved by trusted keys for every role it needs", async () => {
    expect(await run(approve(base, [tara, bea, carl]))).toEqual({ violations: [] });
  });

  it("reports a release with no approvals", async () => {
    expect(await run(base)).toEqual({
      violations: [
        `Collect approvals of ${release} from 2 more distinct approver(s): 0 valid (none), this stack needs 2; ` +
          `approvers sign digest ${digest}.`,
        rolesMissing("technical, business, change-board", "none"),
      ],
    });
  });

  it("trusts no key by default: every approval is from an unknown approver", async () => {
    const result = await run(approve(base, [tara, bea, carl]), {});
    expect(result.violations).toHaveLength(5);
    expect(result.violations[0]).toBe(
      `Replace approvals[0] (tara as technical) of ${release}: its approver has no key in this policy's ` +
        `trustedKeys [unknown-approver: tara is not in the trusted keys].`,
    );
  });

  it("reports a forged signature", async () => {
    const approved = approve(base, [tara, bea, carl]);
    const [first, second, third] = [0, 1, 2].map((i) => defined(approved.approvals?.[i], `approvals[${i}]`));
    const forged = {
      ...approved,
      approvals: [
        { ...defined(first, "tara"), signature: defined(second, "bea").signature },
        defined(second, "bea"),
        defined(third, "carl"),
      ],
    };
    expect((await run(forged)).violations).toEqual([
      `Replace approvals[0] (tara as technical) of ${release}: its signature does not verify over the manifest's ` +
        `digest with the approver's trusted keys (the manifest changed after it was signed, or the signature is ` +
        `forged) [invalid-signature: the signature does not match this manifest, approver, role and validity under any trusted key].`,
      rolesMissing("technical", "business, change-board"),
    ]);
  });

  it("reports an approval from a key the config does not trust", async () => {
    const impostor = { ...tara, ...approvers.sue, id: "tara", role: "technical" as const };
    expect((await run(approve(base, [impostor, bea, carl]))).violations).toEqual([
      `Replace approvals[0] (tara as technical) of ${release}: its signature does not verify over the manifest's ` +
        `digest with the approver's trusted keys (the manifest changed after it was signed, or the signature is ` +
        `forged) [invalid-signature: the signature does not match this manifest, approver, role and validity under any trusted key].`,
      rolesMissing("technical", "business, change-board"),
    ]);
    const untrusted = { trustedKeys: trustedKeys([bea, carl]) };
    expect((await run(approve(base, [tara, bea, carl]), untrusted)).violations).toEqual([
      `Replace approvals[0] (tara as technical) of ${release}: its approver has no key in this policy's ` +
        `trustedKeys [unknown-approver: tara is not in the trusted keys].`,
      rolesMissing("technical", "business, change-board"),
    ]);
  });

  it("reports every approval of a manifest edited after signing, over the recomputed digest", async () => {
    const edited = { ...approve(base, [tara, bea, carl]), title: "Something else" };
    const result = await run(edited);
    expect(result.violations).toHaveLength(5);
    expect(result.violations.slice(0, 3).map((v) => v.split(":")[0])).toEqual([
      `Replace approvals[0] (tara as technical) of CHG-101@2.0.0 (release-anchor-evidence)`,
      `Replace approvals[1] (bea as business) of CHG-101@2.0.0 (release-anchor-evidence)`,
      `Replace approvals[2] (carl as change-board) of CHG-101@2.0.0 (release-anchor-evidence)`,
    ]);
    expect(result.violations[3]).toContain(`approvers sign digest ${manifestDigest(edited)}.`);
  });

  it("never trusts the digest the program put on the evidence", async () => {
    const edited = { ...base, title: "Something else" };
    const signedOriginal = approve(edited, [tara, bea, carl], { digest });
    const result = await runResourcePolicy(approvalsVerified, evidence(signedOriginal, { digest }), {
      config,
    });
    expect(result.violations).toHaveLength(5);
  });

  it("reports an expired approval", async () => {
    const day = 24 * 60 * 60 * 1000;
    const expired = approve(approve(base, [bea, carl]), [tara], {
      signedAt: new Date(Date.now() - 4 * day),
      expiresAt: new Date(Date.now() - day),
    });
    const result = await run(expired);
    expect(result.violations).toHaveLength(2);
    expect(result.violations[0]).toMatch(
      /^Replace approvals\[2\] \(tara as technical\) of CHG-101@2\.0\.0 \(release-anchor-evidence\): it has expired \[expired: expired at .+\]\.$/,
    );
    expect(result.violations[1]).toBe(rolesMissing("technical", "business, change-board"));
  });

  it("does not count the author's approval (change-request-approved reports it)", async () => {
    expect((await run(approve(base, [riley, bea, carl]))).violations).toEqual([
      rolesMissing("technical", "business, change-board"),
    ]);
  });

  it("counts a person once: a second approval does not reach the count", async () => {
    const twice = approve(approve(base, [tara, bea]), [bea]);
    expect((await run(twice, { ...config, minApprovers: 3 })).violations).toEqual([
      `Replace approvals[2] (bea as business) of ${release}: its approver already approved this release, and a ` +
        `person counts once [duplicate-approver: bea already approved as business (approvals[1]); a person counts once].`,
      `Collect approvals of ${release} from 1 more distinct approver(s): 2 valid (tara, bea), this stack needs 3; ` +
        `approvers sign digest ${digest}.`,
      rolesMissing("change-board", "technical, business"),
    ]);
  });

  it("reports a missing role, and asks for the stack's extra roles", async () => {
    expect((await run(approve(base, [tara, bea]))).violations).toEqual([
      rolesMissing("change-board", "technical, business"),
    ]);
    const extra = { ...config, extraRequiredRoles: { "standard-partial": ["support"] } };
    expect((await run(approve(base, [tara, bea, carl]), extra)).violations).toEqual([
      `Collect approvals of ${release} for the role(s) support: a medium-risk standard-partial release needs ` +
        `technical, business, change-board, support; valid approvals cover technical, business, change-board.`,
    ]);
    expect((await run(approve(base, [tara, bea, carl, sue]), extra)).violations).toEqual([]);
  });

  it("needs a change-board approval at high and critical risk, whatever the deployment type", () => {
    const hotFix = exampleManifest("releases/examples/hot-fix.yaml");
    expect(requiredRoles(hotFix, approvalsVerifiedDefaults)).toEqual([
      "technical",
      "business",
      "change-board",
    ]);
    const low = { ...hotFix, risk: { ...hotFix.risk, level: "low" as const } };
    expect(requiredRoles(low, approvalsVerifiedDefaults)).toEqual(["technical", "business"]);
  });

  it("fails closed on trusted keys that are not valid", async () => {
    const result = await run(approve(base, [tara, bea, carl]), { trustedKeys: { approvers: { tara: {} } } });
    expect(result.violations).toEqual([
      `Fix the trustedKeys of this policy's config before releasing ${release}: ` +
        `approvers.tara.roles: required: expected array; approvers.tara.publicKeys: required: expected array.`,
    ]);
  });

  it("fails closed on a manifest without the schema's shape, and ignores other resources", async () => {
    const broken = evidence(base, { manifest: { ...base, apiVersion: "v0" } });
    expect((await runResourcePolicy(approvalsVerified, broken, { config })).violations).toEqual([
      `Fix the release manifest carried by release-anchor-evidence: it is not a shipgate.dev/v1 manifest ` +
        `(apiVersion: Invalid input: expected "shipgate.dev/v1").`,
    ]);
    const other = { type: "pulumi-nodejs:dynamic/shipgate/local:Slot", name: "s", props: { manifest: base } };
    expect(await runResourcePolicy(approvalsVerified, other, { config })).toEqual({ violations: [] });
  });
});
