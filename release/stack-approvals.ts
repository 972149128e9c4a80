/**
 * A stack's approval policy, read from the policy pack's config for the stack (the file a pipeline
 * passes as `--policy-pack-config`): its `approvals-verified` entry names the trusted keys and the
 * requirements. The program checks a release against it on every stack that is not a development
 * stack, with the same judgement the pack runs (judgeApprovals), so leaving out `--policy-pack` does
 * not let an unapproved release through.
 */
import { z } from "zod";
import {
  type ApprovalJudgement,
  type ApprovalRequirements,
  DEFAULT_APPROVAL_REQUIREMENTS,
  type VerifyApprovalsOptions,
  judgeApprovals,
} from "./approvals";
import { type Checked, issuesFromZod } from "./issues";
import { type TrustedKeys, checkTrustedKeys } from "./keys";
import type { Manifest } from "./schema";

export interface StackApprovalPolicy {
  readonly trustedKeys: TrustedKeys;
  readonly requirements: ApprovalRequirements;
}

const entrySchema = z.looseObject({
  trustedKeys: z.unknown(),
  minApprovers: z.number().int().min(1).default(DEFAULT_APPROVAL_REQUIREMENTS.minApprovers),
  extraRequiredRoles: z.record(z.string(), z.array(z.string())).default({}),
  changeBoardRiskLevels: z
    .array(z.string())
    .default([...DEFAULT_APPROVAL_REQUIREMENTS.changeBoardRiskLevels]),
});

/** The approval policy in a policy pack config's data (its `approvals-verified` entry). */
export function approvalPolicyFromPackConfig(data: unknown): Checked<StackApprovalPolicy> {
  const entry: unknown =
    typeof data === "object" && data !== null
      ? (data as Record<string, unknown>)["approvals-verified"]
      : undefined;
  if (entry === undefined) {
    return {
      ok: false,
      issues: [
        { path: "approvals-verified", message: "required: the stack's trusted keys and requirements" },
      ],
    };
  }
  const parsed = entrySchema.safeParse(entry);
  if (!parsed.success) {
    return {
      ok: false,
      issues: issuesFromZod(parsed.error).map((issue) => ({
        ...issue,
        path: `approvals-verified.${issue.path}`,
      })),
    };
  }
  const keys = checkTrustedKeys(parsed.data.trustedKeys);
  if (!keys.ok) {
    return {
      ok: false,
      issues: keys.issues.map((issue) => ({
        path: `approvals-verified.trustedKeys${issue.path === "" ? "" : `.${issue.path}`}`,
        message: issue.message,
      })),
    };
  }
  const { minApprovers, extraRequiredRoles, changeBoardRiskLevels } = parsed.data;
  return {
    ok: true,
    value: {
      trustedKeys: keys.value,
      requirements: { minApprovers, extraRequiredRoles, changeBoardRiskLevels },
    },
  };
}

/** Each reason a release is not approved under a stack's policy, in words; empty when it is. */
export function approvalProblems(judgement: ApprovalJudgement, minApprovers: number): string[] {
  const { verification } = judgement;
  const problems = verification.rejected.map(
    (rejected) =>
      `approvals[${rejected.index}] (${rejected.approverId} as ${rejected.role}) does not count: ${rejected.reason}: ${rejected.message}`,
  );
  if (judgement.approversShort > 0) {
    problems.push(
      `${verification.approvers.length} valid approver(s) (${verification.approvers.join(", ") || "none"}), the stack needs ${minApprovers}`,
    );
  }
  if (judgement.missing.length > 0) {
    problems.push(
      `no valid approval for the role(s) ${judgement.missing.join(", ")} (needed: ${judgement.required.join(", ")}; covered: ${verification.coveredRoles.join(", ") || "none"})`,
    );
  }
  // As in the policy pack, an approval that does not verify is refused even when enough others do:
  // a forged or stale signature is a finding of its own.
  return problems;
}

/** The judgement of a release under a stack's approval policy, and its problems in words. */
export function checkStackApprovals(
  manifest: Manifest,
  policy: StackApprovalPolicy,
  options: VerifyApprovalsOptions = {},
): { readonly judgement: ApprovalJudgement; readonly problems: readonly string[] } {
  const judgement = judgeApprovals(manifest, policy.trustedKeys, policy.requirements, options);
  return { judgement, problems: approvalProblems(judgement, policy.requirements.minApprovers) };
}
