// Supervision on the local platform, on the real engine and under a bounded load that records every
// user request and which version answered it: the router and the active colour killed (SIGKILL, as
// the OOM killer would) come back within seconds with no `pulumi up`; a restarted colour serves
// users only after its gate passed again, the warm colour serving meanwhile; a restart is an event
// and a notification, never a release record; a build that failed its gate does not stay running
// as a colour to return to; a plain `up` heals a dead supervisor, and destroy stops everything.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RestartEvent } from "../../platforms/local/supervisor/supervise";
import {
  createReleaseStack,
  fetchLocal,
  killQuietly,
  listProcesses,
  manifestPath,
  processesUnder,
  routerNginxPids,
  readJsonFile,
  waitFor,
  type ReleaseStack,
  testPort,
} from "./harness";
import { startLoad, waitForRequests, type LoadReport, type RunningLoad } from "./load";

const port = testPort(21300);

describe("supervised router and colours", () => {
  let stack: ReleaseStack;
  let load: RunningLoad | undefined;
  let recordsBefore: string[] = [];

  beforeAll(async () => {
    stack = await createReleaseStack({ port, prefix: "dev-e2e-sup" });
  });

  afterAll(async () => {
    await load?.stop();
    await stack?.dispose();
  });

  const pidIn = (file: string) => readJsonFile<{ pid: number }>(file)?.pid;
  const alive = (pid: number | undefined) => pid !== undefined && listProcesses().some((p) => p.pid === pid);
  const records = () =>
    readdirSync(join(stack.workDirPath, "records"))
      .filter((name) => name.endsWith(".json") && name !== "latest.json")
      .sort();
  const lines = (file: string): Record<string, unknown>[] =>
    existsSync(file)
      ? readFileSync(file, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      : [];
  const events = () => lines(stack.paths.eventsLog) as unknown as RestartEvent[];
  const restartOf = (process: string, previousPid: number) =>
    events().find((e) => e.process === process && e.previousPid === previousPid);
  /** Starts the load and returns it with the time it started, which its `at` figures count from. */
  const loadFrom = (options: { clients: number; pauseMs?: number }) => {
    const startedAt = Date.now();
    load = startLoad({ port, ...options });
    return { load, startedAt };
  };
  const summary = (report: LoadReport) =>
    `${report.requests} requests, ${report.failures.length} failed, served ${JSON.stringify(report.served)}`;

  it("releases v1 then v2 with a supervisor that outlives the engine's run", async () => {
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    expect((await stack.release("v2.yaml")).summary.result).toBe("succeeded");
    // The engine has exited; the supervisor it started runs on, no longer its child.
    const supervisor = pidIn(stack.paths.supervisorPid);
    expect(alive(supervisor)).toBe(true);
    expect(stack.routerState().active).toBe("green");
    recordsBefore = records();
    expect(recordsBefore).toHaveLength(2);
  });

  it("(a) restarts a killed router within seconds, with no up; its nginx serves users meanwhile", async () => {
    const { startedAt } = loadFrom({ clients: 4 });
    await waitForRequests(load as RunningLoad, 50);
    const routerPid = pidIn(stack.paths.routerPid);
    if (routerPid === undefined) throw new Error("no router pid file");
    const killedAt = Date.now() - startedAt;
    killQuietly(routerPid);
    const event = await waitFor(
      "the supervisor's restart of the router",
      () => restartOf("router", routerPid),
      20_000,
    );
    const backAt = Date.parse(event.at) - startedAt;
    await waitForRequests(load as RunningLoad, 100);
    const report = await (load as RunningLoad).stop();
    const lastFailure = Math.max(killedAt, ...report.failures.map((f) => f.at));
    process.stdout.write(
      `router killed: ${summary(report)}; restarted ${event.tookMs} ms after the supervisor saw it dead; ` +
        `the last failed request was sent ${lastFailure - killedAt} ms after the kill\n`,
    );

    expect(event).toMatchObject({ outcome: "serving", gate: null });
    expect(alive(pidIn(stack.paths.routerPid))).toBe(true);
    expect(stack.routerState().active).toBe("green");
    // The router's nginx carries users' requests and outlived the router, so users were served
    // while it was dead. The only failures allowed are connection resets when the restarted
    // router's nginx took over and the old one closed its idle keep-alive connections (a request sent
    // on one at that very moment), all before the restart was reported.
    for (const failure of report.failures) {
      expect(failure.status).toBeNull();
      expect(failure.detail).toMatch(/socket hang up|ECONNRESET/);
      expect(failure.at).toBeLessThanOrEqual(backAt);
    }
    expect(report.responses.every((r) => r.color === "green" && r.version === "2.0.0")).toBe(true);
    expect(report.responses.filter((r) => r.at > backAt).length).toBeGreaterThan(0);
  });

  it("(b) a killed active colour: the warm colour serves, the restarted one is gated again before users reach it", async () => {
    const { startedAt } = loadFrom({ clients: 2, pauseMs: 50 });
    await waitForRequests(load as RunningLoad, 20);
    const greenPid = stack.slotPid("green");
    if (greenPid === undefined) throw new Error("no pid file for green");
    const killedAt = Date.now() - startedAt;
    killQuietly(greenPid);
    const event = await waitFor(
      "the supervisor's restart of green",
      () => restartOf("green", greenPid),
      60_000,
    );
    await waitForRequests(load as RunningLoad, 40);
    const report = await (load as RunningLoad).stop();
    process.stdout.write(`green killed: ${summary(report)}; gated again after ${event.tookMs} ms\n`);

    expect(event).toMatchObject({ outcome: "serving", gate: { verdict: "passed" } });
    expect(event.gate?.rounds).toBeGreaterThanOrEqual(3);
    expect(event.usersFrom).not.toBeNull();
    // GET is safe to repeat: a request green failed was answered by the warm 1.0.0 on blue.
    expect(report.failures).toEqual([]);
    expect(report.served["blue 1.0.0"]).toBeGreaterThan(0);
    // No answer from green, after it was killed, came before the router was told it may serve again.
    const usersFrom = Date.parse(event.usersFrom ?? "") - startedAt;
    const early = report.responses.filter(
      (r) => r.color === "green" && r.at > killedAt && r.at + r.latencyMs < usersFrom,
    );
    expect(early).toEqual([]);
    const routerState = readJsonFile<{ failedOver?: unknown; held?: string[] }>(stack.paths.routerState);
    expect(routerState?.held ?? []).toEqual([]);
    if (routerState?.failedOver) {
      // The burst of failures flipped users to the warm colour before the restart: they stay there.
      expect(stack.routerState().active).toBe("blue");
    } else {
      expect(stack.routerState().active).toBe("green");
      expect((await fetchLocal(port, "/version")).body).toBe('{"version":"2.0.0","schema":2}\n');
    }
  });

  it("(e) each restart is an event and a notification, never another release record", () => {
    expect(records()).toEqual(recordsBefore);
    expect(events().map((e) => [e.type, e.process, e.outcome])).toEqual([
      ["restart", "router", "serving"],
      ["restart", "green", "serving"],
    ]);
    const restarted = lines(join(stack.workDirPath, "notifications.log")).filter(
      (n) => n["stage"] === "restarted",
    );
    expect(restarted).toHaveLength(2);
    expect(restarted.map((n) => n["release"])).toEqual([
      { changeId: "CHG-101", version: "2.0.0" },
      { changeId: "CHG-101", version: "2.0.0" },
    ]);
  });

  it("(c) a build that fails its gate is stopped, and is not a colour to return to", async () => {
    const live = stack.routerState().active;
    const idle = live === "green" ? "blue" : "green";
    const eventsBefore = events().length;
    const error = await stack.releaseFailure("v3-broken.yaml");
    expect(error.message).toContain("pre-promotion gate of sample-app");
    expect(error.message).toContain("The failed build was stopped");

    const slot = stack.paths.slot(idle);
    expect(stack.slotPid(idle)).toBeUndefined();
    expect(existsSync(slot.specFile)).toBe(false);
    expect(existsSync(join(slot.dir, "restart.json"))).toBe(false);
    expect(readJsonFile<{ fallback?: string | null }>(stack.paths.routerState)?.fallback ?? null).toBeNull();
    // What runs from the stack's folder is the router, its supervisor and the live colour: no 3.0.0.
    const running = processesUnder(stack.workDirPath).map((p) => p.pid);
    expect(running.sort()).toEqual(
      [
        pidIn(stack.paths.routerPid),
        pidIn(stack.paths.supervisorPid),
        stack.slotPid(live === "blue" ? "blue" : "green"),
        ...routerNginxPids(stack.paths),
      ].sort(),
    );
    expect(events()).toHaveLength(eventsBefore);
    const answer = await fetchLocal(port, "/version");
    expect(answer.color).toBe(live);
  });

  it("(d) a plain up (no --refresh) heals a dead supervisor; destroy leaves no process", async () => {
    const supervisor = pidIn(stack.paths.supervisorPid);
    const router = pidIn(stack.paths.routerPid);
    if (supervisor === undefined) throw new Error("no supervisor pid file");
    killQuietly(supervisor);
    await waitFor("the supervisor to be gone", () => (alive(supervisor) ? undefined : true));
    await stack.stack.setConfig("shipgate:manifest", { value: manifestPath("v2.yaml") });
    expect((await stack.stack.up()).summary.result).toBe("succeeded");
    const healed = pidIn(stack.paths.supervisorPid);
    expect(healed).not.toBe(supervisor);
    expect(alive(healed)).toBe(true);
    expect(pidIn(stack.paths.routerPid)).toBe(router);

    const before = processesUnder(stack.workDirPath);
    expect(before.length).toBeGreaterThanOrEqual(3);
    await stack.stack.destroy();
    expect(processesUnder(stack.workDirPath)).toEqual([]);
    expect(before.filter((p) => alive(p.pid))).toEqual([]);
  });
});
