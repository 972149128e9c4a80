// The Router handler: its diff as a plain function, and create/read/update/delete of the real router
// process (dist/platforms/local/router/main.js) in a temporary project folder on 127.0.0.1.
import { existsSync, readFileSync, symlinkSync } from "node:fs";
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
  readProcessRecord,
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
const pidFile = () => join(project.dir, "router/router.pid.json");

beforeAll(async () => {
  buildIfStale();
  project = testProject("router");
  // The handler starts <project>/dist/platforms/local/router/main.js: the project's compiled router.
  symlinkSync(join(root, "dist"), join(project.dir, "dist"));
  const port = await freePorts(2);
  inputs = { service: "web", dir: "router", port, adminPort: port + 1 };
});

afterAll(async () => {
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
  it("changes nothing for the same ports of a running router", async () => {
    expect(await handlers.diff("", "web-router", outputsOf(inputs), inputs)).toEqual({
      changes: false,
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

  it("restarts as another process that keeps the active colour and its upstream", async () => {
    const admin = { adminPort: inputs.adminPort };
    await setRouterUpstream(admin, "green", "http://127.0.0.1:39999");
    await switchRouter(admin, "green");
    const before = await readProcessRecord(pidFile());
    const updated = await ops.update(project.dir, "web-router", outputsOf(inputs), inputs);
    expect(updated.outs?.pid).not.toBe(before?.pid);
    expect(before && isRunning(before)).toBe(false);
    const status = await getRouterStatus(admin);
    expect(status.active).toBe("green");
    expect(status.upstreams.green).toBe("http://127.0.0.1:39999");
    const state = JSON.parse(readFileSync(join(project.dir, "router/state.json"), "utf8")) as {
      active: string;
    };
    expect(state.active).toBe("green");
  });

  it("reads a router whose process died as not running", async () => {
    const record = await readProcessRecord(pidFile());
    if (!record) throw new Error("no pid file");
    process.kill(record.pid, "SIGKILL");
    await waitUntil("the router process to exit", () => !isRunning(record));
    const read = await ops.read(project.dir, "web-router", outputsOf(inputs));
    expect(read).toEqual({ id: "web-router", props: outputsOf(inputs, false) });
    await ops.update(project.dir, "web-router", outputsOf(inputs, false), inputs);
    expect((await getRouterStatus({ adminPort: inputs.adminPort })).active).toBe("green");
  });

  it("deletes: stops the router and removes its folder", async () => {
    const record = await readProcessRecord(pidFile());
    if (!record) throw new Error("no pid file");
    await ops.delete(project.dir, "web-router", outputsOf(inputs));
    expect(isRunning(record)).toBe(false);
    expect(await portAccepts(inputs.port)).toBe(false);
    expect(await portAccepts(inputs.adminPort)).toBe(false);
    expect(existsSync(join(project.dir, "router"))).toBe(false);
  });
});
