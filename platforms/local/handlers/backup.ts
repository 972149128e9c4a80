// A verified backup of a service's data before a release changes anything. Each release takes its
// own (a new backup id replaces the resource); deleting the resource keeps the files, which
// retention removes later, so destroying a stack never loses a backup.
import { join } from "node:path";
import { applyRetention, createBackup, verifyBackup } from "../backup-ops";
import type { LocalHandlers } from "../provider-factory";

export interface BackupInputs {
  readonly service: string;
  readonly dataDir: string;
  readonly backupRoot: string;
  readonly backupId: string;
  readonly keep: number;
}

export interface BackupOutputs extends BackupInputs {
  readonly digest: string;
  readonly files: number;
  readonly bytes: number;
  readonly createdAt: string;
  readonly path: string;
}

export const handlers: LocalHandlers<BackupInputs, BackupOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const replaces = (["service", "dataDir", "backupRoot", "backupId"] as const).filter(
      (k) => olds[k] !== news[k],
    );
    return { changes: replaces.length > 0 || olds.keep !== news.keep, replaces, deleteBeforeReplace: false };
  },
  async create(projectDir, inputs) {
    const backupRoot = join(projectDir, inputs.backupRoot);
    const result = await createBackup({
      dataDir: join(projectDir, inputs.dataDir),
      backupRoot,
      backupId: inputs.backupId,
    });
    const verified = await verifyBackup(backupRoot, inputs.backupId);
    if (!verified.ok) {
      const problems = verified.problems.map((p) => `${p.kind} ${p.path}: ${p.detail}`).join("; ");
      throw new Error(
        `backup ${inputs.backupId} of ${inputs.service} failed verification (${problems}); nothing was changed. ` +
          `Check the disk and run the release again.`,
      );
    }
    await applyRetention({ backupRoot, keep: inputs.keep, protect: [inputs.backupId] });
    return {
      id: inputs.backupId,
      outs: {
        ...inputs,
        digest: result.digest,
        files: result.fileCount,
        bytes: result.bytes,
        createdAt: result.createdAt,
        path: join(inputs.backupRoot, inputs.backupId),
      },
    };
  },
  async update(_projectDir, _id, olds, news) {
    // Only the retention count changed; it applies at the next backup.
    return { outs: { ...olds, keep: news.keep } };
  },
};
