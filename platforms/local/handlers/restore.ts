// Rollback with data restore: puts a release's backup back in place of the service's data. The
// data that was there moves aside (nothing is lost); the restored copy is checked by digest. A restore
// that fails (a backup corrupted on disk is refused by its digest) records the failure, and the
// maintenance window it runs in is lifted (failure-ops.ts): users stay on the live version.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { restoreBackup } from "../backup-ops";
import { type FailingInputs, withFailureRecord } from "../failure-ops";
import type { LocalHandlers } from "../provider-factory";

export interface RestoreInputs extends FailingInputs {
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

async function restore(projectDir: string, inputs: RestoreInputs): Promise<RestoreOutputs> {
  try {
    const result = await restoreBackup({
      backupRoot: join(projectDir, inputs.backupRoot),
      backupId: inputs.backupId,
      dataDir: join(projectDir, inputs.dataDir),
    });
    if (result.restoredDigest !== result.backupDigest) {
      throw new Error(`restored data has digest ${result.restoredDigest}, the backup ${result.backupDigest}`);
    }
    return {
      ...inputs,
      restoredDigest: result.restoredDigest,
      previousDataDir: result.previousDataDir ?? null,
      restoredAt: new Date().toISOString(),
    };
  } catch (error) {
    // Nothing was swapped: restoreBackup checks the backup before it moves anything.
    throw new Error(
      `restoring backup ${inputs.backupId} of ${inputs.service} failed, and the data was left as it was: ` +
        `${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export const handlers: LocalHandlers<RestoreInputs, RestoreOutputs> = withFailureRecord("restore", {
  // Checked at preview too, before the maintenance window starts: the backup must exist.
  async check(projectDir, _olds, news) {
    const failures: { property: string; reason: string }[] = [];
    if (typeof news.backupRoot === "string" && typeof news.backupId === "string") {
      const manifest = join(projectDir, news.backupRoot, news.backupId, "manifest.json");
      const readable = await readFile(manifest, "utf8").then(
        () => true,
        () => false,
      );
      if (!readable) {
        failures.push({
          property: "backupId",
          reason: `no backup "${news.backupId}" in ${news.backupRoot} (shipgate:restoreBackup); pick one that exists`,
        });
      }
    }
    return { inputs: news as RestoreInputs, failures };
  },
  async diff(_projectDir, _id, olds, news) {
    const replaces = (["service", "dataDir", "backupRoot", "backupId"] as const).filter(
      (k) => olds[k] !== news[k],
    );
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(projectDir, inputs) {
    return { id: `${inputs.service}-${inputs.backupId}`, outs: await restore(projectDir, inputs) };
  },
});
