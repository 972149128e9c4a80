import { createHash } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  applyRetention,
  BackupConsistencyError,
  createBackup,
  digestDirectory,
  listBackups,
  restoreBackup,
  verifyBackup,
  type BackupManifest,
} from "../../../../platforms/local/backup-ops";
import { digestOfFiles, treeDigest } from "../../../../platforms/local/artifact-ops";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

let work: string;
let dataDir: string;
let backupRoot: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "shipgate-backup-"));
  dataDir = join(work, "data");
  backupRoot = join(work, "backups");
  mkdirSync(join(dataDir, "sub", "deeper"), { recursive: true });
  writeFileSync(join(dataDir, "a.txt"), "alpha");
  writeFileSync(join(dataDir, "sub", "b.json"), '{"b":1}');
  writeFileSync(join(dataDir, "sub", "deeper", "c.bin"), Buffer.from([0, 1, 2, 255]));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const readManifest = (id: string) =>
  JSON.parse(readFileSync(join(backupRoot, id, "manifest.json"), "utf8")) as BackupManifest;

describe("createBackup", () => {
  it("copies every file and writes a manifest with sizes, checksums, the tree digest and totals", async () => {
    const result = await createBackup({
      dataDir,
      backupRoot,
      backupId: "bk-1",
      createdAt: "2025-07-01T20:00:00.000Z",
    });
    const files = [
      { path: "a.txt", size: 5, sha256: sha("alpha") },
      { path: "sub/b.json", size: 7, sha256: sha('{"b":1}') },
      {
        path: "sub/deeper/c.bin",
        size: 4,
        sha256: createHash("sha256")
          .update(Buffer.from([0, 1, 2, 255]))
          .digest("hex"),
      },
    ];
    const digest = digestOfFiles(files);
    // The same rule as an artifact's digest, computed over the data directory itself.
    expect(await treeDigest(dataDir)).toBe(digest);
    expect(result).toEqual({
      backupId: "bk-1",
      backupDir: join(backupRoot, "bk-1"),
      manifestPath: join(backupRoot, "bk-1", "manifest.json"),
      digest,
      fileCount: 3,
      bytes: 16,
      createdAt: "2025-07-01T20:00:00.000Z",
    });
    expect(readManifest("bk-1")).toEqual({
      formatVersion: 1,
      backupId: "bk-1",
      createdAt: "2025-07-01T20:00:00.000Z",
      sourceDir: dataDir,
      fileCount: 3,
      bytes: 16,
      digest,
      files,
    });
    expect(readFileSync(join(backupRoot, "bk-1", "data", "sub", "b.json"), "utf8")).toBe('{"b":1}');
    expect((await digestDirectory(dataDir)).digest).toBe(digest);
    // Nothing left behind but the backup itself: the staging folder was renamed into place.
    expect(readdirSync(backupRoot)).toEqual(["bk-1"]);
  });

  it("takes an empty backup of a missing or empty data directory", async () => {
    const missing = await createBackup({ dataDir: join(work, "nope"), backupRoot, backupId: "empty-1" });
    mkdirSync(join(work, "empty"));
    const empty = await createBackup({ dataDir: join(work, "empty"), backupRoot, backupId: "empty-2" });
    for (const result of [missing, empty]) {
      expect(result.fileCount).toBe(0);
      expect(result.bytes).toBe(0);
      expect(result.digest).toBe(`sha256:${sha("")}`);
    }
    expect((await verifyBackup(backupRoot, "empty-1")).ok).toBe(true);
  });

  it("copies a file again when it changed during the copy", async () => {
    const attempts: string[] = [];
    const result = await createBackup({
      dataDir,
      backupRoot,
      backupId: "bk-retry",
      retryDelayMs: 1,
      afterFileCopied: (path, attempt) => {
        attempts.push(`${path}#${attempt}`);
        if (path === "a.txt" && attempt === 1) appendFileSync(join(dataDir, "a.txt"), "-more");
      },
    });
    // Files are copied several at a time, so only the set of attempts is fixed, not their order.
    expect(attempts.sort()).toEqual(["a.txt#1", "a.txt#2", "sub/b.json#1", "sub/deeper/c.bin#1"]);
    expect(readFileSync(join(backupRoot, "bk-retry", "data", "a.txt"), "utf8")).toBe("alpha-more");
    expect(readManifest("bk-retry").files[0]).toEqual({ path: "a.txt", size: 10, sha256: sha("alpha-more") });
    expect(result.digest).toBe((await digestDirectory(dataDir)).digest);
  });

  it("fails with a clear error when a file keeps changing, and leaves no partial backup", async () => {
    let n = 0;
    const attempt = createBackup({
      dataDir,
      backupRoot,
      backupId: "bk-busy",
      maxAttempts: 2,
      retryDelayMs: 1,
      afterFileCopied: (path) => {
        if (path === "sub/b.json") writeFileSync(join(dataDir, "sub", "b.json"), `{"b":${++n}0}`);
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(BackupConsistencyError);
    await expect(attempt).rejects.toThrow(
      'backup: file "sub/b.json" changed while it was being copied (2 attempts); ' +
        "stop the service or pause its writes, then take the backup again",
    );
    expect(readdirSync(backupRoot)).toEqual([]);
    expect(await listBackups(backupRoot)).toEqual([]);
  });

  it("leaves out a file deleted before it was copied", async () => {
    const result = await createBackup({
      dataDir,
      backupRoot,
      backupId: "bk-gone",
      // One file at a time, so b.json is certainly deleted before its turn comes.
      concurrency: 1,
      afterFileCopied: (path) => {
        if (path === "a.txt") rmSync(join(dataDir, "sub", "b.json"));
      },
    });
    expect(readManifest("bk-gone").files.map((file) => file.path)).toEqual(["a.txt", "sub/deeper/c.bin"]);
    expect(result.fileCount).toBe(2);
  });

  it("refuses an invalid id, an existing backup and a link in the data directory", async () => {
    await expect(createBackup({ dataDir, backupRoot, backupId: "../x" })).rejects.toThrow(
      'backup: backupId "../x" is not valid: expected letters, digits and . _ -',
    );
    await createBackup({ dataDir, backupRoot, backupId: "bk-1" });
    await expect(createBackup({ dataDir, backupRoot, backupId: "bk-1" })).rejects.toThrow(
      `backup: ${join(backupRoot, "bk-1")} already exists; choose a new backupId or remove that folder first`,
    );
    symlinkSync(join(dataDir, "a.txt"), join(dataDir, "link"));
    await expect(createBackup({ dataDir, backupRoot, backupId: "bk-2" })).rejects.toThrow(
      `backup: "link" in ${dataDir} is not a regular file or folder (a link, socket or device)`,
    );
    expect(readdirSync(backupRoot)).toEqual(["bk-1"]);
  });

  it("refuses a createdAt that is not an ISO timestamp", async () => {
    await expect(
      createBackup({ dataDir, backupRoot, backupId: "bk-t", createdAt: "yesterday" }),
    ).rejects.toThrow('backup: createdAt "yesterday" is not an ISO timestamp with an offset');
  });
});

describe("verifyBackup", () => {
  beforeEach(async () => {
    await createBackup({ dataDir, backupRoot, backupId: "bk-1" });
  });

  it("passes an intact backup", async () => {
    expect(await verifyBackup(backupRoot, "bk-1")).toEqual({
      backupId: "bk-1",
      ok: true,
      digest: readManifest("bk-1").digest,
      checkedFiles: 3,
      problems: [],
    });
  });

  it("reports corrupted, truncated, missing and extra files, each by path", async () => {
    const data = join(backupRoot, "bk-1", "data");
    writeFileSync(join(data, "a.txt"), "alphA");
    writeFileSync(join(data, "sub", "b.json"), "{}");
    rmSync(join(data, "sub", "deeper", "c.bin"));
    writeFileSync(join(data, "intruder.txt"), "x");
    const result = await verifyBackup(backupRoot, "bk-1");
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { kind: "checksum", path: "a.txt", detail: `expected sha256 ${sha("alpha")}, found ${sha("alphA")}` },
      { kind: "size", path: "sub/b.json", detail: "expected 7 bytes, found 2" },
      { kind: "missing", path: "sub/deeper/c.bin", detail: "listed in the manifest but not in the backup" },
      { kind: "extra", path: "intruder.txt", detail: "in the backup but not listed in the manifest" },
    ]);
  });

  it("reports a manifest whose file list no longer matches its digest", async () => {
    const manifest = readManifest("bk-1");
    writeFileSync(
      join(backupRoot, "bk-1", "manifest.json"),
      JSON.stringify({ ...manifest, digest: `sha256:${sha("other")}` }),
    );
    expect((await verifyBackup(backupRoot, "bk-1")).problems).toEqual([
      { kind: "manifest", path: "", detail: "the file list does not match the recorded digest" },
    ]);
  });

  it("throws for a backup that does not exist or whose manifest is broken", async () => {
    await expect(verifyBackup(backupRoot, "bk-none")).rejects.toThrow(
      `backup "bk-none" in ${backupRoot} cannot be used: no readable manifest.json (ENOENT); ` +
        "check the backupId, or list the backups that exist with listBackups",
    );
    const manifest = readManifest("bk-1");
    writeFileSync(
      join(backupRoot, "bk-1", "manifest.json"),
      JSON.stringify({ ...manifest, files: [{ path: "../../etc/passwd", size: 1, sha256: sha("x") }] }),
    );
    await expect(verifyBackup(backupRoot, "bk-1")).rejects.toThrow(
      "manifest.json field files.0.path: expected a relative posix path inside the backup",
    );
  });
});

describe("restoreBackup", () => {
  it("moves the current data aside, restores the backup and matches its digest", async () => {
    const backup = await createBackup({ dataDir, backupRoot, backupId: "bk-1" });
    writeFileSync(join(dataDir, "a.txt"), "changed after the backup");
    writeFileSync(join(dataDir, "new.txt"), "new");
    const now = new Date("2025-07-01T21:30:00.000Z");
    const result = await restoreBackup({ backupRoot, backupId: "bk-1", dataDir, now });
    const aside = `${dataDir}.pre-restore-20250701T213000000Z`;
    expect(result).toEqual({
      backupId: "bk-1",
      dataDir,
      previousDataDir: aside,
      backupDigest: backup.digest,
      restoredDigest: backup.digest,
      fileCount: 3,
      bytes: 16,
    });
    expect((await digestDirectory(dataDir)).digest).toBe(backup.digest);
    expect(readFileSync(join(dataDir, "a.txt"), "utf8")).toBe("alpha");
    expect(existsSync(join(dataDir, "new.txt"))).toBe(false);
    // Nothing is lost: the data as it was before the restore is kept aside.
    expect(readFileSync(join(aside, "a.txt"), "utf8")).toBe("changed after the backup");
    expect(readFileSync(join(aside, "new.txt"), "utf8")).toBe("new");

    // A second restore in the same millisecond does not overwrite the first folder moved aside.
    const again = await restoreBackup({ backupRoot, backupId: "bk-1", dataDir, now });
    expect(again.previousDataDir).toBe(`${aside}-2`);
    expect(readFileSync(join(aside, "new.txt"), "utf8")).toBe("new");
    expect(readdirSync(work).sort()).toEqual(
      [
        "backups",
        "data",
        "data.pre-restore-20250701T213000000Z",
        "data.pre-restore-20250701T213000000Z-2",
      ].sort(),
    );
  });

  it("restores into a data directory that does not exist yet", async () => {
    const backup = await createBackup({ dataDir, backupRoot, backupId: "bk-1" });
    const fresh = join(work, "fresh", "data");
    const result = await restoreBackup({ backupRoot, backupId: "bk-1", dataDir: fresh });
    expect(result.previousDataDir).toBeUndefined();
    expect(result.restoredDigest).toBe(backup.digest);
    expect((await digestDirectory(fresh)).digest).toBe(backup.digest);
  });

  it("refuses a corrupted backup and changes nothing", async () => {
    await createBackup({ dataDir, backupRoot, backupId: "bk-1" });
    writeFileSync(join(backupRoot, "bk-1", "data", "a.txt"), "alphA");
    writeFileSync(join(dataDir, "a.txt"), "current");
    await expect(restoreBackup({ backupRoot, backupId: "bk-1", dataDir })).rejects.toThrow(
      `restore: backup "bk-1" failed verification, nothing was changed: checksum a.txt: expected sha256 ${sha(
        "alpha",
      )}, found ${sha("alphA")}; restore from another backup`,
    );
    expect(readFileSync(join(dataDir, "a.txt"), "utf8")).toBe("current");
    expect(readdirSync(work).sort()).toEqual(["backups", "data"]);
  });
});

describe("listBackups and applyRetention", () => {
  const times = [
    "2025-07-01T10:00:00Z",
    "2025-07-02T10:00:00Z",
    "2025-07-03T10:00:00Z",
    "2025-07-04T10:00:00Z",
  ];
  beforeEach(async () => {
    // Created out of order: age is the manifest's createdAt, not the order on disk.
    for (const index of [2, 0, 3, 1]) {
      await createBackup({ dataDir, backupRoot, backupId: `bk-${index}`, createdAt: times[index] });
    }
    mkdirSync(join(backupRoot, "foreign"));
    writeFileSync(join(backupRoot, "foreign", "important.txt"), "not a backup");
    mkdirSync(join(backupRoot, "broken"));
    writeFileSync(join(backupRoot, "broken", "manifest.json"), "{not json");
    mkdirSync(join(backupRoot, "renamed"));
    writeFileSync(join(backupRoot, "renamed", "manifest.json"), JSON.stringify(readManifest("bk-0")));
    writeFileSync(join(backupRoot, "stray-file"), "x");
  });

  it("lists only complete backups, newest first", async () => {
    expect((await listBackups(backupRoot)).map((b) => [b.backupId, b.createdAt])).toEqual([
      ["bk-3", times[3]],
      ["bk-2", times[2]],
      ["bk-1", times[1]],
      ["bk-0", times[0]],
    ]);
    expect(await listBackups(join(work, "no-root"))).toEqual([]);
  });

  it("removes the oldest beyond keep, never a protected or foreign folder", async () => {
    expect(await applyRetention({ backupRoot, keep: 1, protect: ["bk-1"] })).toEqual(["bk-0", "bk-2"]);
    expect(readdirSync(backupRoot).sort()).toEqual([
      "bk-1",
      "bk-3",
      "broken",
      "foreign",
      "renamed",
      "stray-file",
    ]);
    expect(readFileSync(join(backupRoot, "foreign", "important.txt"), "utf8")).toBe("not a backup");
    expect(await applyRetention({ backupRoot, keep: 1, protect: ["bk-1"] })).toEqual([]);
    expect(await applyRetention({ backupRoot, keep: 0 })).toEqual(["bk-1", "bk-3"]);
    expect(readdirSync(backupRoot).sort()).toEqual(["broken", "foreign", "renamed", "stray-file"]);
  });

  it("keeps everything when keep covers all backups, and refuses a negative keep", async () => {
    expect(await applyRetention({ backupRoot, keep: 4 })).toEqual([]);
    await expect(applyRetention({ backupRoot, keep: -1 })).rejects.toThrow(
      "retention: keep must be a whole number of zero or more, got -1",
    );
    expect((await listBackups(backupRoot)).length).toBe(4);
  });
});
