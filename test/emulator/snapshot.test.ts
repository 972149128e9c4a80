// The RDS backup against moto_server: CreateDBSnapshot / CreateDBClusterSnapshot with the release's
// identifier, then DescribeDB(Cluster)Snapshots until available.
import { beforeAll, describe, expect, it } from "vitest";
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBSnapshotsCommand,
} from "@aws-sdk/client-rds";
import { rdsClient } from "../../platforms/aws/ops/clients";
import { createSnapshot, readSnapshot, snapshotIdentifier } from "../../platforms/aws/ops/snapshot";
import { emulatorTarget } from "./aws";

const target = emulatorTarget("eu-north-1");
const rds = rdsClient(target);
const wait = { timeoutMs: 60_000, pollMs: 200 };

beforeAll(async () => {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "shop-db",
      DBInstanceClass: "db.t4g.micro",
      Engine: "postgres",
      AllocatedStorage: 20,
      MasterUsername: "shop",
      MasterUserPassword: "not-a-real-secret-1",
    }),
  );
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: "shop-aurora",
      Engine: "aurora-postgresql",
      MasterUsername: "shop",
      MasterUserPassword: "not-a-real-secret-1",
    }),
  );
});

describe("createSnapshot", () => {
  it("snapshots a DB instance under the release's identifier and returns once it is available", async () => {
    const snapshotId = snapshotIdentifier("shop", "CHG-101", "2.0.0", new Date("2026-11-30T16:00:05Z"));
    expect(snapshotId).toBe("shop-chg-101-2-0-0-20261130t160005");
    const snapshot = await createSnapshot(rds, {
      target: { kind: "instance", identifier: "shop-db" },
      snapshotId,
      tags: { "shipgate:release": "CHG-101@2.0.0" },
      wait,
    });
    expect(snapshot).toMatchObject({ snapshotId, status: "available" });
    expect(snapshot.arn).toMatch(/:snapshot:shop-chg-101-2-0-0-20261130t160005$/);
    const stored = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    expect(stored.DBSnapshots?.[0]?.DBInstanceIdentifier).toBe("shop-db");
    expect(stored.DBSnapshots?.[0]?.TagList).toContainEqual({
      Key: "shipgate:release",
      Value: "CHG-101@2.0.0",
    });
  });

  it("snapshots an Aurora cluster the same way", async () => {
    const snapshotId = snapshotIdentifier("shop", "CHG-102", "2.1.0", new Date("2026-11-30T16:10:00Z"));
    const snapshot = await createSnapshot(rds, {
      target: { kind: "cluster", identifier: "shop-aurora" },
      snapshotId,
      tags: {},
      wait,
    });
    expect(snapshot).toMatchObject({ snapshotId, status: "available" });
    expect(await readSnapshot(rds, { kind: "cluster", identifier: "shop-aurora" }, snapshotId)).toMatchObject(
      {
        status: "available",
      },
    );
  });

  it("reads a snapshot that does not exist as null, and a second release gets its own identifier", async () => {
    expect(
      await readSnapshot(rds, { kind: "instance", identifier: "shop-db" }, "shop-nothing-here"),
    ).toBeNull();
    const again = snapshotIdentifier("shop", "CHG-101", "2.0.0", new Date("2026-11-30T16:00:06Z"));
    expect(again).not.toBe(snapshotIdentifier("shop", "CHG-101", "2.0.0", new Date("2026-11-30T16:00:05Z")));
  });

  it("refuses to wait for a database that does not exist, naming it", async () => {
    await expect(
      createSnapshot(rds, {
        target: { kind: "instance", identifier: "no-such-db" },
        snapshotId: "no-such-db-snap",
        tags: {},
        wait,
      }),
    ).rejects.toThrow(/no-such-db/);
  });
});
