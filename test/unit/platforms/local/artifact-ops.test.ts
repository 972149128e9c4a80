import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyArtifact, listTreeFiles, treeDigest } from "../../../../platforms/local/artifact-ops";

let dir: string;

function write(root: string, path: string, content: string): void {
  const full = join(root, ...path.split("/"));
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "shipgate-artifact-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("treeDigest", () => {
  it("is the documented hash over sorted `path\\0sha256\\n` lines", async () => {
    const tree = join(dir, "tree");
    write(tree, "server.mjs", "console.log(1)\n");
    write(tree, "migrations/0002.mjs", "export {};\n");
    write(tree, "a.json", "{}");
    const lines =
      `a.json\0${sha256("{}")}\n` +
      `migrations/0002.mjs\0${sha256("export {};\n")}\n` +
      `server.mjs\0${sha256("console.log(1)\n")}\n`;
    expect(await treeDigest(tree)).toBe(`sha256:${sha256(lines)}`);
    expect((await listTreeFiles(tree)).map((file) => file.path)).toEqual([
      "a.json",
      "migrations/0002.mjs",
      "server.mjs",
    ]);
  });

  it("does not depend on creation order, timestamps or empty directories", async () => {
    const first = join(dir, "first");
    const second = join(dir, "second");
    write(first, "b/x.txt", "x");
    write(first, "a.txt", "a");
    write(second, "a.txt", "a");
    mkdirSync(join(second, "empty"));
    write(second, "b/x.txt", "x");
    expect(await treeDigest(second)).toBe(await treeDigest(first));
  });

  it("changes when one byte or one name changes", async () => {
    const tree = join(dir, "tree");
    write(tree, "a.txt", "hello");
    const before = await treeDigest(tree);
    write(tree, "a.txt", "hellp");
    const changed = await treeDigest(tree);
    expect(changed).not.toBe(before);
    rmSync(join(tree, "a.txt"));
    write(tree, "b.txt", "hello");
    expect(await treeDigest(tree)).not.toBe(before);
    expect(await treeDigest(tree)).not.toBe(changed);
  });

  it("refuses a symlink, naming it", async () => {
    const tree = join(dir, "tree");
    write(tree, "a.txt", "a");
    symlinkSync(join(tree, "a.txt"), join(tree, "link"));
    await expect(treeDigest(tree)).rejects.toThrow(
      `artifact ${tree} holds link, which is not a regular file`,
    );
  });
});

describe("copyArtifact", () => {
  it("copies a build whose digest matches, replacing the slot, and verifies the copy", async () => {
    const source = join(dir, "build");
    const slot = join(dir, "slots", "blue");
    write(source, "server.mjs", "v2");
    write(source, "migrations/0002.mjs", "m");
    write(slot, "stale.txt", "from the previous release");
    const digest = await treeDigest(source);
    expect(await copyArtifact(source, slot, digest)).toEqual({ digest, files: 2 });
    expect(await treeDigest(slot)).toBe(digest);
    expect(existsSync(join(slot, "stale.txt"))).toBe(false);
    expect(readdirSync(join(dir, "slots"))).toEqual(["blue"]);
  });

  it("refuses a build whose digest differs, naming both, and leaves the slot alone", async () => {
    const source = join(dir, "build");
    const slot = join(dir, "slot");
    write(source, "server.mjs", "v2");
    write(slot, "server.mjs", "v1");
    const actual = await treeDigest(source);
    const expected = `sha256:${"0".repeat(64)}`;
    await expect(copyArtifact(source, slot, expected)).rejects.toThrow(
      `artifact ${source} has digest ${actual}, expected ${expected}: refusing to copy it`,
    );
    expect(readdirSync(dir).sort()).toEqual(["build", "slot"]);
    expect(await treeDigest(slot)).not.toBe(actual);
    await expect(copyArtifact(source, slot, "abc")).rejects.toThrow(
      'expectedDigest: expected "sha256:" and 64 hex digits, got "abc"',
    );
  });
});
