// The supervisor, run in this process against a temporary stack folder: a dead colour with a restart
// spec is started again, held from users while the gate its build passed judges it again, and let
// back only when it passes; a colour failing that gate is stopped and stays held. Each restart is one
// line in events.log and a `restarted` notification.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  isRunning,
  portAccepts,
  portFreesWithin,
  portReleaseMs,
  readProcessRecord,
  stopByPidFile,
} from "../../../../../platforms/local/process-ops";
import {
  initialRouterState,
  readRouterState,
  writeRouterState,
} from "../../../../../platforms/local/router/state";
import {
  type RestartEvent,
  type Supervisor,
  supervise,
} from "../../../../../platforms/local/supervisor/supervise";
import { writePassedGate, writeRestartSpec } from "../../../../../platforms/local/supervision";
import { type TestProject, freePorts, testProject } from "../handlers/helpers";

const digest = `sha256:${"2".repeat(64)}`;
/** A tiny app answering every request with the status in $STATUS. */
const app =
  "require('node:http').createServer((q, s) => { s.statusCode = Number(process.env.STATUS); s.end('{}'); }).listen(Number(process.env.PORT), '127.0.0.1')";

let project: TestProject;
let supervisor: Supervisor | undefined;
let port: number;
const serviceDir = () => join(project.dir, "services/web");
const green = () => join(serviceDir(), "green");
const pidFile = () => join(green(), "app.pid.json");
const eventsLog = () => join(project.dir, "events.log");

const events = (): RestartEvent[] =>
  existsSync(eventsLog())
    ? readFileSync(eventsLog(), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as RestartEvent)
    : [];

/** Green ran `status`-answering builds, passed its gate, and has died (its pid file names a gone process). */
async function greenDied(status: number, secretVariables: string[] = []): Promise<void> {
  mkdirSync(green(), { recursive: true });
  await writeRestartSpec(green(), {
    command: [process.execPath, "-e", app],
    cwd: green(),
    env: { PORT: String(port), STATUS: String(status) },
    logFile: join(green(), "app.log"),
    port,
    secretVariables,
  });
  writeFileSync(join(green(), "spec.json"), JSON.stringify({ version: "2.0.0", artifact: { digest } }));
  await writePassedGate(green(), {
    releaseKey: "CHG-2@2.0.0",
    digest,
    checks: [{ name: "health", kind: "technical", method: "GET", path: "/", expect: { status: 200 } }],
    policy: {
      consecutiveSuccesses: 2,
      failureThreshold: 2,
      intervalMs: 20,
      timeoutMs: 5000,
      requestTimeoutMs: 1000,
    },
    passedAt: new Date().toISOString(),
  });
  // Pid 2^22 + 1 is above Linux's pid limit: no process has it.
  writeFileSync(pidFile(), JSON.stringify({ pid: 4_194_305, startTicks: "1" }));
}

/** The supervisor of the test's service; its own timer is an hour, so only checkOnce() acts after its first look. */
const watch = () =>
  supervise({ routerDir: join(serviceDir(), "router"), intervalMs: 3_600_000, log: () => undefined });

beforeEach(async () => {
  project = testProject("supervise");
  [port] = [await freePorts(2)];
  const routerDir = join(serviceDir(), "router");
  mkdirSync(routerDir, { recursive: true });
  // No router answers on the admin port: holds go to the state file, as for a router being restarted.
  await writeRouterState(join(routerDir, "state.json"), {
    ...initialRouterState({ service: "web", listenPort: port + 1, adminPort: port + 1 }),
    upstreams: { blue: "http://127.0.0.1:9001", green: `http://127.0.0.1:${port}` },
    active: "green",
    fallback: "blue",
  });
});

afterEach(async () => {
  await supervisor?.stop();
  await stopByPidFile(pidFile(), 1000);
  project.remove();
});

describe("the supervisor", () => {
  it("restarts a dead colour, judges it by its gate again, then lets users back", async () => {
    await greenDied(200);
    supervisor = watch();
    await supervisor.checkOnce();
    const [event, ...more] = events();
    expect(more).toEqual([]);
    if (!event) throw new Error("no restart event");
    expect(event).toMatchObject({
      type: "restart",
      service: "web",
      process: "green",
      previousPid: 4_194_305,
      outcome: "serving",
      gate: { verdict: "passed", rounds: 2 },
    });
    expect(event.usersFrom).not.toBeNull();
    const record = await readProcessRecord(pidFile());
    expect(record && isRunning(record)).toBe(true);
    expect((await readRouterState(join(serviceDir(), "router/state.json"))).held).toEqual([]);
    const notification = JSON.parse(readFileSync(join(project.dir, "notifications.log"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(notification).toMatchObject({
      type: "notification",
      stage: "restarted",
      release: { changeId: "CHG-2", version: "2.0.0" },
      service: "web",
      severity: "warning",
    });
  });

  it("stops a restarted colour that fails its gate, and keeps it held from users", async () => {
    await greenDied(500);
    supervisor = watch();
    await supervisor.checkOnce();
    const [event, ...more] = events();
    expect(more).toEqual([]);
    if (!event) throw new Error("no restart event");
    expect(event).toMatchObject({ process: "green", outcome: "failed-gate", pid: null, usersFrom: null });
    expect(event.gate?.verdict).toBe("failed");
    expect(await portFreesWithin(port, portReleaseMs)).toBe(true);
    expect((await readRouterState(join(serviceDir(), "router/state.json"))).held).toEqual(["green"]);
  });

  it("leaves a colour that runs with stack secrets for the next up, held, and says so once", async () => {
    await greenDied(200, ["API_TOKEN"]);
    supervisor = watch();
    await supervisor.checkOnce();
    await supervisor.checkOnce();
    expect(events().map((e) => [e.process, e.outcome, e.pid])).toEqual([["green", "left-for-up", null]]);
    expect(await portAccepts(port)).toBe(false);
    expect((await readRouterState(join(serviceDir(), "router/state.json"))).held).toEqual(["green"]);
  });

  it("leaves a colour alone once it was stopped on purpose (no restart spec)", async () => {
    await greenDied(200);
    // What a stop on purpose leaves: no restart spec.
    rmSync(join(green(), "restart.json"));
    supervisor = watch();
    await supervisor.checkOnce();
    expect(events()).toEqual([]);
    expect(existsSync(pidFile())).toBe(true);
  });
});
