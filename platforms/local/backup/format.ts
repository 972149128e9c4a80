// The on-disk format of a backup and what reading it takes, shared by creating, verifying, restoring
// and pruning backups. On disk, under the backup root:
//   <backupId>/data/...          a copy of the data directory
//   <backupId>/manifest.json     every file (posix path, size, sha256), the tree digest, totals
// A backup is written under a dot-named temporary folder and renamed into place as a whole, so a
// folder named like a backup id with a manifest.json in it is always a complete backup.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { z } from "zod";
import { digestOfFiles } from "../artifact-ops";
export const BACKUP_MANIFEST_FILE = "manifest.json";
export const BACKUP_DATA_FOLDER = "data";
export const BACKUP_FORMAT_VERSION = 1;

/** A backup id is one folder name: letters, digits and . _ -, starting with a letter or digit. */
export const BACKUP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface BackupFileEntry {
  /** Relative to the data directory, with `/` separators. */
  readonly path: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

const fileEntrySchema = z.strictObject({
  path: z
    .string()
    .refine(
      (path) =>
        path.split("/").every((part) => part !== "" && part !== "." && part !== "..") && !path.includes("\\"),
      "expected a relative posix path inside the backup",
    ),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits"),
});

export const backupManifestSchema = z.strictObject({
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  backupId: z.string().regex(BACKUP_ID_PATTERN),
  createdAt: z.iso.datetime({ offset: true }),
  /** The data directory the backup was taken from, for people reading the manifest. */
  sourceDir: z.string(),
  fileCount: z.number().int().min(0),
  bytes: z.number().int().min(0),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  files: z.array(fileEntrySchema),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export interface BackupResult {
  readonly backupId: string;
  /** `<backupRoot>/<backupId>` */
  readonly backupDir: string;
  readonly manifestPath: string;
  readonly digest: string;
  readonly fileCount: number;
  readonly bytes: number;
  readonly createdAt: string;
}

export type BackupSummary = BackupResult;

export type VerifyProblemKind = "missing" | "extra" | "size" | "checksum" | "manifest";

export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  /** The file's relative path; empty for a problem with the manifest as a whole. */
  readonly path: string;
  readonly detail: string;
}

export interface VerifyResult {
  readonly backupId: string;
  readonly ok: boolean;
  /** The digest the manifest records. */
  readonly digest: string;
  readonly checkedFiles: number;
  readonly problems: VerifyProblem[];
}

export interface RestoreResult {
  readonly backupId: string;
  readonly dataDir: string;
  /** Where the data that was in place before the restore now is; undefined if there was none. */
  readonly previousDataDir: string | undefined;
  readonly backupDigest: string;
  readonly restoredDigest: string;
  readonly fileCount: number;
  readonly bytes: number;
}

/** Thrown when a file keeps changing while it is copied: the backup would not be consistent. */
export class BackupConsistencyError extends Error {
  constructor(
    readonly path: string,
    readonly attempts: number,
  ) {
    super(
      `backup: file "${path}" changed while it was being copied (${attempts} attempts); ` +
        "stop the service or pause its writes, then take the backup again",
    );
    this.name = "BackupConsistencyError";
  }
}

/**
 * The tree digest of a list of files, by the rule artifacts use (digestOfFiles in artifact-ops.ts, its
 * one home): "sha256:" + SHA-256 over the lines `<path>\0<sha256>\n`, sorted by path.
 */
export function digestOfEntries(files: readonly BackupFileEntry[]): string {
  return digestOfFiles([...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
}

export function checkBackupId(backupId: string): void {
  if (!BACKUP_ID_PATTERN.test(backupId)) {
    throw new Error(
      `backup: backupId ${JSON.stringify(backupId)} is not valid: expected letters, digits and . _ - ` +
        "(starting with a letter or digit, at most 128 characters), e.g. chg-2041-20250701T200000Z",
    );
  }
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

/**
 * Every regular file below `root`, as posix paths relative to it, sorted. A missing root is an empty
 * tree. Links and special files are refused: a backup copies data, not pointers to data elsewhere.
 */
export async function listDataFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  async function walk(relative: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(relative === "" ? root : join(root, relative), { withFileTypes: true });
    } catch (error) {
      if (relative === "" && errorCode(error) === "ENOENT") return;
      throw error;
    }
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
      else {
        throw new Error(
          `backup: "${path}" in ${root} is not a regular file or folder (a link, socket or device); ` +
            "keep only data files in the data directory",
        );
      }
    }
  }
  await walk("");
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function nativePath(root: string, posixPath: string): string {
  return join(root, ...posixPath.split("/"));
}

/** Size and SHA-256 of one file, streamed. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    hash.update(bytes);
  }
  return { size, sha256: hash.digest("hex") };
}

/**
 * Digest of a directory as it is now, every file hashed as a stream (artifact-ops' treeDigest reads
 * whole files into memory, which suits builds, not data directories). Equal to it for the same tree.
 */
export async function digestDirectory(
  root: string,
): Promise<{ digest: string; files: BackupFileEntry[]; bytes: number }> {
  const files: BackupFileEntry[] = [];
  for (const path of await listDataFiles(root)) {
    files.push({ path, ...(await hashFile(nativePath(root, path))) });
  }
  return { digest: digestOfEntries(files), files, bytes: files.reduce((sum, file) => sum + file.size, 0) };
}

export function summarize(backupDir: string, manifest: BackupManifest): BackupResult {
  return {
    backupId: manifest.backupId,
    backupDir,
    manifestPath: join(backupDir, BACKUP_MANIFEST_FILE),
    digest: manifest.digest,
    fileCount: manifest.fileCount,
    bytes: manifest.bytes,
    createdAt: manifest.createdAt,
  };
}

/** The manifest of one backup, or a reason it is not a backup. */
export async function readManifest(
  backupDir: string,
): Promise<{ ok: true; manifest: BackupManifest } | { ok: false; reason: string }> {
  let text: string;
  try {
    text = await readFile(join(backupDir, BACKUP_MANIFEST_FILE), "utf8");
  } catch (error) {
    return {
      ok: false,
      reason: `no readable ${BACKUP_MANIFEST_FILE} (${errorCode(error) ?? String(error)})`,
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${BACKUP_MANIFEST_FILE} is not valid JSON` };
  }
  const parsed = backupManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      reason: `${BACKUP_MANIFEST_FILE} field ${first?.path.join(".") || "(root)"}: ${first?.message ?? "invalid"}`,
    };
  }
  const folder = backupDir.split(sep).pop();
  if (parsed.data.backupId !== folder) {
    return { ok: false, reason: `${BACKUP_MANIFEST_FILE} names backup "${parsed.data.backupId}"` };
  }
  return { ok: true, manifest: parsed.data };
}

export async function requireManifest(backupRoot: string, backupId: string): Promise<BackupManifest> {
  checkBackupId(backupId);
  const read = await readManifest(join(backupRoot, backupId));
  if (!read.ok) {
    throw new Error(
      `backup "${backupId}" in ${backupRoot} cannot be used: ${read.reason}; ` +
        "check the backupId, or list the backups that exist with listBackups",
    );
  }
  return read.manifest;
}

export function stagingName(purpose: string, id: string): string {
  return `.${purpose}-${id}-${randomBytes(4).toString("hex")}`;
}

export interface FileState {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export async function fileState(path: string): Promise<FileState | undefined> {
  try {
    const info = await stat(path);
    return { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}
