// Taking a backup: every file copied and hashed in one read, a few files at a time, and checked for
// consistency (a file that changes while it is copied is copied again, then refused).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import {
  BACKUP_DATA_FOLDER,
  BACKUP_FORMAT_VERSION,
  BACKUP_MANIFEST_FILE,
  type BackupFileEntry,
  type BackupManifest,
  type BackupResult,
  BackupConsistencyError,
  checkBackupId,
  digestOfEntries,
  errorCode,
  fileState,
  listDataFiles,
  nativePath,
  stagingName,
  summarize,
} from "./format";

/** Files up to this size are read whole, hashed and written in three calls; larger ones are streamed. */
const wholeFileBytes = 8 * 1024 * 1024;
/** How many files are copied at once: the disk and the hashing overlap across files. */
const copyConcurrency = 4;

/**
 * Copies one file, hashing the bytes it read on the way: one read of the data, never a second pass.
 * `expectedSize` (from the file's stat) picks the way; the hashed byte count is what was copied.
 */
async function copyAndHash(
  from: string,
  to: string,
  expectedSize: number,
): Promise<{ size: number; sha256: string }> {
  if (expectedSize <= wholeFileBytes) {
    const bytes = await readFile(from);
    await writeFile(to, bytes);
    return { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  }
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(
    createReadStream(from, { highWaterMark: 1024 * 1024 }),
    tap,
    createWriteStream(to, { flags: "w", highWaterMark: 1024 * 1024 }),
  );
  return { size, sha256: hash.digest("hex") };
}

/**
 * Runs `work` on every item with at most `limit` at a time, results in the items' order. Every
 * started call is awaited before the first error is thrown, so nothing still writes after it.
 */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (rejected) throw rejected.reason;
  return results;
}

export interface CreateBackupArgs {
  readonly dataDir: string;
  readonly backupRoot: string;
  readonly backupId: string;
  /** ISO timestamp recorded in the manifest; defaults to now. */
  readonly createdAt?: string;
  /** How many times one file is copied before a file that keeps changing fails the backup. Default 3. */
  readonly maxAttempts?: number;
  /** How many files are copied at once. Default 4. */
  readonly concurrency?: number;
  /** Pause between attempts, giving a writer time to finish. Default 50 ms. */
  readonly retryDelayMs?: number;
  /**
   * Called after each copy of a file and before it is checked for changes. Tests use it to change a
   * file in the middle of a copy; a provider has no reason to set it.
   */
  readonly afterFileCopied?: (path: string, attempt: number) => Promise<void> | void;
}

/**
 * Copies one file until a copy is consistent: size, mtime and inode the same before and after, and
 * the byte count equal to the size. Undefined when the file disappeared (it is no longer data).
 */
async function copyConsistently(
  args: CreateBackupArgs,
  path: string,
  target: string,
): Promise<BackupFileEntry | undefined> {
  const maxAttempts = args.maxAttempts ?? 3;
  const source = nativePath(args.dataDir, path);
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const before = await fileState(source);
    if (before === undefined) return undefined;
    let copied: { size: number; sha256: string };
    try {
      copied = await copyAndHash(source, target, before.size);
    } catch (error) {
      if (errorCode(error) === "ENOENT" && (await fileState(source)) === undefined) {
        await rm(target, { force: true });
        return undefined;
      }
      throw error;
    }
    await args.afterFileCopied?.(path, attempt);
    const after = await fileState(source);
    if (
      after !== undefined &&
      after.size === before.size &&
      after.mtimeMs === before.mtimeMs &&
      after.ino === before.ino &&
      copied.size === before.size
    ) {
      return { path, ...copied };
    }
    if (attempt < maxAttempts) await new Promise((done) => setTimeout(done, args.retryDelayMs ?? 50));
  }
  throw new BackupConsistencyError(path, maxAttempts);
}

/**
 * Takes a consistent copy of `dataDir` into `<backupRoot>/<backupId>/data/` with a manifest. An empty
 * or missing data directory is a valid, empty backup. Empty folders are not kept: a backup is its files.
 */
export async function createBackup(args: CreateBackupArgs): Promise<BackupResult> {
  checkBackupId(args.backupId);
  const createdAt = args.createdAt ?? new Date().toISOString();
  if (!z.iso.datetime({ offset: true }).safeParse(createdAt).success) {
    throw new Error(`backup: createdAt ${JSON.stringify(createdAt)} is not an ISO timestamp with an offset`);
  }
  const backupDir = join(args.backupRoot, args.backupId);
  if ((await fileState(backupDir)) !== undefined) {
    throw new Error(`backup: ${backupDir} already exists; choose a new backupId or remove that folder first`);
  }
  await mkdir(args.backupRoot, { recursive: true });
  const staging = join(args.backupRoot, stagingName("creating", args.backupId));
  try {
    const stagedData = join(staging, BACKUP_DATA_FOLDER);
    await mkdir(stagedData, { recursive: true });
    const paths = await listDataFiles(args.dataDir);
    // Folders first (each once), then the files, several at a time; the manifest keeps path order.
    for (const folder of new Set(paths.map((path) => dirname(nativePath(stagedData, path))))) {
      await mkdir(folder, { recursive: true });
    }
    const copied = await mapLimited(paths, args.concurrency ?? copyConcurrency, (path) =>
      copyConsistently(args, path, nativePath(stagedData, path)),
    );
    const files = copied.filter((entry): entry is BackupFileEntry => entry !== undefined);
    const manifest: BackupManifest = {
      formatVersion: BACKUP_FORMAT_VERSION,
      backupId: args.backupId,
      createdAt,
      sourceDir: args.dataDir,
      fileCount: files.length,
      bytes: files.reduce((sum, file) => sum + file.size, 0),
      digest: digestOfEntries(files),
      files,
    };
    await writeFile(join(staging, BACKUP_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(staging, backupDir);
    return summarize(backupDir, manifest);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
