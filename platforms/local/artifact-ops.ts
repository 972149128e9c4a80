// Build artifacts of the local platform: a tree digest that names a build by its bytes, and a
// verified copy of a build into a slot directory. Used by the providers and by
// scripts/build-sample-app.mjs (through dist/), so the digest is computed in exactly one place.
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, readFileSync, readdirSync } from "node:fs";
import { copyFile, mkdir, readFile, readdir, rename, rm } from "node:fs/promises";
import { dirname, join, posix, relative, sep } from "node:path";

export interface TreeFile {
  /** Relative to the tree's root, with forward slashes. */
  readonly path: string;
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

/** Every regular file under `dir`, sorted by path. Anything else but a directory is refused. */
export async function listTreeFiles(dir: string): Promise<TreeFile[]> {
  const paths: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) paths.push(full);
      else {
        throw new Error(
          `artifact ${dir} holds ${relative(dir, full)}, which is not a regular file or directory ` +
            "(symlinks, sockets and devices are not allowed in an artifact)",
        );
      }
    }
  };
  await walk(dir);
  const files = await Promise.all(
    paths.map(async (full) => ({
      path: relative(dir, full).split(sep).join(posix.sep),
      sha256: createHash("sha256")
        .update(await readFile(full))
        .digest("hex"),
    })),
  );
  // Byte order, not locale order, so every machine sorts the same way.
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * listTreeFiles without awaiting, for the program itself: it checks a build before it declares
 * anything, preview included. The build's folder must be a real folder too, not a symlink to one.
 */
export function listTreeFilesSync(dir: string): TreeFile[] {
  if (lstatSync(dir).isSymbolicLink()) {
    throw new Error(
      `artifact ${dir} is a symlink; a build must be a real folder inside the artifacts folder`,
    );
  }
  const files: TreeFile[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        files.push({
          path: relative(dir, full).split(sep).join(posix.sep),
          sha256: createHash("sha256").update(readFileSync(full)).digest("hex"),
        });
      } else {
        throw new Error(
          `artifact ${dir} holds ${relative(dir, full)}, which is not a regular file or directory ` +
            "(symlinks, sockets and devices are not allowed in an artifact)",
        );
      }
    }
  };
  walk(dir);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The digest of a list of files, as treeDigest computes it. */
export function digestOfFiles(files: readonly TreeFile[]): string {
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file.path}\0${file.sha256}\n`, "utf8");
  return `sha256:${hash.digest("hex")}`;
}

/**
 * "sha256:" + hex SHA-256 over the UTF-8 lines `<relative posix path>\0<hex sha256 of bytes>\n`
 * of every regular file, sorted by path. Timestamps, modes and empty directories do not count.
 */
export async function treeDigest(dir: string): Promise<string> {
  return digestOfFiles(await listTreeFiles(dir));
}

const digestPattern = /^sha256:[0-9a-f]{64}$/;

/**
 * Copies the build in `sourceDir` to `destDir` (replacing what was there) when its digest is
 * `expectedDigest`, and verifies the copy. Throws, naming both digests, when either differs; a failed
 * copy never leaves a half-written `destDir`.
 */
export async function copyArtifact(
  sourceDir: string,
  destDir: string,
  expectedDigest: string,
): Promise<{ digest: string; files: number }> {
  if (!digestPattern.test(expectedDigest)) {
    throw new Error(
      `expectedDigest: expected "sha256:" and 64 hex digits, got ${JSON.stringify(expectedDigest)}`,
    );
  }
  const files = await listTreeFiles(sourceDir);
  const sourceDigest = digestOfFiles(files);
  if (sourceDigest !== expectedDigest) {
    throw new Error(
      `artifact ${sourceDir} has digest ${sourceDigest}, expected ${expectedDigest}: refusing to copy it`,
    );
  }
  const staging = `${destDir}.staging-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    for (const file of files) {
      const target = join(staging, ...file.path.split(posix.sep));
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(sourceDir, ...file.path.split(posix.sep)), target);
    }
    await mkdir(staging, { recursive: true });
    const copiedDigest = await treeDigest(staging);
    if (copiedDigest !== expectedDigest) {
      throw new Error(
        `copy of ${sourceDir} in ${destDir} has digest ${copiedDigest}, expected ${expectedDigest}`,
      );
    }
    await rm(destDir, { recursive: true, force: true });
    await mkdir(dirname(destDir), { recursive: true });
    await rename(staging, destDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { digest: expectedDigest, files: files.length };
}
