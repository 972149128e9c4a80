// The release evidence the approval gates judge: the manifest as the program registered it on the
// release anchor. Policies re-read it with the release model and never trust values the program
// derived from it (the digest prop above all).
import type { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { type Manifest, checkManifest, describeIssue, manifestSchema, parseDuration } from "../../release";
import { evidenceType } from "./roles";

export type ManifestRead =
  | { readonly ok: true; readonly manifest: Manifest }
  | { readonly ok: false; readonly problems: readonly string[] };

/** The manifest an evidence resource carries, checked against the schema's shape (not its rules). */
export function readManifest(props: Record<string, unknown>): ManifestRead {
  const parsed = manifestSchema.safeParse(props["manifest"]);
  if (parsed.success) return { ok: true, manifest: parsed.data };
  // checkManifest words the schema's issues as the CLI does (field paths, "unknown field").
  return { ok: false, problems: checkManifest(props["manifest"]).issues.map(describeIssue) };
}

/** What an approval gate checks, given a manifest of the right shape. */
export type ManifestValidation = (
  manifest: Manifest,
  args: ResourceValidationArgs,
  reportViolation: ReportViolation,
) => Promise<void> | void;

/**
 * A resource validation that runs on evidence resources only, failing closed: a manifest without the
 * schema's shape is a violation of every gate, not a pass.
 */
export function validateEvidence(validate: ManifestValidation): ResourceValidation {
  return async (args, reportViolation) => {
    if (args.type !== evidenceType) return;
    const read = readManifest(args.props);
    if (!read.ok) {
      reportViolation(
        `Fix the release manifest carried by ${args.name}: it is not a shipgate.dev/v1 manifest ` +
          `(${read.problems.slice(0, 3).join("; ")}${read.problems.length > 3 ? "; ..." : ""}).`,
      );
      return;
    }
    await validate(read.manifest, args, reportViolation);
  };
}

/** The release's planned window, in epoch milliseconds. */
export function releaseWindow(manifest: Manifest): { readonly start: number; readonly end: number } {
  const start = Date.parse(manifest.window.start);
  return { start, end: start + (parseDuration(manifest.window.expectedDuration) ?? 0) };
}

/** `CHG-2041@2.4.0`: how messages name a release. */
export function releaseKey(manifest: Manifest): string {
  return `${manifest.changeId}@${manifest.version}`;
}
