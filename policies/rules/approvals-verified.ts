import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  type ApprovalRequirements,
  type ApprovalRole,
  type Manifest,
  type RejectedApproval,
  DEFAULT_APPROVAL_REQUIREMENTS,
  checkTrustedKeys,
  describeIssue,
  judgeApprovals,
  requiredRoles as releaseRequiredRoles,
} from "../../release";
import { configSchema, listPerDeploymentType, stringList, withDefaults } from "../lib/config";
import { releaseKey, validateEvidence } from "../lib/evidence";

export interface ApprovalsVerifiedConfig extends ApprovalRequirements {
  /**
   * Who may approve, in which roles, with which Ed25519 public keys: the trusted-keys document of
   * docs/release-manifest.md. Owned by the platform or compliance team; never read from the manifest.
   */
  readonly trustedKeys: unknown;
  readonly minApprovers: number;
  readonly extraRequiredRoles: Record<string, string[]>;
  readonly changeBoardRiskLevels: string[];
}

export const approvalsVerifiedDefaults: ApprovalsVerifiedConfig = {
  trustedKeys: { approvers: {} },
  minApprovers: DEFAULT_APPROVAL_REQUIREMENTS.minApprovers,
  extraRequiredRoles: {},
  changeBoardRiskLevels: [...DEFAULT_APPROVAL_REQUIREMENTS.changeBoardRiskLevels],
};

/** Why a rejected approval does not count, in the words of this policy's config. */
export const REJECTION_WHY: Readonly<Record<RejectedApproval["reason"], string>> = {
  "unknown-approver": "its approver has no key in this policy's trustedKeys",
  "role-not-allowed": "the trusted keys do not let its approver sign for this role",
  "invalid-signature":
    "its signature does not verify over the manifest's digest with the approver's trusted keys (the manifest changed after it was signed, or the signature is forged)",
  "invalid-validity": "it expires before it was signed",
  "not-yet-valid": "it was signed in the future",
  expired: "it has expired",
  "self-approval": "its approver wrote the change request",
  "duplicate-approver": "its approver already approved this release, and a person counts once",
};

/** The roles a release needs (the release model's requiredRoles, under this policy's config). */
export function requiredRoles(manifest: Manifest, config: ApprovalsVerifiedConfig): ApprovalRole[] {
  return releaseRequiredRoles(manifest, config);
}

/**
 * Approvals are Ed25519 signatures over the manifest's canonical digest. This policy recomputes the
 * digest from the evidence's manifest and verifies every approval with the release model's
 * verifyApprovals against the trusted keys in its own config, never against keys or digests that come
 * from the manifest or the program.
 */
export const approvalsVerified: ResourceValidationPolicy = {
  name: "approvals-verified",
  description:
    "Every approval of the release must verify against the policy's trusted keys over the recomputed manifest digest and be unexpired, and enough distinct approvers must cover the roles the release needs.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Have each approver review the final manifest and run `npx shipgate approve`; check with `npx shipgate verify --trusted-keys <the stack's trusted keys>`.",
  configSchema: configSchema(approvalsVerifiedDefaults, {
    trustedKeys: { type: "object" },
    minApprovers: { type: "integer", minimum: 1 },
    extraRequiredRoles: listPerDeploymentType,
    changeBoardRiskLevels: stringList,
  }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(approvalsVerifiedDefaults, args.getConfig());
    const release = `${releaseKey(manifest)} (${args.name})`;
    const keys = checkTrustedKeys(config.trustedKeys);
    if (!keys.ok) {
      reportViolation(
        `Fix the trustedKeys of this policy's config before releasing ${release}: ` +
          `${keys.issues.map(describeIssue).join("; ")}.`,
      );
      return;
    }
    const judgement = judgeApprovals(manifest, keys.value, config, { now: new Date() });
    const { verification } = judgement;
    for (const rejected of verification.rejected) {
      // An author's approval is change-request-approved's to report; it is not counted either way.
      if (rejected.reason === "self-approval") continue;
      reportViolation(
        `Replace approvals[${rejected.index}] (${rejected.approverId} as ${rejected.role}) of ${release}: ` +
          `${REJECTION_WHY[rejected.reason]} [${rejected.reason}: ${rejected.message}].`,
      );
    }
    const approvers = verification.approvers;
    if (judgement.approversShort > 0) {
      reportViolation(
        `Collect approvals of ${release} from ${judgement.approversShort} more distinct approver(s): ` +
          `${approvers.length} valid (${approvers.join(", ") || "none"}), this stack needs ${config.minApprovers}; ` +
          `approvers sign digest ${verification.digest}.`,
      );
    }
    if (judgement.missing.length > 0) {
      reportViolation(
        `Collect approvals of ${release} for the role(s) ${judgement.missing.join(", ")}: a ${manifest.risk.level}-risk ` +
          `${manifest.deploymentType} release needs ${judgement.required.join(", ")}; valid approvals cover ` +
          `${verification.coveredRoles.join(", ") || "none"}.`,
      );
    }
  }),
};
