import { issueLines, readManifest } from "../files";
import { type CommandResult, failed, succeeded } from "../result";

/** `shipgate digest`: the digest approvers sign, printed alone so scripts can capture it. */
export function digestManifest(file: string): CommandResult {
  const { check } = readManifest(file);
  if (!check.ok) {
    return failed(
      `${file} is not a valid manifest, so it has no digest to sign:\n${issueLines(check.issues)}`,
      {
        file,
        issues: check.issues,
      },
    );
  }
  return succeeded(check.digest, { file, digest: check.digest });
}
