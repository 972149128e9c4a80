// A verified backup of a service's data before a release changes anything. Each release takes its
// own (a new backup id replaces the resource); deleting the resource keeps the files, which
// retention removes later, so destroying a stack never loses a backup.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { applyRetention, createBackup, listBackups, verifyBackup } from "../backup-ops";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import type { LocalHandlers } from "../provider-factory";

export interface BackupInputs extends FailingInputs {
  readonly service: string;
  readonly dataDir: string;
  readonly backupRoot: string;
  readonly backupId: string;
  readonly keep: number;
}

export interface BackupOutputs extends BackupInputs {
  /**
   * The id the release asked for (the `backupId` input). `backupId` is the backup's real id, which
   * has a `-N` suffix when a backup with the release's id existed already (a rollback to a release
   * that took one). Absent in states written before it was added.
   */
  readonly releaseBackupId?: string;
  readonly digest: string;
  readonly files: number;
  readonly bytes: number;
  readonly createdAt: string;
  readonly path: string;
}

/**
 * The release's backup id, or `<id>-2`, `<id>-3`... when a backup of the same release exists
 * already (a release run again, or a rollback to an earlier release): backups are never overwritten.
 */
export function freeBackupId(backupRoot: string, base: string): string {
  let id = base;
  for (let n = 2; existsSync(join(backupRoot, id)); n += 1) id = `${base}-${n}`;
  return id;
}

/**
 * Backups retention never removes: the one just taken, and the first backups of the newest `keep`
 * releases (ids without a `-N` suffix), which hold the data from before each release changed it and
 * are what a rollback with data restore needs. Backups of re-runs (`-2`, `-3`...) go first.
 * `ids` are newest first.
 */
export function retentionProtects(ids: readonly string[], current: string, keep: number): string[] {
  const firsts = ids.filter((id) => !/-\d+$/.test(id));
  return [current, ...firsts.slice(0, keep)];
}

export const handlers: LocalHandlers<BackupInputs, BackupOutputs> = withFailureRecord("backup", {
  async diff(_projectDir, _id, olds, news) {
    // The release's id, not the real one: a backup whose id had to be suffixed is still this
    // release's backup, and a later run of the same release takes no other one.
    const requested = { ...olds, backupId: olds.releaseBackupId ?? olds.backupId };
    const replaces = (["service", "dataDir", "backupRoot", "backupId"] as const).filter(
      (k) => requested[k] !== news[k],
    );
    return { changes: replaces.length > 0 || olds.keep !== news.keep, replaces, deleteBeforeReplace: false };
  },
  async create(projectDir, inputs) {
    const backupRoot = join(projectDir, inputs.backupRoot);
    const backupId = freeBackupId(backupRoot, inputs.backupId);
    const result = await createBackup({ dataDir: join(projectDir, inputs.dataDir), backupRoot, backupId });
    const verified = await verifyBackup(backupRoot, backupId);
    if (!verified.ok) {
      const problems = verified.problems.map((p) => `${p.kind} ${p.path}: ${p.detail}`).join("; ");
      throw new Error(
        `backup ${backupId} of ${inputs.service} failed verification (${problems}); nothing was changed. ` +
          `Check the disk and run the release again.`,
      );
    }
    // No pruning here: the release may still fail, and a failed release must remove nothing. The
    // deployment record prunes (pruneBackups) once the release has succeeded.
    return {
      id: backupId,
      outs: {
        ...inputs,
        backupId,
        releaseBackupId: inputs.backupId,
        digest: result.digest,
        files: result.fileCount,
        bytes: result.bytes,
        createdAt: result.createdAt,
        path: join(inputs.backupRoot, backupId),
      },
    };
  },
  async update(_projectDir, _id, olds, news) {
    // Only the retention count changed; it applies at the next backup.
    return { outs: { ...olds, keep: news.keep } };
  },
});

/**
 * Retention after a successful release: removes the oldest backups of a service beyond the newest
 * `keep`, never the one this release took nor the first backups of the newest `keep` releases.
 */
export async function pruneBackups(backupRoot: string, current: string, keep: number): Promise<string[]> {
  const existing = (await listBackups(backupRoot)).map((b) => b.backupId);
  return applyRetention({ backupRoot, keep, protect: retentionProtects(existing, current, keep) });
}
