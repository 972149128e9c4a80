// The backup of an RDS database before a release changes anything: a DB snapshot (or a DB cluster
// snapshot for Aurora) with a unique, valid identifier per release, waited for until it is available,
// which is RDS saying it can be restored from.
import {
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from "@aws-sdk/client-rds";

export interface SnapshotTarget {
  /** `instance`: a DB instance; `cluster`: an Aurora DB cluster. */
  readonly kind: "instance" | "cluster";
  readonly identifier: string;
}

export interface Snapshot {
  readonly snapshotId: string;
  readonly arn: string;
  readonly status: string;
  readonly createdAt: string;
}

/**
 * A snapshot identifier RDS accepts (1 to 63 letters, digits and hyphens, a letter first, no two
 * hyphens in a row, no hyphen last) that is unique per release and per attempt: the service, the
 * change id and version, and a UTC timestamp to the second.
 */
export function snapshotIdentifier(service: string, changeId: string, version: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "t").toLowerCase();
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "");
  const head = clean(`${service}-${changeId}-${version}`)
    .slice(0, 63 - stamp.length - 1)
    .replace(/-+$/, "");
  const id = `${head}-${stamp}`.replace(/-{2,}/g, "-");
  return /^[a-z]/.test(id) ? id : `s${id}`.slice(0, 63).replace(/-+$/, "");
}

async function describe(
  rds: RDSClient,
  target: SnapshotTarget,
  snapshotId: string,
): Promise<Snapshot | null> {
  try {
    if (target.kind === "cluster") {
      const answer = await rds.send(
        new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId }),
      );
      const found = answer.DBClusterSnapshots?.[0];
      return found
        ? {
            snapshotId,
            arn: found.DBClusterSnapshotArn ?? "",
            status: found.Status ?? "unknown",
            createdAt: (found.SnapshotCreateTime ?? new Date()).toISOString(),
          }
        : null;
    }
    const answer = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    const found = answer.DBSnapshots?.[0];
    return found
      ? {
          snapshotId,
          arn: found.DBSnapshotArn ?? "",
          status: found.Status ?? "unknown",
          createdAt: (found.SnapshotCreateTime ?? new Date()).toISOString(),
        }
      : null;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "DBSnapshotNotFoundFault" || name === "DBClusterSnapshotNotFoundFault") return null;
    throw error;
  }
}

export interface WaitOptions {
  /** How long to wait for `available` (a large database takes many minutes). */
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly onProgress?: (status: string) => void;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Polls until the snapshot is available; throws when it fails or the time runs out. */
export async function waitForSnapshot(
  rds: RDSClient,
  target: SnapshotTarget,
  snapshotId: string,
  wait: WaitOptions,
): Promise<Snapshot> {
  const deadline = Date.now() + wait.timeoutMs;
  for (;;) {
    const found = await describe(rds, target, snapshotId);
    if (found?.status === "available") return found;
    if (found && ["failed", "error", "incompatible-restore", "deleted"].includes(found.status)) {
      throw new Error(
        `snapshot ${snapshotId} of ${target.identifier} ended as "${found.status}"; nothing was deployed. ` +
          `Check the database in the RDS console and release again.`,
      );
    }
    wait.onProgress?.(found?.status ?? "not visible yet");
    if (Date.now() >= deadline) {
      throw new Error(
        `snapshot ${snapshotId} of ${target.identifier} was not available within ${Math.round(wait.timeoutMs / 1000)} s ` +
          `(last status: ${found?.status ?? "not visible"}); nothing was deployed. Raise the backup timeout or ` +
          `check the database, then release again.`,
      );
    }
    await sleep(wait.pollMs);
  }
}

/** Takes the snapshot and waits until RDS says it is available. */
export async function createSnapshot(
  rds: RDSClient,
  args: { target: SnapshotTarget; snapshotId: string; tags: Record<string, string>; wait: WaitOptions },
): Promise<Snapshot> {
  const Tags = Object.entries(args.tags).map(([Key, Value]) => ({ Key, Value }));
  if (args.target.kind === "cluster") {
    await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterIdentifier: args.target.identifier,
        DBClusterSnapshotIdentifier: args.snapshotId,
        Tags,
      }),
    );
  } else {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: args.target.identifier,
        DBSnapshotIdentifier: args.snapshotId,
        Tags,
      }),
    );
  }
  return waitForSnapshot(rds, args.target, args.snapshotId, args.wait);
}

/** The snapshot as RDS describes it now, or null when it is gone (for a provider's read). */
export function readSnapshot(
  rds: RDSClient,
  target: SnapshotTarget,
  snapshotId: string,
): Promise<Snapshot | null> {
  return describe(rds, target, snapshotId);
}
