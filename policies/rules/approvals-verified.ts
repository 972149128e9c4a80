import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  type ApprovalRole,
  type Manifest,
  type RejectedApproval,
  DEPLOYMENT_TYPE_RULES,
  checkTrustedKeys,
  describeIssue,
  missingRoles,
  verifyApprovals,
} from "../../release";
import { configSchema, listPerDeploymentType, stringList, withDefaults } from "../lib/config";
import { releaseKey, validateEvidence } from "../lib/evidence";

export interface ApprovalsVerifiedConfig {
  /**
   * Who may approve, in which roles, with which Ed25519 public keys: the trusted-keys document of
   * docs/release-manifest.md. Owned by the platform or compliance team; never read from the manifest.
   */
  readonly trustedKeys: unknown;
  /** Distinct people with a valid approval a release needs at least. */
  readonly minApprovers: number;
  /** Roles required on top of the deployment type's own (DEPLOYMENT_TYPE_RULES), per deployment type. */
  readonly extraRequiredRoles: Record<string, string[]>;
  /** Risk levels at which a change-board approval is required whatever the deployment type. */
  readonly changeBoardRiskLevels: string[];
}

export const approvalsVerifiedDefaults: ApprovalsVerifiedConfig = {
  trustedKeys: { approvers: {} },
  minApprovers: 2,
  extraRequiredRoles: {},
  changeBoardRiskLevels: ["high", "critical"],
};

const WHY: Readonly<Record<RejectedApproval["reason"], string>> = {
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

/** The roles a release needs: its deployment type's, the stack's extra ones, change board at high risk. */
export function requiredRoles(manifest: Manifest, config: ApprovalsVerifiedConfig): ApprovalRole[] {
  const roles = new Set<string>([
    ...DEPLOYMENT_TYPE_RULES[manifest.deploymentType].requiredApprovalRoles,
    ...(config.extraRequiredRoles[manifest.deploymentType] ?? []),
    ...(config.changeBoardRiskLevels.includes(manifest.risk.level) ? ["change-board"] : []),
  ]);
  return [...roles] as ApprovalRole[];
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
    const verification = verifyApprovals(manifest, keys.value, { now: new Date() });
    for (const rejected of verification.rejected) {
      // An author's approval is change-request-approved's to report; it is not counted either way.
      if (rejected.reason === "self-approval") continue;
      reportViolation(
        `Replace approvals[${rejected.index}] (${rejected.approverId} as ${rejected.role}) of ${release}: ` +
          `${WHY[rejected.reason]} [${rejected.reason}: ${rejected.message}].`,
      );
    }
    const approvers = verification.approvers;
    if (approvers.length < config.minApprovers) {
      reportViolation(
        `Collect approvals of ${release} from ${config.minApprovers - approvers.length} more distinct approver(s): ` +
          `${approvers.length} valid (${approvers.join(", ") || "none"}), this stack needs ${config.minApprovers}; ` +
          `approvers sign digest ${verification.digest}.`,
      );
    }
    const required = requiredRoles(manifest, config);
    const missing = missingRoles(verification, required);
    if (missing.length > 0) {
      reportViolation(
        `Collect approvals of ${release} for the role(s) ${missing.join(", ")}: a ${manifest.risk.level}-risk ` +
          `${manifest.deploymentType} release needs ${required.join(", ")}; valid approvals cover ` +
          `${verification.coveredRoles.join(", ") || "none"}.`,
      );
    }
  }),
};
