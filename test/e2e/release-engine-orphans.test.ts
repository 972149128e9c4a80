// The engine alone killed (SIGKILL of the `pulumi` process, as a crash or an OOM kill would do) while
// a release bakes after its switch, with the policy pack loaded: the plugins it started (language
// host, program, policy pack, dynamic provider) go with it instead of acting for a run nobody
// watches, users stay on what they were served, and a re-run converges.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createReleaseStack,
  fetchLocal,
  killQuietly,
  listProcesses,
  manifestPath,
  policyPackPath,
  processesUnder,
  processTree,
  routerNginxPids,
  readJsonFile,
  waitFor,
  type ProcessInfo,
  type ReleaseStack,
  testPort,
} from "./harness";

const port = testPort(21100);

describe("plugins of a killed engine", () => {
  let stack: ReleaseStack;
  const plugins: ProcessInfo[] = [];

  beforeAll(async () => {
    stack = await createReleaseStack({ port });
  });

  afterAll(async () => {
    for (const p of plugins) killQuietly(p.pid);
    await stack?.dispose();
  });

  const trackedPids = () =>
    [
      readJsonFile<{ pid: number }>(stack.paths.routerPid)?.pid,
      readJsonFile<{ pid: number }>(stack.paths.supervisorPid)?.pid,
      stack.slotPid("blue"),
      stack.slotPid("green"),
      ...routerNginxPids(stack.paths),
    ].filter((pid): pid is number => pid !== undefined);

  it("stop within seconds of the engine, and change nothing users see", async () => {
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");

    // v2 with a long bake, through the policy pack (every policy advisory, as on the local stack).
    await stack.configureService({
      verification: { bakeTimeMs: 60_000, intervalMs: 100, maxErrorRate: 0.01, maxP95LatencyMs: 3000 },
    });
    await stack.stack.setConfig("shipgate:manifest", { value: manifestPath("v2.yaml") });
    const up = stack.stack
      .up({
        refresh: true,
        policyPacks: [policyPackPath],
        policyPackConfigs: [join(policyPackPath, "config", "local.json")],
      })
      .then(
        () => "succeeded",
        (error: unknown) => String((error as Error).message),
      );
    // The switch to green happened: verification is baking in the dynamic provider.
    await waitFor(
      "users to be switched to green",
      () => (stack.routerState().active === "green" ? true : undefined),
      180_000,
    );

    const all = listProcesses();
    const engines = all.filter(
      (p) => p.cmdline[0]?.endsWith("/pulumi") === true && p.cmdline.includes(stack.name),
    );
    expect(engines.map((p) => p.cmdline.slice(1, 2))).toEqual([["up"]]);
    const engine = engines[0];
    if (!engine) throw new Error("no engine found");
    const managed = new Set(processesUnder(stack.workDirPath).map((p) => p.pid));
    plugins.push(...processTree(engine.pid, all).filter((p) => p.pid !== engine.pid && !managed.has(p.pid)));
    const named = (pattern: RegExp) => plugins.filter((p) => p.cmdline.some((arg) => pattern.test(arg)));
    expect(named(/pulumi-language-nodejs$/).length).toBeGreaterThanOrEqual(1);
    expect(named(/policies[\\/]runner\.cjs$/)).toHaveLength(1);
    expect(named(/dynamic-provider[\\/]index\.js$/)).toHaveLength(1);

    killQuietly(engine.pid);
    expect(await up).not.toBe("succeeded");
    const alive = () => {
      const now = new Set(listProcesses().map((p) => p.pid));
      return plugins.filter((p) => now.has(p.pid));
    };
    await waitFor(
      "every plugin of the killed engine to stop",
      () => (alive().length === 0 ? true : undefined),
      15_000,
    );

    // Nobody switched users back or started anything: green serves v2, the stack's processes are
    // exactly the three it tracks.
    expect(stack.routerState().active).toBe("green");
    expect(await fetchLocal(port, "/version")).toMatchObject({ status: 200, color: "green" });
    expect(
      processesUnder(stack.workDirPath)
        .map((p) => p.pid)
        .sort(),
    ).toEqual(trackedPids().sort());
  });

  it("converges when the release is run again", async () => {
    await stack.stack.cancel();
    await stack.configureService();
    const up = await stack.release("v2.yaml");
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("green");
    expect(up.outputs["liveVersion"]?.value).toBe("2.0.0");
    // The router, its nginx (master and one worker), the supervisor and both colours.
    expect(trackedPids()).toHaveLength(6);
  });
});
