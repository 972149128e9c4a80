// Inputs the release model refuses before anything is planned: oversized manifests, ambiguous
// migrations, artifact sources that are paths, config keys that are no environment variable names,
// and manifest files that are not regular files inside the project.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_MANIFEST_BYTES, checkManifest, parseManifest, readManifestInProject } from "../../../release";
import { exampleData, exampleText, setAt } from "./fixtures";

function issuesOf(data: unknown): string[] {
  const check = checkManifest(data);
  return check.ok ? [] : check.issues.map((issue) => `${issue.path}: ${issue.message}`);
}

describe("manifest input limits and shapes", () => {
  it("refuses a manifest over the size limit before parsing it, saying the limit", () => {
    const padding = `# ${"x".repeat(MAX_MANIFEST_BYTES)}\n`;
    const check = parseManifest(exampleText("standard-full") + padding);
    expect(check.ok).toBe(false);
    expect(check.issues[0]?.message).toMatch(
      /^the manifest has \d+ bytes, more than the 262144 bytes \(256 KiB\) a manifest may have/,
    );
    expect(parseManifest(exampleText("standard-full")).ok).toBe(true);
  });

  it("refuses duplicate migration ids, naming the second and the first", () => {
    const data = exampleData("standard-full");
    setAt(
      data,
      ["components", 0, "database", "migrations"],
      [
        { id: "0001_add", description: "adds", backwardCompatible: true },
        { id: "0002_more", description: "more", backwardCompatible: true },
        { id: "0001_add", description: "again", backwardCompatible: true },
      ],
    );
    expect(issuesOf(data)).toEqual([
      'components[0].database.migrations[2].id: duplicate migration id "0001_add": migrations[0] has it already',
    ]);
  });

  it.each(["/opt/builds/payments", "../payments", "builds/../../etc", "builds\\payments"])(
    "refuses the artifact source %s, a path rather than a name",
    (source) => {
      const data = exampleData("standard-full");
      setAt(data, ["components", 0, "artifact", "source"], source);
      expect(issuesOf(data)).toEqual([
        "components[0].artifact.source: expected a repository or package name, not an absolute path or one that climbs with ..",
      ]);
    },
  );

  it.each(["PAYMENT METHODS", "1ST_KEY", "PATH=/tmp", "KEY-NAME", ""])(
    "refuses the config change key %j, which is no environment variable name",
    (key) => {
      const data = exampleData("standard-full");
      setAt(data, ["components", 0, "configChanges", 0, "key"], key);
      expect(issuesOf(data)).toEqual([
        "components[0].configChanges[0].key: expected an environment variable name: letters, digits and _, not starting with a digit",
      ]);
    },
  );
});

describe("config changes that name a stack secret", () => {
  const change = (value: Record<string, unknown>) => {
    const data = exampleData("standard-full");
    setAt(data, ["components", 0, "configChanges", 0], value);
    return issuesOf(data);
  };

  it("accepts a change that names a secret instead of carrying a value", () => {
    expect(change({ key: "API_TOKEN", secret: "paymentsApiToken" })).toEqual([]);
  });

  it("refuses a change with both a value and a secret, or with neither", () => {
    const expected =
      "expected either a value or the name of a stack secret (secret: <name>), exactly one of the two";
    expect(change({ key: "API_TOKEN", value: "x", secret: "token" })).toEqual([
      `components[0].configChanges[0].secret: ${expected}`,
    ]);
    expect(change({ key: "API_TOKEN" })).toEqual([`components[0].configChanges[0].value: ${expected}`]);
  });

  it.each(["9lives", "with.dot", "with space", "a".repeat(65)])("refuses the secret name %j", (secret) => {
    expect(change({ key: "API_TOKEN", secret })).toEqual([
      "components[0].configChanges[0].secret: expected a secret name: a letter, then letters, digits, _ or -, at most 64 characters",
    ]);
  });
});

describe("readManifestInProject", () => {
  let project: string;
  let outside: string;

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), "shipgate-project-"));
    outside = mkdtempSync(join(tmpdir(), "shipgate-outside-"));
    mkdirSync(join(project, "releases"));
    writeFileSync(join(project, "releases", "ok.yaml"), exampleText("standard-full"));
    writeFileSync(join(outside, "elsewhere.yaml"), exampleText("standard-full"));
    symlinkSync(join(outside, "elsewhere.yaml"), join(project, "releases", "out.yaml"));
    symlinkSync("ok.yaml", join(project, "releases", "link-in.yaml"));
    symlinkSync("/dev/null", join(project, "releases", "device.yaml"));
    writeFileSync(join(project, "releases", "big.yaml"), "a".repeat(MAX_MANIFEST_BYTES + 1));
  });

  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it("reads a manifest inside the project, also through a symlink that stays inside", () => {
    for (const file of ["releases/ok.yaml", "releases/link-in.yaml"]) {
      const read = readManifestInProject(project, file);
      expect(read.ok && read.check.ok).toBe(true);
    }
  });

  it.each([
    ["releases/missing.yaml", "does not exist"],
    ["releases", "is a directory, expected a manifest file"],
    ["releases/device.yaml", "leads out of the project (to /dev/null)"],
  ])("says %s %s, without a raw errno", (file, problem) => {
    const read = readManifestInProject(project, file);
    expect(read.ok).toBe(false);
    expect(read.ok ? "" : read.problem).toContain(problem);
  });

  it("refuses a symlink that leads out of the project", () => {
    const read = readManifestInProject(project, "releases/out.yaml");
    expect(read).toEqual({
      ok: false,
      problem: expect.stringMatching(
        /^leads out of the project \(to .*elsewhere\.yaml\), expected a file inside /,
      ) as unknown,
    });
  });

  it("refuses an oversized file from its size, before reading it", () => {
    const read = readManifestInProject(project, "releases/big.yaml");
    expect(read.ok && !read.check.ok && read.check.issues[0]?.message).toMatch(
      /^the manifest has 262145 bytes/,
    );
  });
});
