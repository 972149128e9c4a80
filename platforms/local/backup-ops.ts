// Backups of a service's data directory, as plain functions: the backup dynamic provider only calls
// these, and unit tests call them directly. No Pulumi imports, so the provider can load this module
// with `await import()` inside its methods.
//
// On disk, under the backup root:
//   <backupId>/data/...          a copy of the data directory
//   <backupId>/manifest.json     every file (posix path, size, sha256), the tree digest, totals
// A backup is written under a dot-named temporary folder and renamed into place as a whole, so a
// folder named like a backup id with a manifest.json in it is always a complete backup.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { digestOfFiles } from "./artifact-ops";

export const BACKUP_MANIFEST_FILE = "manifest.json";
export const BACKUP_DATA_FOLDER = "data";
export const BACKUP_FORMAT_VERSION = 1;

/** A backup id is one folder name: letters, digits and . _ -, starting with a letter or digit. */
export const BACKUP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface BackupFileEntry {
  /** Relative to the data directory, with `/` separators. */
  readonly path: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

const fileEntrySchema = z.strictObject({
  path: z
    .string()
    .refine(
      (path) =>
        path.split("/").every((part) => part !== "" && part !== "." && part !== "..") && !path.includes("\\"),
      "expected a relative posix path inside the backup",
    ),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits"),
});

export const backupManifestSchema = z.strictObject({
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  backupId: z.string().regex(BACKUP_ID_PATTERN),
  createdAt: z.iso.datetime({ offset: true }),
  /** The data directory the backup was taken from, for people reading the manifest. */
  sourceDir: z.string(),
  fileCount: z.number().int().min(0),
  bytes: z.number().int().min(0),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  files: z.array(fileEntrySchema),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export interface BackupResult {
  readonly backupId: string;
  /** `<backupRoot>/<backupId>` */
  readonly backupDir: string;
  readonly manifestPath: string;
  readonly digest: string;
  readonly fileCount: number;
  readonly bytes: number;
  readonly createdAt: string;
}

export type BackupSummary = BackupResult;

export type VerifyProblemKind = "missing" | "extra" | "size" | "checksum" | "manifest";

export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  /** The file's relative path; empty for a problem with the manifest as a whole. */
  readonly path: string;
  readonly detail: string;
}

export interface VerifyResult {
  readonly backupId: string;
  readonly ok: boolean;
  /** The digest the manifest records. */
  readonly digest: string;
  readonly checkedFiles: number;
  readonly problems: VerifyProblem[];
}

export interface RestoreResult {
  readonly backupId: string;
  readonly dataDir: string;
  /** Where the data that was in place before the restore now is; undefined if there was none. */
  readonly previousDataDir: string | undefined;
  readonly backupDigest: string;
  readonly restoredDigest: string;
  readonly fileCount: number;
  readonly bytes: number;
}

/** Thrown when a file keeps changing while it is copied: the backup would not be consistent. */
export class BackupConsistencyError extends Error {
  constructor(
    readonly path: string,
    readonly attempts: number,
  ) {
    super(
      `backup: file "${path}" changed while it was being copied (${attempts} attempts); ` +
        "stop the service or pause its writes, then take the backup again",
    );
    this.name = "BackupConsistencyError";
  }
}

/**
 * The tree digest of a list of files, by the rule artifacts use (digestOfFiles in artifact-ops.ts, its
 * one home): "sha256:" + SHA-256 over the lines `<path>\0<sha256>\n`, sorted by path.
 */
function digestOfEntries(files: readonly BackupFileEntry[]): string {
  return digestOfFiles([...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
}

function checkBackupId(backupId: string): void {
  if (!BACKUP_ID_PATTERN.test(backupId)) {
    throw new Error(
      `backup: backupId ${JSON.stringify(backupId)} is not valid: expected letters, digits and . _ - ` +
        "(starting with a letter or digit, at most 128 characters), e.g. chg-2041-20250701T200000Z",
    );
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

/**
 * Every regular file below `root`, as posix paths relative to it, sorted. A missing root is an empty
 * tree. Links and special files are refused: a backup copies data, not pointers to data elsewhere.
 */
async function listDataFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  async function walk(relative: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(relative === "" ? root : join(root, relative), { withFileTypes: true });
    } catch (error) {
      if (relative === "" && errorCode(error) === "ENOENT") return;
      throw error;
    }
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
      else {
        throw new Error(
          `backup: "${path}" in ${root} is not a regular file or folder (a link, socket or device); ` +
            "keep only data files in the data directory",
        );
      }
    }
  }
  await walk("");
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function nativePath(root: string, posixPath: string): string {
  return join(root, ...posixPath.split("/"));
}

/** Size and SHA-256 of one file, streamed. */
async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    hash.update(bytes);
  }
  return { size, sha256: hash.digest("hex") };
}

/**
 * Digest of a directory as it is now, every file hashed as a stream (artifact-ops' treeDigest reads
 * whole files into memory, which suits builds, not data directories). Equal to it for the same tree.
 */
export async function digestDirectory(
  root: string,
): Promise<{ digest: string; files: BackupFileEntry[]; bytes: number }> {
  const files: BackupFileEntry[] = [];
  for (const path of await listDataFiles(root)) {
    files.push({ path, ...(await hashFile(nativePath(root, path))) });
  }
  return { digest: digestOfEntries(files), files, bytes: files.reduce((sum, file) => sum + file.size, 0) };
}

interface FileState {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

async function fileState(path: string): Promise<FileState | undefined> {
  try {
    const info = await stat(path);
    return { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

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

function stagingName(purpose: string, id: string): string {
  return `.${purpose}-${id}-${randomBytes(4).toString("hex")}`;
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

function summarize(backupDir: string, manifest: BackupManifest): BackupResult {
  return {
    backupId: manifest.backupId,
    backupDir,
    manifestPath: join(backupDir, BACKUP_MANIFEST_FILE),
    digest: manifest.digest,
    fileCount: manifest.fileCount,
    bytes: manifest.bytes,
    createdAt: manifest.createdAt,
  };
}

/** The manifest of one backup, or a reason it is not a backup. */
async function readManifest(
  backupDir: string,
): Promise<{ ok: true; manifest: BackupManifest } | { ok: false; reason: string }> {
  let text: string;
  try {
    text = await readFile(join(backupDir, BACKUP_MANIFEST_FILE), "utf8");
  } catch (error) {
    return {
      ok: false,
      reason: `no readable ${BACKUP_MANIFEST_FILE} (${errorCode(error) ?? String(error)})`,
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${BACKUP_MANIFEST_FILE} is not valid JSON` };
  }
  const parsed = backupManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      reason: `${BACKUP_MANIFEST_FILE} field ${first?.path.join(".") || "(root)"}: ${first?.message ?? "invalid"}`,
    };
  }
  const folder = backupDir.split(sep).pop();
  if (parsed.data.backupId !== folder) {
    return { ok: false, reason: `${BACKUP_MANIFEST_FILE} names backup "${parsed.data.backupId}"` };
  }
  return { ok: true, manifest: parsed.data };
}

async function requireManifest(backupRoot: string, backupId: string): Promise<BackupManifest> {
  checkBackupId(backupId);
  const read = await readManifest(join(backupRoot, backupId));
  if (!read.ok) {
    throw new Error(
      `backup "${backupId}" in ${backupRoot} cannot be used: ${read.reason}; ` +
        "check the backupId, or list the backups that exist with listBackups",
    );
  }
  return read.manifest;
}

/** Re-reads every file of a backup and checks it against the manifest: sizes, checksums, the file set. */
export async function verifyBackup(backupRoot: string, backupId: string): Promise<VerifyResult> {
  const manifest = await requireManifest(backupRoot, backupId);
  const dataDir = join(backupRoot, backupId, BACKUP_DATA_FOLDER);
  const problems: VerifyProblem[] = [];
  if (digestOfEntries(manifest.files) !== manifest.digest) {
    problems.push({ kind: "manifest", path: "", detail: "the file list does not match the recorded digest" });
  }
  if (manifest.fileCount !== manifest.files.length) {
    problems.push({
      kind: "manifest",
      path: "",
      detail: `fileCount is ${manifest.fileCount} but ${manifest.files.length} files are listed`,
    });
  }
  const present = new Set(await listDataFiles(dataDir));
  for (const file of manifest.files) {
    if (!present.delete(file.path)) {
      problems.push({
        kind: "missing",
        path: file.path,
        detail: "listed in the manifest but not in the backup",
      });
      continue;
    }
    const actual = await hashFile(nativePath(dataDir, file.path));
    if (actual.size !== file.size) {
      problems.push({
        kind: "size",
        path: file.path,
        detail: `expected ${file.size} bytes, found ${actual.size}`,
      });
    } else if (actual.sha256 !== file.sha256) {
      problems.push({
        kind: "checksum",
        path: file.path,
        detail: `expected sha256 ${file.sha256}, found ${actual.sha256}`,
      });
    }
  }
  for (const path of present) {
    problems.push({ kind: "extra", path, detail: "in the backup but not listed in the manifest" });
  }
  return {
    backupId,
    ok: problems.length === 0,
    digest: manifest.digest,
    checkedFiles: manifest.files.length,
    problems,
  };
}

/** `2025-07-01T20:00:00.000Z` as `20250701T200000000Z`: sortable and safe in a file name. */
function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, "");
}

async function copyTree(from: string, to: string, files: readonly string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const path of files) {
    await mkdir(dirname(nativePath(to, path)), { recursive: true });
    await pipeline(createReadStream(nativePath(from, path)), createWriteStream(nativePath(to, path)));
  }
}

export interface RestoreBackupArgs {
  readonly backupRoot: string;
  readonly backupId: string;
  readonly dataDir: string;
  /** The time in the name of the folder the current data moves to; defaults to now. */
  readonly now?: Date;
}

/**
 * Restores a backup into `dataDir`. The backup is verified first. The restored copy is staged next to
 * `dataDir` and checked against the backup's digest before anything is moved; then the current data
 * moves aside to `<dataDir>.pre-restore-<timestamp>` (nothing is deleted) and the copy takes its place.
 * Stop the service that writes to `dataDir` first: it would keep writing into the folder moved aside.
 */
export async function restoreBackup(args: RestoreBackupArgs): Promise<RestoreResult> {
  const verified = await verifyBackup(args.backupRoot, args.backupId);
  if (!verified.ok) {
    const listed = verified.problems.map((p) => `${p.kind} ${p.path || "manifest"}: ${p.detail}`).join("; ");
    throw new Error(
      `restore: backup "${args.backupId}" failed verification, nothing was changed: ${listed}; ` +
        "restore from another backup",
    );
  }
  const manifest = await requireManifest(args.backupRoot, args.backupId);
  const backupData = join(args.backupRoot, args.backupId, BACKUP_DATA_FOLDER);
  const parent = dirname(args.dataDir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, stagingName("restoring", args.backupId));
  let restoredDigest: string;
  try {
    await copyTree(
      backupData,
      staging,
      manifest.files.map((file) => file.path),
    );
    restoredDigest = (await digestDirectory(staging)).digest;
    if (restoredDigest !== manifest.digest) {
      throw new Error(
        `restore: the restored copy has digest ${restoredDigest}, expected ${manifest.digest}; ` +
          "nothing was changed; check the disk and try again",
      );
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }

  let previousDataDir: string | undefined;
  if ((await lstat(args.dataDir).catch(() => undefined)) !== undefined) {
    previousDataDir = `${args.dataDir}.pre-restore-${compactTimestamp(args.now ?? new Date())}`;
    for (let n = 2; (await fileState(previousDataDir)) !== undefined; n++) {
      previousDataDir = `${args.dataDir}.pre-restore-${compactTimestamp(args.now ?? new Date())}-${n}`;
    }
    await rename(args.dataDir, previousDataDir);
  }
  try {
    await rename(staging, args.dataDir);
  } catch (error) {
    if (previousDataDir !== undefined) await rename(previousDataDir, args.dataDir);
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return {
    backupId: args.backupId,
    dataDir: args.dataDir,
    previousDataDir,
    backupDigest: manifest.digest,
    restoredDigest,
    fileCount: manifest.fileCount,
    bytes: manifest.bytes,
  };
}

/**
 * Every complete backup under `backupRoot`, newest first (by createdAt, then id). Folders without a
 * valid manifest naming them (staging folders, anything foreign) are not backups and are left out.
 */
export async function listBackups(backupRoot: string): Promise<BackupSummary[]> {
  let entries;
  try {
    entries = await readdir(backupRoot, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT") return [];
    throw error;
  }
  const backups: BackupSummary[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !BACKUP_ID_PATTERN.test(entry.name)) continue;
    const backupDir = join(backupRoot, entry.name);
    const read = await readManifest(backupDir);
    if (read.ok) backups.push(summarize(backupDir, read.manifest));
  }
  return backups.sort((a, b) => {
    const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
    return byTime !== 0 ? byTime : a.backupId < b.backupId ? 1 : a.backupId > b.backupId ? -1 : 0;
  });
}

export interface RetentionArgs {
  readonly backupRoot: string;
  /** How many of the newest backups to keep. */
  readonly keep: number;
  /** Backup ids never removed, whatever their age (e.g. the backup of the release in progress). */
  readonly protect?: readonly string[];
}

/**
 * Removes the oldest backups beyond the newest `keep`, except protected ones; only ever folders
 * that are backups (see listBackups). Returns the removed ids, oldest first.
 */
export async function applyRetention(args: RetentionArgs): Promise<string[]> {
  if (!Number.isInteger(args.keep) || args.keep < 0) {
    throw new Error(`retention: keep must be a whole number of zero or more, got ${String(args.keep)}`);
  }
  const protect = new Set(args.protect ?? []);
  const expired = (await listBackups(args.backupRoot))
    .slice(args.keep)
    .filter((backup) => !protect.has(backup.backupId))
    .reverse();
  const removed: string[] = [];
  for (const backup of expired) {
    // Renamed out of the id's name first, so a half-deleted backup is never listed as complete.
    const doomed = join(args.backupRoot, stagingName("removing", backup.backupId));
    await rename(backup.backupDir, doomed);
    await rm(doomed, { recursive: true, force: true });
    removed.push(backup.backupId);
  }
  return removed;
}
