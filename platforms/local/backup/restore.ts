// Verifying a backup against its manifest, and restoring it into a data directory without losing
// the data that was there.
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  BACKUP_DATA_FOLDER,
  type RestoreResult,
  type VerifyProblem,
  type VerifyResult,
  digestDirectory,
  digestOfEntries,
  fileState,
  hashFile,
  listDataFiles,
  nativePath,
  requireManifest,
  stagingName,
} from "./format";
/** Re-reads every file of a backup and checks it against the manifest: sizes, checksums, the file set. */
export async function verifyBackup(backupRoot: string, backupId: string): Promise<VerifyResult> {
  const manifest = await requireManifest(backupRoot, backupId);
  const dataDir = join(backupRoot, backupId, BACKUP_DATA_FOLDER);
  const problems: VerifyProblem[] = [];
  if (digestOfEntries(manifest.files) !== manifest.digest) {
    problems.push({ kind: "manifest", path: "", detail: "the file list does not match the recorded digest" });
  }
  if (manifest.fileCount !== manifest.files.length) {
    problems.push({
      kind: "manifest",
      path: "",
      detail: `fileCount is ${manifest.fileCount} but ${manifest.files.length} files are listed`,
    });
  }
  const present = new Set(await listDataFiles(dataDir));
  for (const file of manifest.files) {
    if (!present.delete(file.path)) {
      problems.push({
        kind: "missing",
        path: file.path,
        detail: "listed in the manifest but not in the backup",
      });
      continue;
    }
    const actual = await hashFile(nativePath(dataDir, file.path));
    if (actual.size !== file.size) {
      problems.push({
        kind: "size",
        path: file.path,
        detail: `expected ${file.size} bytes, found ${actual.size}`,
      });
    } else if (actual.sha256 !== file.sha256) {
      problems.push({
        kind: "checksum",
        path: file.path,
        detail: `expected sha256 ${file.sha256}, found ${actual.sha256}`,
      });
    }
  }
  for (const path of present) {
    problems.push({ kind: "extra", path, detail: "in the backup but not listed in the manifest" });
  }
  return {
    backupId,
    ok: problems.length === 0,
    digest: manifest.digest,
    checkedFiles: manifest.files.length,
    problems,
  };
}

/** `2025-07-01T20:00:00.000Z` as `20250701T200000000Z`: sortable and safe in a file name. */
function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, "");
}

async function copyTree(from: string, to: string, files: readonly string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const path of files) {
    await mkdir(dirname(nativePath(to, path)), { recursive: true });
    await pipeline(createReadStream(nativePath(from, path)), createWriteStream(nativePath(to, path)));
  }
}

export interface RestoreBackupArgs {
  readonly backupRoot: string;
  readonly backupId: string;
  readonly dataDir: string;
  /** The time in the name of the folder the current data moves to; defaults to now. */
  readonly now?: Date;
}

/**
 * Restores a backup into `dataDir`. The backup is verified first. The restored copy is staged next to
 * `dataDir` and checked against the backup's digest before anything is moved; then the current data
 * moves aside to `<dataDir>.pre-restore-<timestamp>` (nothing is deleted) and the copy takes its place.
 * Stop the service that writes to `dataDir` first: it would keep writing into the folder moved aside.
 */
export async function restoreBackup(args: RestoreBackupArgs): Promise<RestoreResult> {
  const verified = await verifyBackup(args.backupRoot, args.backupId);
  if (!verified.ok) {
    const listed = verified.problems.map((p) => `${p.kind} ${p.path || "manifest"}: ${p.detail}`).join("; ");
    throw new Error(
      `restore: backup "${args.backupId}" failed verification, nothing was changed: ${listed}; ` +
        "restore from another backup",
    );
  }
  const manifest = await requireManifest(args.backupRoot, args.backupId);
  const backupData = join(args.backupRoot, args.backupId, BACKUP_DATA_FOLDER);
  const parent = dirname(args.dataDir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, stagingName("restoring", args.backupId));
  let restoredDigest: string;
  try {
    await copyTree(
      backupData,
      staging,
      manifest.files.map((file) => file.path),
    );
    restoredDigest = (await digestDirectory(staging)).digest;
    if (restoredDigest !== manifest.digest) {
      throw new Error(
        `restore: the restored copy has digest ${restoredDigest}, expected ${manifest.digest}; ` +
          "nothing was changed; check the disk and try again",
      );
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }

  let previousDataDir: string | undefined;
  if ((await lstat(args.dataDir).catch(() => undefined)) !== undefined) {
    previousDataDir = `${args.dataDir}.pre-restore-${compactTimestamp(args.now ?? new Date())}`;
    for (let n = 2; (await fileState(previousDataDir)) !== undefined; n++) {
      previousDataDir = `${args.dataDir}.pre-restore-${compactTimestamp(args.now ?? new Date())}-${n}`;
    }
    await rename(args.dataDir, previousDataDir);
  }
  try {
    await rename(staging, args.dataDir);
  } catch (error) {
    if (previousDataDir !== undefined) await rename(previousDataDir, args.dataDir);
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return {
    backupId: args.backupId,
    dataDir: args.dataDir,
    previousDataDir,
    backupDigest: manifest.digest,
    restoredDigest,
    fileCount: manifest.fileCount,
    bytes: manifest.bytes,
  };
}
