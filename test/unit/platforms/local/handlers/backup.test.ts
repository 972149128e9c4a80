// The Backup handler: its diff, the id of a release's backup when one with that id exists
// (freeBackupId), and create/update against a temporary data folder.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listBackups, verifyBackup } from "../../../../../platforms/local/backup-ops";
import {
  type BackupInputs,
  type BackupOutputs,
  freeBackupId,
  handlers,
  pruneBackups,
  retentionProtects,
} from "../../../../../platforms/local/handlers/backup";
import { type TestProject, testProject, crud } from "./helpers";

const ops = crud(handlers);

let project: TestProject;

beforeAll(() => {
  project = testProject("backup-handler");
  mkdirSync(join(project.dir, "data/web/nested"), { recursive: true });
  writeFileSync(join(project.dir, "data/web/items.json"), '[{"name":"a"}]\n');
  writeFileSync(join(project.dir, "data/web/nested/notes.txt"), "hello\n");
});

afterAll(() => project.remove());

const inputs: BackupInputs = {
  service: "web",
  dataDir: "data/web",
  backupRoot: "backups/web",
  backupId: "CHG-101-2.0.0",
  keep: 2,
};
const outputs: BackupOutputs = {
  ...inputs,
  digest: `sha256:${"a".repeat(64)}`,
  files: 2,
  bytes: 21,
  createdAt: "2026-11-22T10:00:00.000Z",
  path: "backups/web/CHG-101-2.0.0",
};

describe("Backup diff", () => {
  it("changes nothing for the same inputs", async () => {
    expect(await handlers.diff("", "id", outputs, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("updates in place when only the retention count changes", async () => {
    expect(await handlers.diff("", "id", outputs, { ...inputs, keep: 9 })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("takes a new backup (replace) for another release, service or folder", async () => {
    expect(await handlers.diff("", "id", outputs, { ...inputs, backupId: "CHG-102-3.0.0" })).toEqual({
      changes: true,
      replaces: ["backupId"],
      deleteBeforeReplace: false,
    });
    expect(
      await handlers.diff("", "id", outputs, { ...inputs, service: "api", dataDir: "d", backupRoot: "b" }),
    ).toEqual({ changes: true, replaces: ["service", "dataDir", "backupRoot"], deleteBeforeReplace: false });
  });

  it("takes no other backup on a later run of a release whose backup id was suffixed (a rollback)", async () => {
    const suffixed: BackupOutputs = {
      ...outputs,
      backupId: "CHG-101-2.0.0-2",
      releaseBackupId: "CHG-101-2.0.0",
      path: "backups/web/CHG-101-2.0.0-2",
    };
    expect(await handlers.diff("", "id", suffixed, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await handlers.diff("", "id", suffixed, { ...inputs, backupId: "CHG-102-3.0.0" })).toEqual({
      changes: true,
      replaces: ["backupId"],
      deleteBeforeReplace: false,
    });
  });

  it("compares a state from before releaseBackupId by its real id (one more backup, then it converges)", async () => {
    const old: BackupOutputs = { ...outputs, backupId: "CHG-101-2.0.0-2" };
    expect(await handlers.diff("", "id", old, inputs)).toEqual({
      changes: true,
      replaces: ["backupId"],
      deleteBeforeReplace: false,
    });
  });
});

describe("freeBackupId", () => {
  it("keeps the release's id when it is free and suffixes -2, -3 when it is taken", () => {
    const rootDir = join(project.dir, "ids");
    expect(freeBackupId(rootDir, "CHG-1-1.0.0")).toBe("CHG-1-1.0.0");
    mkdirSync(join(rootDir, "CHG-1-1.0.0"), { recursive: true });
    expect(freeBackupId(rootDir, "CHG-1-1.0.0")).toBe("CHG-1-1.0.0-2");
    mkdirSync(join(rootDir, "CHG-1-1.0.0-2"));
    expect(freeBackupId(rootDir, "CHG-1-1.0.0")).toBe("CHG-1-1.0.0-3");
  });
});

describe("Backup create and update", () => {
  it("takes a verified backup of the data folder under the release's id", async () => {
    const created = await ops.create(project.dir, inputs);
    expect(created.id).toBe("CHG-101-2.0.0");
    expect(created.outs).toMatchObject({
      ...inputs,
      releaseBackupId: "CHG-101-2.0.0",
      files: 2,
      bytes: 21,
      path: "backups/web/CHG-101-2.0.0",
    });
    const verified = await verifyBackup(join(project.dir, "backups/web"), "CHG-101-2.0.0");
    expect(verified).toMatchObject({ ok: true, digest: created.outs.digest, checkedFiles: 2, problems: [] });
  });

  it("never overwrites: the same release backed up again gets -2", async () => {
    const again = await ops.create(project.dir, inputs);
    expect(again.id).toBe("CHG-101-2.0.0-2");
    expect(again.outs.backupId).toBe("CHG-101-2.0.0-2");
    expect(again.outs.releaseBackupId).toBe("CHG-101-2.0.0");
    expect(again.outs.path).toBe("backups/web/CHG-101-2.0.0-2");
  });

  it("removes no backup when it takes one (the release may still fail), and prunes only when asked after success", async () => {
    const third = await ops.create(project.dir, { ...inputs, keep: 1 });
    expect(third.id).toBe("CHG-101-2.0.0-3");
    const all = (await listBackups(join(project.dir, "backups/web"))).map((b) => b.backupId).sort();
    expect(all).toEqual(["CHG-101-2.0.0", "CHG-101-2.0.0-2", "CHG-101-2.0.0-3"]);
    // What the deployment record runs once the release has succeeded: re-runs go first, the release's first backup stays.
    await pruneBackups(join(project.dir, "backups/web"), "CHG-101-2.0.0-3", 1);
    const kept = (await listBackups(join(project.dir, "backups/web"))).map((b) => b.backupId).sort();
    expect(kept).toEqual(["CHG-101-2.0.0", "CHG-101-2.0.0-3"]);
    expect(readdirSync(join(project.dir, "backups/web")).sort()).toEqual(kept);
  });

  it("retentionProtects: the backup just taken and the first backups of the newest `keep` releases", () => {
    const newestFirst = ["CHG-3-1.0.0-2", "CHG-3-1.0.0", "CHG-2-1.0.0", "CHG-1-1.0.0-4", "CHG-1-1.0.0"];
    expect(retentionProtects(newestFirst, "CHG-3-1.0.0-2", 2)).toEqual([
      "CHG-3-1.0.0-2",
      "CHG-3-1.0.0",
      "CHG-2-1.0.0",
    ]);
  });

  it("update only records the new retention count", async () => {
    const updated = await ops.update(project.dir, "CHG-101-2.0.0-3", outputs, { ...inputs, keep: 7 });
    expect(updated).toEqual({ outs: { ...outputs, keep: 7 } });
    expect(existsSync(join(project.dir, "backups/web/CHG-101-2.0.0-3"))).toBe(true);
  });
});
