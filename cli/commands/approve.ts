import {
  type ApprovalRole,
  addApprovalToManifestText,
  encodePublicKey,
  parseManifest,
  parsePrivateKey,
  signApproval,
  trustedApprover,
} from "../../release";
import { assertPrivateFile, issueLines, readManifest, readText, replaceFile } from "../files";
import { type CommandResult, CliError, failed, succeeded } from "../result";
import { loadTrustedKeys } from "./verify";

export interface ApproveOptions {
  readonly file: string;
  readonly keyFile: string;
  readonly approverId: string;
  readonly role: ApprovalRole;
  /** How long the approval stays valid, in milliseconds. */
  readonly validForMs: number;
  /** Refuse to sign unless the manifest's digest is this one: the digest the approver reviewed. */
  readonly expectDigest?: string;
  /** Refuse to sign unless this file trusts the key for this approver and role. */
  readonly trustedKeysFile?: string;
  readonly now?: Date;
}

/** `shipgate approve`: signs the manifest's digest and appends the approval to the manifest file. */
export function approveManifest(options: ApproveOptions): CommandResult {
  const { file } = options;
  const { text, check } = readManifest(file);
  if (!check.ok) {
    return failed(`refusing to approve ${file}: it is not a valid manifest\n${issueLines(check.issues)}`, {
      file,
      issues: check.issues,
    });
  }
  if (options.expectDigest !== undefined && options.expectDigest !== check.digest) {
    return failed(
      `refusing to approve ${file}: its digest is ${check.digest}, not the ${options.expectDigest} you reviewed`,
      { file, digest: check.digest, expectedDigest: options.expectDigest },
    );
  }
  assertPrivateFile(options.keyFile);
  let privateKey;
  try {
    privateKey = parsePrivateKey(readText(options.keyFile, "private key"));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `private key ${options.keyFile}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (options.trustedKeysFile !== undefined) {
    const trusted = trustedApprover(loadTrustedKeys(options.trustedKeysFile), options.approverId);
    if (trusted === undefined || !trusted.publicKeys.includes(encodePublicKey(privateKey))) {
      throw new CliError(`${options.trustedKeysFile} does not trust this key for ${options.approverId}`);
    }
    if (!trusted.roles.includes(options.role)) {
      throw new CliError(
        `${options.trustedKeysFile} does not let ${options.approverId} approve as ${options.role}`,
      );
    }
  }
  const signedAt = options.now ?? new Date();
  const approval = signApproval({
    digest: check.digest,
    approverId: options.approverId,
    role: options.role,
    privateKey,
    signedAt,
    expiresAt: new Date(signedAt.getTime() + options.validForMs),
  });
  const updated = addApprovalToManifestText(text, approval);
  // The edit must not change what was signed; re-reading proves it before the file is touched.
  const recheck = parseManifest(updated.text);
  if (!recheck.ok || recheck.digest !== check.digest) {
    throw new CliError(`adding the approval would change ${file}'s digest; the file was left as it was`);
  }
  replaceFile(file, updated.text);
  const replacedNote =
    updated.replaced > 0
      ? ` It replaces ${updated.replaced} earlier approval(s) by the same approver and role.`
      : "";
  return succeeded(
    `Approved ${file} as ${approval.approverId} (${approval.role}), valid until ${approval.expiresAt}.${replacedNote}\n` +
      `digest ${check.digest}`,
    {
      file,
      digest: check.digest,
      approval: {
        approverId: approval.approverId,
        role: approval.role,
        signedAt: approval.signedAt,
        expiresAt: approval.expiresAt,
      },
      replaced: updated.replaced,
    },
  );
}
