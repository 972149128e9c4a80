// The backup on AWS: an RDS snapshot per release, named uniquely, waited for until it is available.
// Snapshots are kept when the stack moves on: deleting this resource never deletes a snapshot (the
// platform also declares it with retainOnDelete).
import type { LocalHandlers } from "../../local/provider-factory";
import { rdsClient, type AwsTarget } from "../ops/clients";
import { createSnapshot, snapshotIdentifier, type SnapshotTarget } from "../ops/snapshot";

export interface BackupInputs {
  readonly aws: AwsTarget;
  readonly service: string;
  readonly releaseKey: string;
  readonly changeId: string;
  readonly version: string;
  readonly database: SnapshotTarget;
  readonly timeoutMs: number;
}

export interface BackupOutputs extends BackupInputs {
  readonly backupId: string;
  readonly arn: string;
  /** What identifies this backup's content for the record: RDS's snapshot ARN. */
  readonly digest: string;
  readonly createdAt: string;
}

async function snapshot(inputs: BackupInputs): Promise<BackupOutputs> {
  const snapshotId = snapshotIdentifier(inputs.service, inputs.changeId, inputs.version, new Date());
  const taken = await createSnapshot(rdsClient(inputs.aws), {
    target: inputs.database,
    snapshotId,
    tags: { "shipgate:release": inputs.releaseKey, "shipgate:service": inputs.service },
    wait: {
      timeoutMs: inputs.timeoutMs,
      pollMs: 10_000,
      onProgress: (status) => console.log(`backup of ${inputs.service}: snapshot ${snapshotId} is ${status}`),
    },
  });
  return {
    ...inputs,
    backupId: snapshotId,
    arn: taken.arn,
    digest: `rds-snapshot:${taken.arn}`,
    createdAt: taken.createdAt,
  };
}

export const handlers: LocalHandlers<BackupInputs, BackupOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const replace =
      olds.releaseKey !== news.releaseKey ||
      olds.service !== news.service ||
      JSON.stringify(olds.database) !== JSON.stringify(news.database);
    // A new release takes a new snapshot; the old one stays (create before delete, and delete keeps it).
    return { changes: replace, replaces: replace ? ["releaseKey"] : [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    const outs = await snapshot(inputs);
    return { id: outs.backupId, outs };
  },
  async delete() {
    // Kept on purpose: a snapshot is the way back to the data as it was before a release.
  },
};
