import type { z } from "zod";

/** One thing wrong with a manifest (or a trusted-keys file): where, and what was expected there. */
export interface ManifestIssue {
  /** The field path, e.g. `components[0].artifact.version`; empty for the document as a whole. */
  readonly path: string;
  readonly message: string;
}

/** `["components", 0, "artifact"]` becomes `components[0].artifact`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment))
      path += path === "" ? segment : `.${segment}`;
    else path += `[${JSON.stringify(String(segment))}]`;
  }
  return path;
}

/** `path: message`, or the message alone for the whole document. */
export function describeIssue(issue: ManifestIssue): string {
  return issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`;
}

/** A value, or every issue that stood in its way. */
export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: ManifestIssue[] };

/** zod's issues as field-path issues: one per unknown key, and "required" said plainly. */
export function issuesFromZod(error: z.ZodError): ManifestIssue[] {
  return error.issues.flatMap((issue): ManifestIssue[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: "unknown field: remove it or check its spelling",
      }));
    }
    if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
      return [{ path: formatPath(issue.path), message: `required: expected ${issue.expected}` }];
    }
    return [{ path: formatPath(issue.path), message: issue.message }];
  });
}
