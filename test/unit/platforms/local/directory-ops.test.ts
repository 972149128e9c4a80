import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkDirectoryInputs,
  createDirectory,
  deleteDirectory,
  directoryReplaceKeys,
  handlers,
  readDirectory,
} from "../../../../platforms/local/directory-ops";

describe("checkDirectoryInputs", () => {
  it("defaults removeOnDelete to ifEmpty", () => {
    expect(checkDirectoryInputs({ path: ".shipgate/a" })).toEqual({
      inputs: { path: ".shipgate/a", removeOnDelete: "ifEmpty" },
      failures: [],
    });
  });

  it("names each invalid property", () => {
    expect(checkDirectoryInputs({ path: "../x", removeOnDelete: "sometimes" }).failures).toEqual([
      {
        property: "path",
        reason: 'expected a path inside the project folder (relative, without ".."), got "../x"',
      },
      { property: "removeOnDelete", reason: 'expected one of ifEmpty, always, never, got "sometimes"' },
    ]);
    expect(checkDirectoryInputs({}).failures).toEqual([
      { property: "path", reason: "expected a non-empty string" },
    ]);
    expect(checkDirectoryInputs({ path: "/etc" }).failures[0]?.property).toBe("path");
  });
});

describe("directoryReplaceKeys", () => {
  it("replaces on a new path only", () => {
    expect(
      directoryReplaceKeys(
        { path: "a", removeOnDelete: "ifEmpty" },
        { path: "b", removeOnDelete: "ifEmpty" },
      ),
    ).toEqual(["path"]);
    expect(
      directoryReplaceKeys({ path: "a", removeOnDelete: "ifEmpty" }, { path: "a", removeOnDelete: "never" }),
    ).toEqual([]);
  });
});

describe("directory lifecycle", () => {
  let project: string;
  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), "shipgate-dir-"));
  });
  afterEach(() => rmSync(project, { recursive: true, force: true }));

  it("creates, reads back and removes an empty directory", async () => {
    const outs = await createDirectory(project, { path: "w/a", removeOnDelete: "ifEmpty" });
    expect(outs).toEqual({ path: "w/a", removeOnDelete: "ifEmpty", absolutePath: join(project, "w/a") });
    expect(statSync(join(project, "w/a")).isDirectory()).toBe(true);
    expect(await readDirectory(project, outs)).toEqual(outs);
    expect(await deleteDirectory(project, outs)).toBe("removed");
    expect(existsSync(join(project, "w/a"))).toBe(false);
    expect(await readDirectory(project, outs)).toBeUndefined();
    expect(await deleteDirectory(project, outs)).toBe("absent");
  });

  it("keeps a directory that holds files unless told to remove it always", async () => {
    const outs = await createDirectory(project, { path: "data", removeOnDelete: "ifEmpty" });
    writeFileSync(join(project, "data", "keep.txt"), "x");
    expect(await deleteDirectory(project, outs)).toBe("kept");
    expect(existsSync(join(project, "data", "keep.txt"))).toBe(true);
    expect(await deleteDirectory(project, { ...outs, removeOnDelete: "never" })).toBe("kept");
    expect(await deleteDirectory(project, { ...outs, removeOnDelete: "always" })).toBe("removed");
    expect(existsSync(join(project, "data"))).toBe(false);
  });

  it("refuses a path that resolves outside the project", async () => {
    await expect(createDirectory(project, { path: "../escape", removeOnDelete: "ifEmpty" })).rejects.toThrow(
      /resolves outside the project folder/,
    );
  });
});

describe("the Directory provider's handlers", () => {
  it("replaces on a new path, updates in place on a new removal policy, and forgets a directory gone from disk", async () => {
    const olds = { path: "w/a", removeOnDelete: "ifEmpty" as const, absolutePath: "/p/w/a" };
    expect(await handlers.diff("/p", "w/a", olds, { path: "w/b", removeOnDelete: "ifEmpty" })).toEqual({
      changes: true,
      replaces: ["path"],
      deleteBeforeReplace: false,
    });
    expect(await handlers.diff("/p", "w/a", olds, { path: "w/a", removeOnDelete: "never" })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const project = mkdtempSync(join(tmpdir(), "shipgate-dir-"));
    try {
      expect(await handlers.read?.(project, "w/a", { ...olds, absolutePath: join(project, "w/a") })).toEqual({
        id: "",
        props: { ...olds, absolutePath: join(project, "w/a") },
      });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
