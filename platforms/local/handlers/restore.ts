// Rollback with data restore: puts a release's backup back in place of the service's data. The
// data that was there moves aside (nothing is lost); the restored copy is checked by digest.
import { join } from "node:path";
import { restoreBackup } from "../backup-ops";
import type { LocalHandlers } from "../provider-factory";

export interface RestoreInputs {
  readonly service: string;
  readonly dataDir: string;
  readonly backupRoot: string;
  readonly backupId: string;
}

export interface RestoreOutputs extends RestoreInputs {
  readonly restoredDigest: string;
  readonly previousDataDir: string | null;
  readonly restoredAt: string;
}

export const handlers: LocalHandlers<RestoreInputs, RestoreOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const replaces = (["service", "dataDir", "backupRoot", "backupId"] as const).filter(
      (k) => olds[k] !== news[k],
    );
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(projectDir, inputs) {
    const result = await restoreBackup({
      backupRoot: join(projectDir, inputs.backupRoot),
      backupId: inputs.backupId,
      dataDir: join(projectDir, inputs.dataDir),
    });
    if (result.restoredDigest !== result.backupDigest) {
      throw new Error(
        `restored data of ${inputs.service} has digest ${result.restoredDigest}, the backup ${result.backupDigest}`,
      );
    }
    return {
      id: `${inputs.service}-${inputs.backupId}`,
      outs: {
        ...inputs,
        restoredDigest: result.restoredDigest,
        previousDataDir: result.previousDataDir ?? null,
        restoredAt: new Date().toISOString(),
      },
    };
  },
};
