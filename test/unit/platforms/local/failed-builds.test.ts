// The keep-or-clean decision for a build that failed to start or failed its gate (keepFailedBuilds):
// with 0 the stopped build's folder is removed and nothing is kept; with N its folder, log and a note
// are moved to services/<service>/failed/<id>/, the N newest stay, and no secret value is kept.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  keptBuildId,
  keptNoteFile,
  planKeptBuilds,
  setAsideFailedBuild,
  type SetAsideArgs,
} from "../../../../platforms/local/failed-builds";
import { failedBuildsDirOf, servicePaths } from "../../../../platforms/local/layout";

const at = (minute: number) => new Date(`2026-11-30T10:${String(minute).padStart(2, "0")}:00.000Z`);

describe("planKeptBuilds", () => {
  const older = keptBuildId(at(1), "green", "2.0.0");
  const newer = keptBuildId(at(2), "blue", "3.0.0");

  it("names a kept build by when it failed, its colour and its version, so names sort by age", () => {
    expect(older).toBe("2026-11-30T10-01-00-000Z-green-2.0.0");
    expect(keptBuildId(at(3), "blue", "1.0.0+build/7")).toBe("2026-11-30T10-03-00-000Z-blue-1.0.0_build_7");
    expect([newer, older].sort()).toEqual([older, newer]);
  });

  it("keeps nothing and touches nothing with 0 (the default)", () => {
    expect(planKeptBuilds([], 0)).toEqual({ keep: false, remove: [] });
    expect(planKeptBuilds([older, newer], 0)).toEqual({ keep: false, remove: [] });
  });

  it("keeps the new one and removes the oldest so that at most N remain", () => {
    expect(planKeptBuilds([], 1)).toEqual({ keep: true, remove: [] });
    expect(planKeptBuilds([newer, older], 1)).toEqual({ keep: true, remove: [older, newer] });
    expect(planKeptBuilds([newer, older], 2)).toEqual({ keep: true, remove: [older] });
    expect(planKeptBuilds([newer, older], 3)).toEqual({ keep: true, remove: [] });
  });

  it("never counts or removes what it did not name (an operator's notes, a copy)", () => {
    expect(planKeptBuilds([older, "notes.txt", "copy-of-build"], 1)).toEqual({ keep: true, remove: [older] });
  });

  it("refuses a bound that is not a whole number of 0 or more", () => {
    expect(() => planKeptBuilds([], -1)).toThrow(
      "keepFailedBuilds: expected a whole number of 0 or more, got -1",
    );
    expect(() => planKeptBuilds([], 1.5)).toThrow("got 1.5");
  });
});

describe("setAsideFailedBuild", () => {
  const secret = "unit-secret-value-7f3a";
  let projectDir: string;
  let slotDir: string;

  /** A colour folder as a stopped failed build leaves it: the build, its log, a spec and a restart file. */
  const failedColour = (log: string) => {
    mkdirSync(join(slotDir, "app", "lib"), { recursive: true });
    writeFileSync(join(slotDir, "app", "server.mjs"), "console.log('starting');\n");
    writeFileSync(join(slotDir, "app", "lib", "cache.txt"), `token=${secret}\n`);
    writeFileSync(join(slotDir, "app.log"), log);
    writeFileSync(join(slotDir, "restart.json"), '{"env":{"GREETING":"hello"}}\n');
  };

  const args = (keep: number, minute: number, version = "3.0.0"): SetAsideArgs => ({
    projectDir,
    slotDir,
    keep,
    note: {
      service: "web",
      color: "green",
      version,
      digest: "sha256:" + "a".repeat(64),
      stage: "gate",
      reason: `pre-promotion gate failed: /health answered 500 (it printed ${secret})`,
    },
    secrets: [secret],
    now: at(minute),
  });

  beforeEach(() => {
    projectDir = mkdtempSync(join(tmpdir(), "shipgate-failed-builds-"));
    slotDir = servicePaths(join(projectDir, ".shipgate", "unit"), "web").slot("green").dir;
  });

  afterEach(() => rmSync(projectDir, { recursive: true, force: true }));

  it("with 0: removes the stopped build's folder, leaves its log in the colour and keeps nothing", async () => {
    failedColour("listening\n");
    const aside = await setAsideFailedBuild(args(0, 1));
    expect(aside).toEqual({ note: "" });
    expect(existsSync(join(slotDir, "app"))).toBe(false);
    expect(readFileSync(join(slotDir, "app.log"), "utf8")).toBe("listening\n");
    expect(existsSync(failedBuildsDirOf(slotDir))).toBe(false);
  });

  it("with N: moves the folder and the log to failed/<id>/ with a note, redacting every secret value", async () => {
    failedColour(`listening\nGET /health 500 (token ${secret})\n`);
    const aside = await setAsideFailedBuild(args(2, 1));
    const id = "2026-11-30T10-01-00-000Z-green-3.0.0";
    const dest = join(failedBuildsDirOf(slotDir), id);
    expect(aside.kept).toBe(`.shipgate/unit/services/web/failed/${id}`);
    expect(aside.note).toBe(
      `The failed build is kept, stopped, for inspection in .shipgate/unit/services/web/failed/${id} ` +
        "(its folder app/, its log app.log, and failure.json); the 2 newest failed builds of web are kept.",
    );
    // Nothing of the build is left in the colour; what tells the supervisor how to start it is not kept.
    expect(readdirSync(slotDir).sort()).toEqual(["restart.json"]);
    expect(readdirSync(dest).sort()).toEqual(["app", "app.log", keptNoteFile]);
    expect(readFileSync(join(dest, "app", "server.mjs"), "utf8")).toBe("console.log('starting');\n");
    expect(readFileSync(join(dest, "app", "lib", "cache.txt"), "utf8")).toBe("token=[secret]\n");
    expect(readFileSync(join(dest, "app.log"), "utf8")).toBe("listening\nGET /health 500 (token [secret])\n");
    expect(JSON.parse(readFileSync(join(dest, keptNoteFile), "utf8"))).toEqual({
      service: "web",
      color: "green",
      version: "3.0.0",
      digest: "sha256:" + "a".repeat(64),
      stage: "gate",
      reason: "pre-promotion gate failed: /health answered 500 (it printed [secret])",
      keptAt: "2026-11-30T10:01:00.000Z",
    });
    expect(statSync(dest).mode & 0o777).toBe(0o700);
    expect(statSync(join(dest, keptNoteFile)).mode & 0o777).toBe(0o600);
    for (const file of ["app.log", keptNoteFile, "app/lib/cache.txt"]) {
      expect(readFileSync(join(dest, file), "utf8")).not.toContain(secret);
    }
  });

  it("keeps the N newest: a third failure with 2 removes the oldest one", async () => {
    for (const minute of [1, 2, 3]) {
      failedColour(`build of minute ${minute}\n`);
      const aside = await setAsideFailedBuild(args(2, minute, `3.0.${minute}`));
      if (minute === 3) expect(aside.note).toContain("are kept, so 1 older one was removed.");
    }
    expect(readdirSync(failedBuildsDirOf(slotDir)).sort()).toEqual([
      "2026-11-30T10-02-00-000Z-green-3.0.2",
      "2026-11-30T10-03-00-000Z-green-3.0.3",
    ]);
  });

  it("keeps nothing when the colour holds no build any more (a retry against a stopped colour)", async () => {
    mkdirSync(slotDir, { recursive: true });
    expect(await setAsideFailedBuild(args(2, 1))).toEqual({ note: "" });
    expect(existsSync(failedBuildsDirOf(slotDir))).toBe(false);
  });

  it("removes the build instead, and says so, when it cannot be kept; never throws", async () => {
    failedColour("listening\n");
    // A file where the folder of kept builds should be: nothing can be kept under it.
    writeFileSync(failedBuildsDirOf(slotDir), "not a folder");
    const aside = await setAsideFailedBuild(args(2, 1));
    expect(aside.kept).toBeUndefined();
    expect(aside.note).toMatch(/^The failed build could not be kept for inspection \(.*(EEXIST|ENOTDIR)/);
    expect(existsSync(join(slotDir, "app"))).toBe(false);
  });
});
