/** Loading a release manifest: YAML, then the schema, then the deployment-type rules, every issue at once. */
import { closeSync, fstatSync, openSync, readFileSync, readSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
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
  // The digest covers the document as written (the schema has no transforms, so parsed.data is the same
  // document; a test keeps it so).
  return { ok: true, manifest: parsed.data, digest: manifestDigest(data as object), issues: [] };
}

/**
 * The largest manifest accepted, in UTF-8 bytes. A real manifest is a few KiB; the limit keeps a huge
 * document from being parsed, signed and carried in every later state file.
 */
export const MAX_MANIFEST_BYTES = 256 * 1024;

function tooLarge(bytes: number): ManifestCheck {
  return {
    ok: false,
    issues: [
      {
        path: "",
        message:
          `the manifest has ${bytes} bytes, more than the ${MAX_MANIFEST_BYTES} bytes (256 KiB) a manifest may have: ` +
          "keep long texts (test reports, runbooks) in documents the manifest names",
      },
    ],
  };
}

/** Validates the text of a manifest file. */
export function parseManifest(text: string): ManifestCheck {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_MANIFEST_BYTES) return tooLarge(bytes);
  const data = parseYamlData(text);
  return data.ok ? checkManifest(data.value) : { ok: false, issues: data.issues };
}

/** Reads and validates a manifest file; file-system errors are thrown, manifest errors returned. */
export function loadManifestFile(path: string): ManifestCheck {
  return parseManifest(readFileSync(path, "utf8"));
}

export type ManifestFileRead =
  { readonly ok: true; readonly check: ManifestCheck } | { readonly ok: false; readonly problem: string };

function fileProblem(error: unknown): string {
  const code = error instanceof Error && "code" in error ? String(error.code) : "";
  if (code === "ENOENT") return "does not exist";
  if (code === "EACCES") return "cannot be read (permission denied)";
  if (code === "ELOOP") return "is a symlink loop";
  return `cannot be read (${error instanceof Error ? error.message : String(error)})`;
}

/**
 * Reads and validates the manifest at `path` (relative to `projectDir`) as a stack releases it: a
 * regular file whose real location, symlinks resolved, lies inside the project, of at most
 * MAX_MANIFEST_BYTES. Problems with the file itself are returned in words, never as a raw errno.
 */
export function readManifestInProject(projectDir: string, path: string): ManifestFileRead {
  let real: string;
  let root: string;
  try {
    root = realpathSync(projectDir);
    real = realpathSync(join(projectDir, path));
  } catch (error) {
    return { ok: false, problem: fileProblem(error) };
  }
  const inside = relative(root, real);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    return { ok: false, problem: `leads out of the project (to ${real}), expected a file inside ${root}` };
  }
  let fd: number;
  try {
    fd = openSync(real, "r");
  } catch (error) {
    return { ok: false, problem: fileProblem(error) };
  }
  try {
    // The checks run on the opened file, so a swap between a check and the read cannot pass them.
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { ok: false, problem: "is a directory, expected a manifest file" };
    if (!stat.isFile()) return { ok: false, problem: "is not a regular file" };
    if (stat.size > MAX_MANIFEST_BYTES) return { ok: true, check: tooLarge(stat.size) };
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return { ok: true, check: parseManifest(buffer.subarray(0, read).toString("utf8")) };
  } finally {
    closeSync(fd);
  }
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
