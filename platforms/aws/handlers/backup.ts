// The backup on AWS: an RDS snapshot per release, named uniquely, waited for until it is available.
// Snapshots are kept when the stack moves on: each release's snapshot is an update of this step, and
// deleting the step never deletes a snapshot (the platform also declares it protected and retained).
import { type AwsFailingInputs, withAwsFailureRecord } from "../ops/failure";
import type { StepHandlers } from "../provider";
import { rdsClient, type AwsTarget } from "../ops/clients";
import { createSnapshot, snapshotIdentifier, type SnapshotTarget } from "../ops/snapshot";

export interface BackupInputs extends AwsFailingInputs {
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

export const handlers: StepHandlers<BackupInputs, BackupOutputs> = withAwsFailureRecord("backup", {
  async diff(_projectDir, _id, olds, news) {
    // A new release takes a new snapshot as an update: the step is protected (it is never replaced or
    // deleted), and the earlier snapshots stay in RDS.
    const changes =
      olds.releaseKey !== news.releaseKey ||
      olds.service !== news.service ||
      JSON.stringify(olds.database) !== JSON.stringify(news.database);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    const outs = await snapshot(inputs);
    return { id: `${inputs.service}-backup`, outs };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await snapshot(news) };
  },
  async delete() {
    // Kept on purpose: a snapshot is the way back to the data as it was before a release.
  },
});
