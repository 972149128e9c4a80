/** Loading a release manifest: YAML, then the schema, then the deployment-type rules, every issue at once. */
import { readFileSync } from "node:fs";
import { isMap, isSeq, parseDocument } from "yaml";
import { manifestDigest } from "./digest";
import { type ManifestIssue, issuesFromZod } from "./issues";
import { parseYamlData } from "./yaml";
import { checkRules } from "./rules";
import { type Approval, type Manifest, manifestSchema } from "./schema";

export type ManifestCheck =
  | {
      readonly ok: true;
      readonly manifest: Manifest;
      /** The digest approvers sign (see digest.ts). */
      readonly digest: string;
      readonly issues: readonly [];
    }
  | { readonly ok: false; readonly issues: readonly ManifestIssue[] };

/**
 * Validates already-parsed manifest data (from YAML, or from a stack's config). Shape errors are
 * all reported together; the deployment-type rules need a well-shaped manifest, so they are reported
 * together as soon as the shape is right.
 */
export function checkManifest(data: unknown): ManifestCheck {
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error) };
  const issues = checkRules(parsed.data);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, manifest: parsed.data, digest: manifestDigest(parsed.data), issues: [] };
}

/** Validates the text of a manifest file. */
export function parseManifest(text: string): ManifestCheck {
  const data = parseYamlData(text);
  return data.ok ? checkManifest(data.value) : { ok: false, issues: data.issues };
}

/** Reads and validates a manifest file; file-system errors are thrown, manifest errors returned. */
export function loadManifestFile(path: string): ManifestCheck {
  return parseManifest(readFileSync(path, "utf8"));
}

/**
 * The manifest text with an approval added, comments and layout kept. Earlier approvals by the same
 * approver for the same role are dropped: they signed an older state or expire sooner, and keeping them
 * would only add rejected entries. Returns the new text and how many approvals it replaced.
 */
export function addApprovalToManifestText(
  text: string,
  approval: Approval,
): { readonly text: string; readonly replaced: number } {
  const document = parseDocument(text, { version: "1.2", schema: "core", uniqueKeys: true });
  if (document.errors.length > 0 || !isMap(document.contents)) {
    throw new Error("expected a manifest document (a YAML mapping); validate it first");
  }
  const existing = document.get("approvals");
  let replaced = 0;
  if (isSeq(existing)) {
    const before = existing.items.length;
    existing.items = existing.items.filter((item) => {
      if (!isMap(item)) return true;
      return !(item.get("approverId") === approval.approverId && item.get("role") === approval.role);
    });
    replaced = before - existing.items.length;
    existing.flow = false;
    existing.items.push(document.createNode({ ...approval }));
  } else {
    document.set("approvals", document.createNode([{ ...approval }]));
  }
  return { text: document.toString({ lineWidth: 0, flowCollectionPadding: false }), replaced };
}
