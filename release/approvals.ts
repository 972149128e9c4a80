/**
 * Approvals: Ed25519 signatures over a manifest's digest, bound to who signed, in which role and until
 * when, so a signature cannot be replayed under another role, another expiry or another manifest.
 */
import { type KeyObject, sign, verify } from "node:crypto";
import { canonicalJson, manifestDigest } from "./digest";
import { type TrustedKeys, decodePublicKey, trustedApprover } from "./keys";
import { DEPLOYMENT_TYPE_RULES } from "./rules";
import { type Approval, type ApprovalRole, type Manifest, APPROVAL_ROLES } from "./schema";

/** Separates shipgate approval signatures from anything else the same key might sign. */
export const APPROVAL_CONTEXT = "shipgate.dev/approval/v1";

/** How far a signature's signedAt may lie in the future of the verifier's clock. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface ApprovalClaims {
  readonly digest: string;
  readonly approverId: string;
  readonly role: ApprovalRole;
  readonly signedAt: string;
  readonly expiresAt: string;
}

/**
 * The exact bytes an approval signs: the UTF-8 canonical JSON of
 * `{context, digest, approverId, role, signedAt, expiresAt}`, timestamps as written in the approval.
 */
export function approvalMessage(claims: ApprovalClaims): Buffer {
  const { digest, approverId, role, signedAt, expiresAt } = claims;
  return Buffer.from(
    canonicalJson({ context: APPROVAL_CONTEXT, digest, approverId, role, signedAt, expiresAt }),
    "utf8",
  );
}

export interface SignApprovalArgs {
  readonly digest: string;
  readonly approverId: string;
  readonly role: ApprovalRole;
  readonly privateKey: KeyObject;
  readonly signedAt: Date;
  readonly expiresAt: Date;
}

/** A new approval of the manifest whose digest is given. The private key stays with the caller. */
export function signApproval(args: SignApprovalArgs): Approval {
  if (args.expiresAt.getTime() <= args.signedAt.getTime()) {
    throw new Error("an approval must expire after it is signed");
  }
  const claims: ApprovalClaims = {
    digest: args.digest,
    approverId: args.approverId,
    role: args.role,
    signedAt: args.signedAt.toISOString(),
    expiresAt: args.expiresAt.toISOString(),
  };
  const signature = sign(null, approvalMessage(claims), args.privateKey).toString("base64");
  return {
    approverId: claims.approverId,
    role: claims.role,
    signature,
    signedAt: claims.signedAt,
    expiresAt: claims.expiresAt,
  };
}

export type RejectionReason =
  | "unknown-approver"
  | "role-not-allowed"
  | "invalid-signature"
  | "invalid-validity"
  | "not-yet-valid"
  | "expired"
  | "self-approval"
  | "duplicate-approver";

export interface ValidApproval {
  /** Position in the manifest's `approvals`. */
  readonly index: number;
  readonly approverId: string;
  readonly role: ApprovalRole;
  readonly signedAt: string;
  readonly expiresAt: string;
}

export interface RejectedApproval {
  readonly index: number;
  readonly approverId: string;
  readonly role: ApprovalRole;
  readonly reason: RejectionReason;
  readonly message: string;
}

export interface ApprovalVerification {
  /** The digest every signature was checked against. */
  readonly digest: string;
  /** The change request's author: approvals by this id are self-approvals. */
  readonly author: string;
  /** One entry per approver at most, in manifest order. */
  readonly valid: readonly ValidApproval[];
  readonly rejected: readonly RejectedApproval[];
  /** Roles covered by valid approvals, in the order of APPROVAL_ROLES. */
  readonly coveredRoles: readonly ApprovalRole[];
  /** Distinct approvers with a valid approval. */
  readonly approvers: readonly string[];
}

export interface VerifyApprovalsOptions {
  /** The verifier's clock; defaults to now. */
  readonly now?: Date;
  /** Count approvals by the change request's author. Off by default: nobody approves their own change. */
  readonly allowSelfApproval?: boolean;
}

type Verdict = { readonly reason: RejectionReason; readonly message: string } | undefined;

function judge(
  approval: Approval,
  digest: string,
  trustedKeys: TrustedKeys,
  author: string,
  now: number,
  options: VerifyApprovalsOptions,
): Verdict {
  const trusted = trustedApprover(trustedKeys, approval.approverId);
  if (trusted === undefined) {
    return { reason: "unknown-approver", message: `${approval.approverId} is not in the trusted keys` };
  }
  if (!trusted.roles.includes(approval.role)) {
    return {
      reason: "role-not-allowed",
      message: `${approval.approverId} may approve as ${trusted.roles.join(", ")}, not ${approval.role}`,
    };
  }
  const message = approvalMessage({ ...approval, digest });
  const signature = Buffer.from(approval.signature, "base64");
  if (!trusted.publicKeys.some((key) => verify(null, message, decodePublicKey(key), signature))) {
    return {
      reason: "invalid-signature",
      message:
        "the signature does not match this manifest, approver, role and validity under any trusted key",
    };
  }
  const signedAt = Date.parse(approval.signedAt);
  const expiresAt = Date.parse(approval.expiresAt);
  if (expiresAt <= signedAt)
    return { reason: "invalid-validity", message: "expiresAt is not after signedAt" };
  if (signedAt > now + CLOCK_SKEW_MS) {
    return { reason: "not-yet-valid", message: `signed at ${approval.signedAt}, in the future` };
  }
  if (expiresAt <= now) return { reason: "expired", message: `expired at ${approval.expiresAt}` };
  if (approval.approverId === author && options.allowSelfApproval !== true) {
    return { reason: "self-approval", message: `${author} wrote the change request and cannot approve it` };
  }
  return undefined;
}

/**
 * Checks every approval in a manifest against trusted keys (never against anything the manifest says
 * about keys). A person counts once: after the first valid approval by an approver id, later ones by the
 * same id are rejected as duplicates, so one approver cannot cover several roles or inflate a count.
 */
export function verifyApprovals(
  manifest: Manifest,
  trustedKeys: TrustedKeys,
  options: VerifyApprovalsOptions = {},
): ApprovalVerification {
  const digest = manifestDigest(manifest);
  const author = manifest.changeRequest.author;
  const now = (options.now ?? new Date()).getTime();
  const valid: ValidApproval[] = [];
  const rejected: RejectedApproval[] = [];

  (manifest.approvals ?? []).forEach((approval, index) => {
    const { approverId, role, signedAt, expiresAt } = approval;
    let verdict = judge(approval, digest, trustedKeys, author, now, options);
    const earlier = valid.find((accepted) => accepted.approverId === approverId);
    if (verdict === undefined && earlier !== undefined) {
      verdict = {
        reason: "duplicate-approver",
        message: `${approverId} already approved as ${earlier.role} (approvals[${earlier.index}]); a person counts once`,
      };
    }
    if (verdict === undefined) valid.push({ index, approverId, role, signedAt, expiresAt });
    else rejected.push({ index, approverId, role, ...verdict });
  });

  const roles = new Set(valid.map((approval) => approval.role));
  return {
    digest,
    author,
    valid,
    rejected,
    coveredRoles: APPROVAL_ROLES.filter((role) => roles.has(role)),
    approvers: valid.map((approval) => approval.approverId),
  };
}

/** The roles of `required` that a verification leaves uncovered. */
export function missingRoles(
  verification: ApprovalVerification,
  required: readonly ApprovalRole[],
): ApprovalRole[] {
  return required.filter((role) => !verification.coveredRoles.includes(role));
}

/** What a stack asks of a release's approvals on top of the signatures: the approvals-verified policy's config. */
export interface ApprovalRequirements {
  /** Distinct people with a valid approval a release needs at least. */
  readonly minApprovers: number;
  /** Roles required on top of the deployment type's own (DEPLOYMENT_TYPE_RULES), per deployment type. */
  readonly extraRequiredRoles: Readonly<Record<string, readonly string[]>>;
  /** Risk levels at which a change-board approval is required whatever the deployment type. */
  readonly changeBoardRiskLevels: readonly string[];
}

export const DEFAULT_APPROVAL_REQUIREMENTS: ApprovalRequirements = {
  minApprovers: 2,
  extraRequiredRoles: {},
  changeBoardRiskLevels: ["high", "critical"],
};

/** The roles a release needs: its deployment type's, the stack's extra ones, change board at high risk. */
export function requiredRoles(manifest: Manifest, requirements: ApprovalRequirements): ApprovalRole[] {
  const roles = new Set<string>([
    ...DEPLOYMENT_TYPE_RULES[manifest.deploymentType].requiredApprovalRoles,
    ...(requirements.extraRequiredRoles[manifest.deploymentType] ?? []),
    ...(requirements.changeBoardRiskLevels.includes(manifest.risk.level) ? ["change-board"] : []),
  ]);
  // A role the stack's config asks for that no approval can have stays required: such a release is
  // never approved, which is the safe reading of a misspelt role.
  return [...roles] as ApprovalRole[];
}

export interface ApprovalJudgement {
  readonly verification: ApprovalVerification;
  readonly required: readonly ApprovalRole[];
  readonly missing: readonly ApprovalRole[];
  /** How many more distinct approvers the release needs (0 when enough). */
  readonly approversShort: number;
  /** True when the release may go on: enough distinct approvers and every required role covered. */
  readonly approved: boolean;
}

/**
 * The whole approval judgement of a release under a stack's trusted keys and requirements: the one
 * the policy pack's approvals-verified runs and the program runs on stacks that are not for development.
 */
export function judgeApprovals(
  manifest: Manifest,
  trustedKeys: TrustedKeys,
  requirements: ApprovalRequirements,
  options: VerifyApprovalsOptions = {},
): ApprovalJudgement {
  const verification = verifyApprovals(manifest, trustedKeys, options);
  const required = requiredRoles(manifest, requirements);
  const missing = missingRoles(verification, required);
  const approversShort = Math.max(0, requirements.minApprovers - verification.approvers.length);
  return {
    verification,
    required,
    missing,
    approversShort,
    approved: missing.length === 0 && approversShort === 0,
  };
}
