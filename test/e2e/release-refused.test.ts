// Releases the program refuses, on the real engine, on a stack that serves the sample app: each is
// refused with an error naming the config key or input at fault, and changes nothing at all: the same
// processes run, the stack's folder holds the same files with the same contents, users get the same
// version, and the state is the same resource for resource.
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createReleaseStack,
  fetchLocal,
  filesUnder,
  processesUnder,
  refusedUp as refusedUpOf,
  type ReleaseStack,
  snapshotStack,
  type StackSnapshot,
  testPort,
} from "./harness";
import { root } from "../../scripts/lib/engine.mjs";

const port = testPort(21200);

describe("releases the program refuses change nothing", () => {
  let stack: ReleaseStack;

  const snapshot = () => snapshotStack(stack);
  const refusedUp = () => refusedUpOf(stack);

  let before: StackSnapshot;
  /** Manifests the input tests write, inside the project but outside the stack's folder. */
  let inputsDir: string;
  const outsideFile = join(tmpdir(), `shipgate-e2e-outside-${process.pid}.yaml`);
  const v2 = () => readFileSync(join(root, "releases", "sample-app", "v2.yaml"), "utf8");

  /** Points shipgate:manifest at `file` (relative to the inputs folder) and runs a refused `up`. */
  const refusedManifest = async (file: string): Promise<string> => {
    await stack.stack.setConfig("shipgate:manifest", { value: `.shipgate/${stack.name}-inputs/${file}` });
    return refusedUp();
  };

  beforeAll(async () => {
    stack = await createReleaseStack({ port, service: { stateful: false } });
    inputsDir = join(root, ".shipgate", `${stack.name}-inputs`);
    mkdirSync(inputsDir, { recursive: true });
    // The stack's own copy of the builds, which the tests below tamper with (the shared ones stay as built).
    cpSync(join(root, ".shipgate", "artifacts", "sample-app"), join(inputsDir, "artifacts"), {
      recursive: true,
    });
    await stack.configureService({ stateful: false, artifacts: `.shipgate/${stack.name}-inputs/artifacts` });
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    before = await snapshot();
    expect(before.served).toBe('{"version":"1.0.0","schema":1}\n');
    // The router, its nginx (master and one worker), its supervisor and blue.
    expect(before.pids).toHaveLength(5);
  });

  afterAll(async () => {
    await stack?.dispose();
    if (inputsDir) rmSync(inputsDir, { recursive: true, force: true });
    rmSync(outsideFile, { force: true });
  });

  /** A fresh copy of build 2.0.0 in the stack's artifacts, for a test to tamper with. */
  const freshBuild = (): string => {
    const dir = join(inputsDir, "artifacts", "2.0.0");
    rmSync(dir, { recursive: true, force: true });
    cpSync(join(root, ".shipgate", "artifacts", "sample-app", "2.0.0"), dir, { recursive: true });
    return dir;
  };

  it("refuses a misspelt shipgate:manifest key, naming it, and deletes nothing", async () => {
    await stack.stack.removeConfig("shipgate:manifest");
    await stack.stack.setConfig("shipgate:manifst", { value: "releases/sample-app/v2.yaml" });
    const message = await refusedUp();
    expect(message).toContain("shipgate:manifst: unknown key (did you mean shipgate:manifest?)");
    expect(await snapshot()).toEqual(before);
    await stack.stack.removeConfig("shipgate:manifst");
  });

  it("refuses a stack with no manifest, saying how to take the services down on purpose", async () => {
    const message = await refusedUp();
    expect(message).toContain("names no release manifest (shipgate:manifest is not set)");
    expect(message).toContain("config set shipgate:retire true");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses an empty shipgate:manifest", async () => {
    await stack.stack.setConfig("shipgate:manifest", { value: "" });
    const message = await refusedUp();
    expect(message).toContain("shipgate:manifest: expected a non-empty path");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a manifest file that does not exist, naming shipgate:manifest", async () => {
    const message = await refusedManifest("missing.yaml");
    expect(message).toContain(
      `The release manifest .shipgate/${stack.name}-inputs/missing.yaml (shipgate:manifest) does not exist.`,
    );
    expect(message).not.toContain("ENOENT");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a directory as the manifest, naming shipgate:manifest", async () => {
    mkdirSync(join(inputsDir, "a-folder"));
    const message = await refusedManifest("a-folder");
    expect(message).toContain("(shipgate:manifest) is a directory, expected a manifest file");
    expect(message).not.toContain("EISDIR");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a manifest path that is a symlink out of the project", async () => {
    writeFileSync(outsideFile, v2());
    symlinkSync(outsideFile, join(inputsDir, "out.yaml"));
    const message = await refusedManifest("out.yaml");
    expect(message).toContain(`(shipgate:manifest) leads out of the project (to ${outsideFile})`);
    expect(await snapshot()).toEqual(before);
  });

  it("refuses an oversized manifest in preview and in up, before any change", async () => {
    writeFileSync(join(inputsDir, "big.yaml"), `${v2()}# ${"x".repeat(300 * 1024)}\n`);
    await stack.stack.setConfig("shipgate:manifest", { value: `.shipgate/${stack.name}-inputs/big.yaml` });
    await expect(stack.stack.preview()).rejects.toThrow(
      "more than the 262144 bytes (256 KiB) a manifest may have",
    );
    const message = await refusedUp();
    expect(message).toContain("more than the 262144 bytes (256 KiB) a manifest may have");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses duplicate migration ids, a config key that is no environment variable, an artifact source that climbs", async () => {
    const edited = v2()
      .replace(
        "          backwardCompatible: true\n",
        '          backwardCompatible: true\n        - id: "0002_add_created_at"\n          description: again\n          backwardCompatible: true\n',
      )
      .replace("configChanges: []", "configChanges: [{ key: 'FEATURE FLAG', value: on }]")
      .replace("source: .shipgate/artifacts/sample-app", "source: ../artifacts/sample-app");
    writeFileSync(join(inputsDir, "bad-shapes.yaml"), edited);
    const message = await refusedManifest("bad-shapes.yaml");
    expect(message).toContain("(shipgate:manifest) is not valid");
    expect(message).toContain(
      'components[0].database.migrations[1].id: duplicate migration id "0002_add_created_at": migrations[0] has it already',
    );
    expect(message).toContain("components[0].configChanges[0].key: expected an environment variable name");
    expect(message).toContain("components[0].artifact.source: expected a repository or package name");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a build edited after approval in preview and in up, before the backup, notifications or any slot step", async () => {
    const build = freshBuild();
    appendFileSync(join(build, "server.mjs"), "\n// edited after approval\n");
    await stack.stack.setConfig("shipgate:manifest", { value: "releases/sample-app/v2.yaml" });
    await expect(stack.stack.preview()).rejects.toThrow("but the manifest pins");
    const message = await refusedUp();
    expect(message).toMatch(
      /The build of sample-app 2\.0\.0 in \.shipgate\/[^ ]+\/artifacts\/2\.0\.0 has digest sha256:[0-9a-f]{64}, but the manifest pins sha256:fdc002bf/,
    );
    expect(message).toContain("Nothing was changed");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a build holding a symlink, and one that is itself a symlink out of the artifacts", async () => {
    const build = freshBuild();
    symlinkSync("/etc/hostname", join(build, "extra"));
    expect(await refusedUp()).toContain("holds extra, which is not a regular file or directory");
    expect(await snapshot()).toEqual(before);

    rmSync(build, { recursive: true, force: true });
    const elsewhere = join(inputsDir, "elsewhere-2.0.0");
    cpSync(join(root, ".shipgate", "artifacts", "sample-app", "2.0.0"), elsewhere, { recursive: true });
    symlinkSync(elsewhere, build);
    expect(await refusedUp()).toContain("is a symlink; a build must be a real folder");
    expect(await snapshot()).toEqual(before);
    rmSync(build, { force: true });
    freshBuild();
  });

  it("takes the services down when asked to with shipgate:retire, keeping the stack's data and records", async () => {
    await stack.stack.removeConfig("shipgate:manifest");
    await stack.stack.setConfig("shipgate:retire", { value: "true" });
    const up = await stack.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(processesUnder(stack.workDirPath)).toEqual([]);
    await expect(fetchLocal(port, "/version")).rejects.toThrow();
    expect(filesUnder(stack.workDirPath)).toContain("records/latest.json");
  });
});
