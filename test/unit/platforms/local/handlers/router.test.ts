// The Router handler: its diff as a plain function, and create/read/update/delete of the real router
// process (dist/platforms/local/router/main.js) in a temporary project folder on 127.0.0.1.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RouterInputs,
  type RouterOutputs,
  handlers,
} from "../../../../../platforms/local/handlers/router";
import {
  isRunning,
  portAccepts,
  processStartTicks,
  readProcessRecord,
  startDetached,
  stopByPidFile,
} from "../../../../../platforms/local/process-ops";
import {
  getRouterStatus,
  setRouterUpstream,
  switchRouter,
} from "../../../../../platforms/local/router/router-client";
import { buildIfStale } from "../../../../../scripts/lib/build.mjs";
import { root } from "../../../sample-app/processes";
import { type TestProject, freePorts, testProject, crud } from "./helpers";
import { waitUntil } from "../../../../wait";

const ops = crud(handlers);

let project: TestProject;
let inputs: RouterInputs;
const routerDir = "services/web/router";
const pidFile = () => join(project.dir, routerDir, "router.pid.json");
const supervisorPidFile = () => join(project.dir, routerDir, "supervisor.pid.json");

beforeAll(async () => {
  buildIfStale();
  project = testProject("router");
  // The handler starts <project>/dist/platforms/local/router/main.js: the project's compiled router.
  symlinkSync(join(root, "dist"), join(project.dir, "dist"));
  const port = await freePorts(2);
  inputs = { service: "web", dir: routerDir, port, adminPort: port + 1 };
});

afterAll(async () => {
  await stopByPidFile(supervisorPidFile(), 2000);
  await stopByPidFile(pidFile(), 2000);
  project.remove();
});

const outputsOf = (i: RouterInputs, running = true): RouterOutputs => ({
  ...i,
  pid: 1,
  url: `http://127.0.0.1:${i.port}`,
  running,
});

describe("Router diff", () => {
  it("changes nothing for the same ports of a running router and supervisor", async () => {
    // This test's own process stands in for a running supervisor.
    const dir = join(project.dir, "diff-router");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "supervisor.pid.json"),
      JSON.stringify({ pid: process.pid, startTicks: processStartTicks(process.pid) }),
    );
    const running = { ...inputs, dir: "diff-router" };
    expect(await handlers.diff(project.dir, "web-router", outputsOf(running), running)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });

  it("changes when the supervisor does not run, so a plain up starts it again", async () => {
    expect(await handlers.diff("", "web-router", outputsOf(inputs), inputs)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });

  it("restarts in place on new ports or when it is not running", async () => {
    for (const [olds, news] of [
      [outputsOf(inputs), { ...inputs, port: inputs.port + 100 }],
      [outputsOf(inputs), { ...inputs, adminPort: inputs.adminPort + 100 }],
      [outputsOf(inputs, false), inputs],
    ] as const) {
      expect(await handlers.diff("", "web-router", olds, news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: true,
      });
    }
  });

  it("replaces for another service or folder", async () => {
    expect(
      await handlers.diff("", "web-router", outputsOf(inputs), { ...inputs, service: "api", dir: "r2" }),
    ).toEqual({ changes: true, replaces: ["service", "dir"], deleteBeforeReplace: true });
  });
});

describe("Router create, read, update and delete", () => {
  it("starts the router with nothing active, listening on its two ports", async () => {
    const created = await ops.create(project.dir, inputs);
    expect(created.id).toBe("web-router");
    expect(created.outs).toMatchObject({ ...inputs, url: `http://127.0.0.1:${inputs.port}`, running: true });
    const status = await getRouterStatus({ adminPort: inputs.adminPort });
    expect(status.active).toBeNull();
    expect(status.listenPort).toBe(inputs.port);
    expect(await portAccepts(inputs.port)).toBe(true);
    expect((await ops.read(project.dir, "web-router", created.outs)).props?.running).toBe(true);
  });

  it("starts its supervisor beside it, and an update of a running router keeps both", async () => {
    const router = await readProcessRecord(pidFile());
    const supervisor = await readProcessRecord(supervisorPidFile());
    expect(supervisor && isRunning(supervisor)).toBe(true);
    const updated = await ops.update(project.dir, "web-router", outputsOf(inputs), inputs);
    expect(updated.outs?.pid).toBe(router?.pid);
    expect((await readProcessRecord(supervisorPidFile()))?.pid).toBe(supervisor?.pid);
  });

  it("is restarted by its supervisor when killed, keeping the active colour and its upstream", async () => {
    const admin = { adminPort: inputs.adminPort };
    await setRouterUpstream(admin, "green", "http://127.0.0.1:39999");
    await switchRouter(admin, "green");
    const before = await readProcessRecord(pidFile());
    if (!before) throw new Error("no pid file");
    process.kill(before.pid, "SIGKILL");
    await waitUntil("the supervisor to start the router again", async () => {
      const now = await readProcessRecord(pidFile());
      return (
        now !== undefined && now.pid !== before.pid && isRunning(now) && (await portAccepts(inputs.adminPort))
      );
    });
    const status = await getRouterStatus(admin);
    expect(status.active).toBe("green");
    expect(status.upstreams.green).toBe("http://127.0.0.1:39999");
    const eventsLog = join(project.dir, "events.log");
    await waitUntil(
      "the restart's event",
      async () => existsSync(eventsLog) && readFileSync(eventsLog, "utf8").endsWith("\n"),
    );
    const events = readFileSync(eventsLog, "utf8").trim().split("\n");
    expect(JSON.parse(events.at(-1) ?? "{}")).toMatchObject({
      type: "restart",
      service: "web",
      process: "router",
      previousPid: before.pid,
      outcome: "serving",
    });
  });

  it("reads a router whose process died as not running; an update starts it and its supervisor", async () => {
    await stopByPidFile(supervisorPidFile());
    const record = await readProcessRecord(pidFile());
    if (!record) throw new Error("no pid file");
    process.kill(record.pid, "SIGKILL");
    await waitUntil("the router process to exit", () => !isRunning(record));
    const read = await ops.read(project.dir, "web-router", outputsOf(inputs));
    expect(read).toEqual({ id: "web-router", props: outputsOf(inputs, false) });
    const updated = await ops.update(project.dir, "web-router", outputsOf(inputs, false), inputs);
    expect(updated.outs?.pid).not.toBe(record.pid);
    expect((await getRouterStatus({ adminPort: inputs.adminPort })).active).toBe("green");
    const supervisor = await readProcessRecord(supervisorPidFile());
    expect(supervisor && isRunning(supervisor)).toBe(true);
  });

  it("deletes: stops the supervisor, the router and a colour the state does not know, and removes its folder", async () => {
    const record = await readProcessRecord(pidFile());
    const supervisor = await readProcessRecord(supervisorPidFile());
    // A colour whose start was cut short (no restart spec, no resource in the state): only its pid file.
    const stray = await startDetached({
      command: [process.execPath, "-e", "setInterval(() => undefined, 1000)"],
      cwd: project.dir,
      env: {},
      logFile: join(project.dir, "services/web/blue/app.log"),
      pidFile: join(project.dir, "services/web/blue/app.pid.json"),
    });
    // A failed build kept for inspection goes with the service.
    mkdirSync(join(project.dir, "services/web/failed/2026-11-30T10-01-00-000Z-green-3.0.0/app"), {
      recursive: true,
    });
    // A colour's folder left empty (its own delete ran while the router took its lock) goes too.
    mkdirSync(join(project.dir, "services/web/green"), { recursive: true });
    if (!record || !supervisor) throw new Error("no pid file");
    await ops.delete(project.dir, "web-router", outputsOf(inputs));
    expect(existsSync(join(project.dir, "services/web/failed"))).toBe(false);
    expect(isRunning(record)).toBe(false);
    expect(isRunning(supervisor)).toBe(false);
    expect(isRunning(stray)).toBe(false);
    expect(existsSync(join(project.dir, "services/web/green"))).toBe(false);
    expect(await portAccepts(inputs.port)).toBe(false);
    expect(await portAccepts(inputs.adminPort)).toBe(false);
    expect(existsSync(join(project.dir, routerDir))).toBe(false);
  });
});
