import {
  type ApprovalRole,
  type TrustedKeys,
  APPROVAL_ROLES,
  DEPLOYMENT_TYPE_RULES,
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

/** `shipgate verify`: are the manifest's approvals enough, under the trusted keys, at this time? */
export function verifyManifest(options: VerifyOptions): CommandResult {
  const { file } = options;
  const { check } = readManifest(file);
  if (!check.ok) {
    return failed(`${file} is not a valid manifest:\n${issueLines(check.issues)}`, {
      file,
      issues: check.issues,
    });
  }
  const trustedKeys = loadTrustedKeys(options.trustedKeysFile);
  const { manifest } = check;
  const verification = verifyApprovals(manifest, trustedKeys, {
    ...(options.now === undefined ? {} : { now: options.now }),
    allowSelfApproval: options.allowSelfApproval,
  });
  const wanted = new Set([
    ...DEPLOYMENT_TYPE_RULES[manifest.deploymentType].requiredApprovalRoles,
    ...options.requireRoles,
  ]);
  const requiredRoles = APPROVAL_ROLES.filter((role) => wanted.has(role));
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
    ok ? "APPROVED" : "NOT APPROVED",
  ];
  return {
    exitCode: ok ? EXIT_OK : EXIT_FAILED,
    text: lines.join("\n"),
    json: {
      ok,
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
