// Listing the complete backups under a backup root, and pruning the oldest beyond a count.
import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  BACKUP_ID_PATTERN,
  type BackupSummary,
  errorCode,
  readManifest,
  stagingName,
  summarize,
} from "./format";
/**
 * Every complete backup under `backupRoot`, newest first (by createdAt, then id). Folders without a
 * valid manifest naming them (staging folders, anything foreign) are not backups and are left out.
 */
export async function listBackups(backupRoot: string): Promise<BackupSummary[]> {
  let entries;
  try {
    entries = await readdir(backupRoot, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT") return [];
    throw error;
  }
  const backups: BackupSummary[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !BACKUP_ID_PATTERN.test(entry.name)) continue;
    const backupDir = join(backupRoot, entry.name);
    const read = await readManifest(backupDir);
    if (read.ok) backups.push(summarize(backupDir, read.manifest));
  }
  return backups.sort((a, b) => {
    const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
    return byTime !== 0 ? byTime : a.backupId < b.backupId ? 1 : a.backupId > b.backupId ? -1 : 0;
  });
}

export interface RetentionArgs {
  readonly backupRoot: string;
  /** How many of the newest backups to keep. */
  readonly keep: number;
  /** Backup ids never removed, whatever their age (e.g. the backup of the release in progress). */
  readonly protect?: readonly string[];
}

/**
 * Removes the oldest backups beyond the newest `keep`, except protected ones; only ever folders
 * that are backups (see listBackups). Returns the removed ids, oldest first.
 */
export async function applyRetention(args: RetentionArgs): Promise<string[]> {
  if (!Number.isInteger(args.keep) || args.keep < 0) {
    throw new Error(`retention: keep must be a whole number of zero or more, got ${String(args.keep)}`);
  }
  const protect = new Set(args.protect ?? []);
  const expired = (await listBackups(args.backupRoot))
    .slice(args.keep)
    .filter((backup) => !protect.has(backup.backupId))
    .reverse();
  const removed: string[] = [];
  for (const backup of expired) {
    // Renamed out of the id's name first, so a half-deleted backup is never listed as complete.
    const doomed = join(args.backupRoot, stagingName("removing", backup.backupId));
    await rename(backup.backupDir, doomed);
    await rm(doomed, { recursive: true, force: true });
    removed.push(backup.backupId);
  }
  return removed;
}
