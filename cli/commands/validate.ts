import { readManifest, issueLines } from "../files";
import { type CommandResult, EXIT_FAILED, EXIT_OK } from "../result";

/** `shipgate validate`: every issue of every manifest given, or each one's digest. */
export function validateManifests(files: readonly string[]): CommandResult {
  const results = files.map((file) => {
    const { check } = readManifest(file);
    return check.ok
      ? { file, ok: true, digest: check.digest, issues: [] }
      : { file, ok: false, issues: check.issues };
  });
  const text = results
    .map((result) =>
      result.ok
        ? `${result.file}: valid (${result.digest})`
        : `${result.file}: ${result.issues.length} problem${result.issues.length === 1 ? "" : "s"}\n${issueLines(result.issues)}`,
    )
    .join("\n");
  const ok = results.every((result) => result.ok);
  return { exitCode: ok ? EXIT_OK : EXIT_FAILED, text, json: { ok, results } };
}
