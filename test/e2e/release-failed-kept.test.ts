// A failed build kept for inspection (shipgate:services.<name>.keepFailedBuilds), on the real engine,
// under a bounded load. With the setting on, a build that fails its gate is stopped and its folder, its
// log and a note are moved to services/<service>/failed/<id>/, which the failure record names: nothing
// listens on its port, no process runs from it, the router holds no warm colour to fall back to, and
// the next release (a rollback to the version it displaced) starts that version anew instead of
// routing to it. With the setting off (the default) nothing is kept and the build's folder is removed.
// Destroy removes the kept builds with everything else the stack started; the records stay.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeDigest } from "../../platforms/local/artifact-ops";
import { portAccepts } from "../../platforms/local/process-ops";
import { parseDeploymentRecord, type DeploymentRecord } from "../../platforms/local/record-ops";
import { root } from "../../scripts/lib/engine.mjs";
import {
  createReleaseStack,
  fetchLocal,
  manifestPath,
  processesUnder,
  type ReleaseStack,
  testPort,
} from "./harness";
import { type LoadReport, startLoad, waitForRequests } from "./load";

const port = testPort(21400);
const blue = port + 1;
const green = port + 2;

/** The digest v3-broken.yaml pins: the kept folder must be exactly that build. */
const brokenDigest = (/digest: (sha256:[0-9a-f]{64})/.exec(
  readFileSync(join(root, manifestPath("v3-broken.yaml")), "utf8"),
) ?? [])[1];

describe("a build that failed its gate, kept for inspection or not", () => {
  let stack: ReleaseStack;
  const recordsDir = () => join(stack.workDirPath, "records");
  const failedDir = () => stack.paths.failedDir;
  const kept = (): string[] => (existsSync(failedDir()) ? readdirSync(failedDir()).sort() : []);
  const recordFiles = (): string[] =>
    readdirSync(recordsDir()).filter((name) => name.endsWith(".json") && name !== "latest.json");

  /** Runs `release` under load; what users got meanwhile and the records it added. */
  const underLoad = async <T>(
    release: () => Promise<T>,
  ): Promise<{ outcome: T; load: LoadReport; records: DeploymentRecord[] }> => {
    const before = recordFiles();
    const load = startLoad({ port, clients: 4, pauseMs: 20, maxDurationMs: 240_000 });
    await waitForRequests(load, 20);
    const outcome = await release();
    await waitForRequests(load, 20);
    const report = await load.stop();
    const records = recordFiles()
      .filter((name) => !before.includes(name))
      .map((name) => {
        const parsed = parseDeploymentRecord(JSON.parse(readFileSync(join(recordsDir(), name), "utf8")));
        if (!parsed.ok) throw new Error(`record ${name} is not valid: ${parsed.issues.join("; ")}`);
        return parsed.value;
      });
    return { outcome, load: report, records };
  };

  /** What a stopped failed build leaves in its colour: no build, process, spec or restart file. */
  const expectStoppedColour = async (color: "blue" | "green", colorPort: number) => {
    const slot = stack.paths.slot(color);
    expect(await portAccepts(colorPort)).toBe(false);
    for (const file of [slot.appDir, slot.pidFile, slot.specFile, join(slot.dir, "restart.json")]) {
      expect(existsSync(file), file).toBe(false);
    }
    expect(processesUnder(slot.dir)).toEqual([]);
  };

  beforeAll(async () => {
    expect(brokenDigest).toBeDefined();
    stack = await createReleaseStack({ port, prefix: "dev-insp-kept", service: { keepFailedBuilds: 2 } });
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    expect((await stack.release("v2.yaml")).summary.result).toBe("succeeded");
    // Users on 2.0.0 (green); 1.0.0 warm on blue, the colour the next release deploys to.
    expect(stack.routerState().active).toBe("green");
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it("with keepFailedBuilds on: stops the build, keeps its folder, log and note, and the record names them", async () => {
    const { outcome: error, load, records } = await underLoad(() => stack.releaseFailure("v3-broken.yaml"));
    expect(records).toHaveLength(1);
    const failure = records[0]?.failure;
    expect(failure).toMatchObject({ stage: "gate", served: { version: "2.0.0", color: "green" } });
    const [id] = kept();
    expect(kept()).toEqual([expect.stringMatching(/^[\dT-]+Z-blue-3\.0\.0$/)]);
    const keptDir = join(failedDir(), id ?? "");
    expect(failure?.kept).toBe(`${stack.workDir}/services/sample-app/failed/${id}`);
    expect(error.message).toContain(`The failed build is kept, stopped, for inspection in ${failure?.kept} `);

    expect(readdirSync(keptDir).sort()).toEqual(["app", "app.log", "failure.json"]);
    expect(await treeDigest(join(keptDir, "app"))).toBe(brokenDigest);
    const log = readFileSync(join(keptDir, "app.log"), "utf8");
    expect(log).toContain("sample-app 3.0.0 (schema");
    expect(log).toContain("sample-app 3.0.0: SIGTERM");
    expect(JSON.parse(readFileSync(join(keptDir, "failure.json"), "utf8"))).toMatchObject({
      service: "sample-app",
      color: "blue",
      version: "3.0.0",
      digest: brokenDigest,
      stage: "gate",
    });

    // Stopped, and no colour: nothing listens on blue's port or runs from the kept folder, and the
    // router has no warm colour to send users to (the failed build replaced 1.0.0 there).
    await expectStoppedColour("blue", blue);
    expect(processesUnder(keptDir)).toEqual([]);
    expect(stack.routerState()).toMatchObject({ active: "green", fallback: null });
    expect(load.failures).toEqual([]);
    expect(Object.keys(load.served)).toEqual(["green 2.0.0"]);
  });

  it("a rollback to 1.0.0 starts it anew on blue instead of routing to the kept build", async () => {
    const { outcome: up, load } = await underLoad(() => stack.release("v1.yaml"));
    expect(up.summary.result).toBe("succeeded");
    expect(stack.routerState().active).toBe("blue");
    expect(await fetchLocal(port, "/version")).toMatchObject({
      status: 200,
      color: "blue",
      body: '{"version":"1.0.0","schema":1}\n',
    });
    // Every request was answered by 2.0.0 or then 1.0.0: never by the failed 3.0.0.
    expect(load.failures).toEqual([]);
    expect(Object.keys(load.served).sort()).toEqual(["blue 1.0.0", "green 2.0.0"]);
    // The kept build is left as it was, still stopped.
    const [id] = kept();
    expect(kept()).toHaveLength(1);
    expect(await treeDigest(join(failedDir(), id ?? "", "app"))).toBe(brokenDigest);
    expect(processesUnder(failedDir())).toEqual([]);
  });

  it("with the setting off (the default): stops the build, removes its folder and keeps nothing", async () => {
    await stack.configureService({});
    const before = kept();
    // Users on 1.0.0 (blue); the release deploys to green, where 2.0.0 was warm.
    const { outcome: error, load, records } = await underLoad(() => stack.releaseFailure("v3-broken.yaml"));
    expect(records).toHaveLength(1);
    expect(records[0]?.failure).toMatchObject({ stage: "gate", served: { version: "1.0.0", color: "blue" } });
    expect(records[0]?.failure).not.toHaveProperty("kept");
    expect(error.message).not.toContain("kept, stopped, for inspection");
    expect(error.message).toContain(
      `The failed build was stopped (its log is in ${stack.paths.slot("green").logFile})`,
    );
    expect(kept()).toEqual(before);
    await expectStoppedColour("green", green);
    expect(stack.routerState()).toMatchObject({ active: "blue", fallback: null });
    expect(load.failures).toEqual([]);
    expect(Object.keys(load.served)).toEqual(["blue 1.0.0"]);
  });

  it("the same release run again with a plain up starts its build anew and gates it again", async () => {
    // The state still holds green's slot as the failed run created it; its process is gone. The
    // retry must start the build again and judge it, not gate an empty port.
    const first = await underLoad(() => stack.releaseFailure("v3-broken.yaml"));
    const again = await underLoad(() => stack.releaseFailure("v3-broken.yaml"));
    for (const run of [first, again]) {
      expect(run.records).toHaveLength(1);
      expect(run.records[0]?.failure).toMatchObject({ stage: "gate", trigger: "errors" });
      expect(run.outcome.message).toContain('check "health" (technical) failed');
      expect(run.outcome.message).not.toMatch(/ECONNREFUSED|connection refused/i);
      expect(run.load.failures).toEqual([]);
    }
    await expectStoppedColour("green", green);
    expect(stack.routerState()).toMatchObject({ active: "blue", fallback: null });
  });

  it("destroy removes the kept builds with the stack's processes; the records stay", async () => {
    await stack.stack.destroy();
    expect(existsSync(failedDir())).toBe(false);
    expect(existsSync(join(stack.workDirPath, "services"))).toBe(false);
    expect(processesUnder(stack.workDirPath)).toEqual([]);
    expect(recordFiles().length).toBeGreaterThanOrEqual(5);
  });
});
