import { describe, expect, it } from "vitest";
import {
  insideAllowedRoot,
  localDirectoryType,
  localFilesInNamedFolders,
} from "../../../policies/rules/local-files-in-named-folders";
import { runResourcePolicy } from "./harness";

const directory = (path: unknown) => ({ type: localDirectoryType, name: "workdir", props: { path } });

describe("local-files-in-named-folders", () => {
  it("is named, described and mandatory by default", () => {
    expect(localFilesInNamedFolders.name).toBe("local-files-in-named-folders");
    expect(localFilesInNamedFolders.enforcementLevel).toBe("mandatory");
    expect(localFilesInNamedFolders.description).toMatch(/^The .+\.$/);
  });

  it("passes a working directory under .shipgate/", async () => {
    expect(await runResourcePolicy(localFilesInNamedFolders, directory(".shipgate/local"))).toEqual({
      violations: [],
    });
  });

  it("reports a working directory outside the allowed folders, naming the resource and the fix", async () => {
    expect(await runResourcePolicy(localFilesInNamedFolders, directory("tmpwork"))).toEqual({
      violations: [
        'Move the working directory of workdir ("tmpwork") under one of: .shipgate. ' +
          "Set shipgate:workDir in the stack's config, or add the folder to this policy's allowedRoots.",
      ],
    });
  });

  it("uses the allowed roots from the policy config", async () => {
    const config = { allowedRoots: ["var/shipgate", ".shipgate"] };
    expect(
      await runResourcePolicy(localFilesInNamedFolders, directory("var/shipgate/x"), { config }),
    ).toEqual({
      violations: [],
    });
    const outside = await runResourcePolicy(localFilesInNamedFolders, directory("var/other"), { config });
    expect(outside.violations).toHaveLength(1);
    expect(outside.violations[0]).toContain("under one of: var/shipgate, .shipgate.");
  });

  it("ignores other resource types", async () => {
    const other = { type: "shipgate:release:Release", name: "r", props: { path: "/etc" } };
    expect(await runResourcePolicy(localFilesInNamedFolders, other)).toEqual({ violations: [] });
  });

  it.each([
    [".shipgate", true],
    ["./.shipgate/a/b", true],
    [".shipgate/../etc", false],
    [".shipgateX/a", false],
    ["/abs/.shipgate", false],
    ["a/.shipgate", false],
  ])("insideAllowedRoot(%s) is %s", (path, expected) => {
    expect(insideAllowedRoot(path, [".shipgate"])).toBe(expected);
  });
});
