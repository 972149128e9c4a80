import {
  type ApprovalRole,
  type Manifest,
  type TrustedKeys,
  APPROVAL_ROLES,
  DEPLOYMENT_TYPE_RULES,
  approvalPolicyFromPackConfig,
  missingRoles,
  parseTrustedKeys,
  verifyApprovals,
} from "../../release";
import { issueLines, readManifest, readText } from "../files";
import { type CommandResult, CliError, EXIT_FAILED, EXIT_OK, failed } from "../result";

export function loadTrustedKeys(file: string): TrustedKeys {
  const checked = parseTrustedKeys(readText(file, "trusted keys"));
  if (!checked.ok) throw new CliError(`trusted keys ${file} are not valid:\n${issueLines(checked.issues)}`);
  return checked.value;
}

export interface VerifyOptions {
  readonly file: string;
  readonly trustedKeysFile: string;
  /** Roles needed on top of those the deployment type needs. */
  readonly requireRoles: readonly ApprovalRole[];
  readonly minApprovers: number;
  readonly now?: Date;
  readonly allowSelfApproval: boolean;
  /** Fail on any rejected approval, not only on missing ones. */
  readonly strict: boolean;
}

/** What a plain `verify` leaves out, said on every run so nobody reads APPROVED as the pack's verdict. */
const SIGNATURES_ONLY =
  "scope:          signatures, roles and approver count only; the policy pack's other approval gates " +
  "(change request, freezes, incident ids, tests, risk, communication) did not run: " +
  "add --policy-config policies/config/<stack>.json to run them";

interface SignatureReport {
  readonly ok: boolean;
  readonly lines: string[];
  readonly json: Record<string, unknown>;
}

function signatureReport(
  file: string,
  manifest: Manifest,
  trustedKeys: TrustedKeys,
  options: {
    readonly wanted: readonly string[];
    readonly minApprovers: number;
    readonly now?: Date;
    readonly allowSelfApproval: boolean;
    readonly strict: boolean;
  },
): SignatureReport {
  const verification = verifyApprovals(manifest, trustedKeys, {
    ...(options.now === undefined ? {} : { now: options.now }),
    allowSelfApproval: options.allowSelfApproval,
  });
  const wanted = new Set(options.wanted);
  // Known roles in their usual order, then any role a policy config names that no approval can have.
  const requiredRoles = [
    ...APPROVAL_ROLES.filter((role) => wanted.has(role)),
    ...[...wanted].filter((role) => !(APPROVAL_ROLES as readonly string[]).includes(role)),
  ] as ApprovalRole[];
  const missing = missingRoles(verification, requiredRoles);
  const enoughApprovers = verification.approvers.length >= options.minApprovers;
  const ok = missing.length === 0 && enoughApprovers && !(options.strict && verification.rejected.length > 0);
  const lines = [
    `${file}: ${manifest.deploymentType} ${manifest.changeId} ${manifest.version}, change request by ${verification.author}`,
    `digest ${verification.digest}`,
    ...verification.valid.map(
      (approval) =>
        `  valid     approvals[${approval.index}] ${approval.approverId} as ${approval.role}, until ${approval.expiresAt}`,
    ),
    ...verification.rejected.map(
      (approval) =>
        `  rejected  approvals[${approval.index}] ${approval.approverId} as ${approval.role}: ${approval.reason}: ${approval.message}`,
    ),
    `required roles: ${requiredRoles.join(", ")}`,
    `covered roles:  ${verification.coveredRoles.join(", ") || "none"}`,
    ...(missing.length > 0 ? [`missing roles:  ${missing.join(", ")}`] : []),
    ...(enoughApprovers
      ? []
      : [`approvers:      ${verification.approvers.length} of at least ${options.minApprovers}`]),
    ...(options.strict && verification.rejected.length > 0
      ? ["strict: rejected approvals are not allowed"]
      : []),
  ];
  return {
    ok,
    lines,
    json: {
      file,
      changeId: manifest.changeId,
      deploymentType: manifest.deploymentType,
      requiredRoles,
      missingRoles: missing,
      minApprovers: options.minApprovers,
      ...verification,
    },
  };
}

/**
 * `shipgate verify --trusted-keys`: are the manifest's approvals enough, under the trusted keys, at
 * this time? Signatures, roles and counts only, and the output says so.
 */
export function verifyManifest(options: VerifyOptions): CommandResult {
  const { file } = options;
  const { check } = readManifest(file);
  if (!check.ok) {
    return failed(`${file} is not a valid manifest:\n${issueLines(check.issues)}`, {
      file,
      issues: check.issues,
    });
  }
  const { manifest } = check;
  const report = signatureReport(file, manifest, loadTrustedKeys(options.trustedKeysFile), {
    wanted: [
      ...DEPLOYMENT_TYPE_RULES[manifest.deploymentType].requiredApprovalRoles,
      ...options.requireRoles,
    ],
    minApprovers: options.minApprovers,
    ...(options.now === undefined ? {} : { now: options.now }),
    allowSelfApproval: options.allowSelfApproval,
    strict: options.strict,
  });
  return {
    exitCode: report.ok ? EXIT_OK : EXIT_FAILED,
    text: [...report.lines, SIGNATURES_ONLY, report.ok ? "APPROVED" : "NOT APPROVED"].join("\n"),
    json: { ok: report.ok, scope: "signatures", ...report.json },
  };
}

export interface VerifyWithPolicyOptions {
  readonly file: string;
  /** The stack's policy pack config (what the pipeline passes as --policy-pack-config). */
  readonly policyConfigFile: string;
  /** The stack the config is for: its name sets the pack's default levels. */
  readonly stack: string;
  readonly requireRoles: readonly ApprovalRole[];
  readonly strict: boolean;
}

/**
 * `shipgate verify --policy-config`: every approval gate the policy pack runs for the stack, with the
 * stack's policy config (trusted keys, required roles, freezes, incident id shape...), through the
 * pack's own policy objects. APPROVED means the pack's approval gates would pass now.
 */
export async function verifyWithPolicy(options: VerifyWithPolicyOptions): Promise<CommandResult> {
  const { file } = options;
  const { check } = readManifest(file);
  if (!check.ok) {
    return failed(`${file} is not a valid manifest:\n${issueLines(check.issues)}`, {
      file,
      issues: check.issues,
    });
  }
  const { manifest } = check;
  let packConfig: unknown;
  try {
    packConfig = JSON.parse(readText(options.policyConfigFile, "policy config"));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`policy config ${options.policyConfigFile} is not JSON: ${(error as Error).message}`);
  }
  if (typeof packConfig !== "object" || packConfig === null || Array.isArray(packConfig)) {
    throw new CliError(
      `policy config ${options.policyConfigFile}: expected a JSON object, one entry per policy`,
    );
  }
  const policy = approvalPolicyFromPackConfig(packConfig);
  if (!policy.ok) {
    throw new CliError(
      `policy config ${options.policyConfigFile} is not valid:\n${issueLines(policy.issues)}`,
    );
  }
  const { requirements, trustedKeys } = policy.value;
  const report = signatureReport(file, manifest, trustedKeys, {
    wanted: [
      ...DEPLOYMENT_TYPE_RULES[manifest.deploymentType].requiredApprovalRoles,
      ...(requirements.extraRequiredRoles[manifest.deploymentType] ?? []),
      ...(requirements.changeBoardRiskLevels.includes(manifest.risk.level) ? ["change-board"] : []),
      ...options.requireRoles,
    ],
    minApprovers: requirements.minApprovers,
    allowSelfApproval: false,
    strict: options.strict,
  });
  // Loaded only here: the pack's modules are not needed by any other command.
  const { runApprovalGates } = await import("../../policies/lib/offline.js");
  const findings = await runApprovalGates(manifest, packConfig as Record<string, unknown>, options.stack);
  const blocking = findings.filter((finding) => finding.enforcementLevel === "mandatory");
  const ok = report.ok && blocking.length === 0;
  const lines = [
    ...report.lines,
    `policy gates:   every approval gate of the pack for stack ${options.stack}, config ${options.policyConfigFile}, judged now`,
    ...findings.map((finding) => `  [${finding.enforcementLevel}] ${finding.policy}: ${finding.message}`),
    ...(findings.length === 0 ? ["  no findings"] : []),
    ok ? "APPROVED" : "NOT APPROVED",
  ];
  return {
    exitCode: ok ? EXIT_OK : EXIT_FAILED,
    text: lines.join("\n"),
    json: { ok, scope: "policy", stack: options.stack, ...report.json, findings },
  };
}
