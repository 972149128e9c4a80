// The engine killed during a release's pre-promotion gate (SIGKILL of the `pulumi` process and the
// plugins it started, as a crash would), then the release run again: it converges, nothing is left
// running that the platform does not track, and users were served throughout.
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localType } from "../../platforms/local";
import {
  addItem,
  createReleaseStack,
  fetchLocal,
  killQuietly,
  listProcesses,
  processesUnder,
  processTree,
  routerNginxPids,
  readJsonFile,
  waitFor,
  type ProcessInfo,
  type ReleaseStack,
  testPort,
} from "./harness";
import { startLoad, waitForRequests, type RunningLoad } from "./load";

const port = testPort(21020);

describe("the engine killed during a gate, then the release run again", () => {
  let stack: ReleaseStack;
  let load: RunningLoad | undefined;
  const killed: ProcessInfo[] = [];

  beforeAll(async () => {
    // A slow gate (three rounds 3 s apart) leaves time to kill the engine while it runs.
    stack = await createReleaseStack({
      port,
      service: {
        gate: { consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 2500, timeoutMs: 30_000 },
      },
    });
  });

  afterAll(async () => {
    await load?.stop();
    for (const p of killed) killQuietly(p.pid);
    await stack?.dispose();
  });

  /** The tracked processes of the stack: the router and each colour's pid file. */
  const trackedPids = () =>
    [
      readJsonFile<{ pid: number }>(stack.paths.routerPid)?.pid,
      readJsonFile<{ pid: number }>(stack.paths.supervisorPid)?.pid,
      stack.slotPid("blue"),
      stack.slotPid("green"),
      ...routerNginxPids(stack.paths),
    ].filter((pid): pid is number => pid !== undefined);

  it("kills the engine while v2's gate runs; v1 keeps serving and nothing untracked runs", async () => {
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    await addItem(port, "written by 1.0.0");
    load = startLoad({ port, clients: 8 });
    await waitForRequests(load, 50);

    let gateFinished = false;
    const onEvent = (event: EngineEvent) => {
      const done = event.resOutputsEvent?.metadata;
      if (done?.type === localType("Gate") && done.op !== "refresh") gateFinished = true;
    };
    const up = stack.release("v2.yaml", { onEvent }).then(
      () => "succeeded",
      (error: unknown) => String((error as Error).message),
    );
    // The candidate colour writes its spec once it runs v2; the gate starts right after and takes
    // at least two intervals (6 s).
    await waitFor(
      "green to run v2",
      () =>
        readJsonFile<{ version: string }>(stack.paths.slot("green").specFile)?.version === "2.0.0"
          ? true
          : undefined,
      60_000,
    );
    await sleep(2000);
    expect(gateFinished).toBe(false);

    const all = listProcesses();
    const engines = all.filter(
      (p) => p.cmdline[0]?.endsWith("/pulumi") === true && p.cmdline.includes(stack.name),
    );
    expect(engines.map((p) => p.cmdline.slice(1, 2))).toEqual([["up"]]);
    // The engine and its plugins (language host, policy pack, dynamic provider); not the platform's
    // own processes, which run detached under the stack's working folder and must keep serving.
    const managed = new Set(processesUnder(stack.workDirPath).map((p) => p.pid));
    for (const p of processTree(engines[0]?.pid ?? -1, all)) {
      if (!managed.has(p.pid)) killed.push(p);
    }
    for (const p of killed) killQuietly(p.pid);
    expect(await up).not.toBe("succeeded");
    await waitFor("the killed processes to be gone", () =>
      killed.every((p) => !listProcesses().some((q) => q.pid === p.pid)) ? true : undefined,
    );

    // What runs from the stack's folder is exactly what its pid and nginx files track.
    expect(
      processesUnder(stack.workDirPath)
        .map((p) => p.pid)
        .sort(),
    ).toEqual(trackedPids().sort());
    expect(stack.routerState().active).toBe("blue");
    expect((await fetchLocal(port, "/version")).body).toBe('{"version":"1.0.0","schema":1}\n');
  });

  it("converges when the release is run again, with users served throughout", async () => {
    const outcome = (manifest: string) =>
      stack.release(manifest).then(
        (result) => result.summary.result as string,
        (error: unknown) => String((error as Error).message),
      );
    // The killed engine left the file backend's lock behind: a user must remove it (`pulumi cancel`)
    // once sure no other engine runs on the stack.
    expect(await outcome("v2.yaml")).toContain("the stack is currently locked by 1 lock(s)");
    await stack.stack.cancel();
    const again = await outcome("v2.yaml");
    process.stderr.write(`rerun after pulumi cancel: ${again}\n`);
    expect(again).toBe("succeeded");
    if (!load) throw new Error("no load running");
    await waitForRequests(load, 50);
    const report = await load.stop();

    expect(report.failures).toEqual([]);
    expect(Object.keys(report.served).sort()).toEqual(["blue 1.0.0", "green 2.0.0"]);
    expect(stack.routerState().active).toBe("green");
    expect(
      processesUnder(stack.workDirPath)
        .map((p) => p.pid)
        .sort(),
    ).toEqual(trackedPids().sort());
    // The router, its nginx (master and one worker), the supervisor and both colours.
    expect(trackedPids()).toHaveLength(6);
    // Run once more, nothing of the release's steps changes. The deployment record is left out: a
    // second run of a finished release re-plans it with no previous colour and rewrites it (reported
    // to the lead: components plan previousColor from what runs now).
    const ops: Record<string, string> = {};
    await stack.stack.preview({
      refresh: true,
      onEvent: (event) => {
        const step = event.resourcePreEvent?.metadata;
        if (
          step?.type.startsWith("pulumi-nodejs:dynamic/shipgate/local:") &&
          step.type !== localType("Record")
        ) {
          ops[step.urn.split("::").pop() ?? step.urn] = step.op;
        }
      },
    });
    expect(Object.keys(ops).length).toBeGreaterThanOrEqual(9);
    expect(Object.entries(ops).filter(([, op]) => op !== "same")).toEqual([]);
    expect(JSON.parse((await fetchLocal(port, "/items")).body)).toMatchObject({
      items: [{ id: 1, name: "written by 1.0.0" }],
    });
  });
});
