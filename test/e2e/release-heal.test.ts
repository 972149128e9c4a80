// A dead router and a dead colour (SIGKILL, as the OOM killer would) are seen by a plain `pulumi up`,
// without --refresh, and started again with what they ran; the router keeps its colour. The
// supervisor, which would restart them by itself (release-supervise.test.ts), is killed first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createReleaseStack,
  fetchLocal,
  killQuietly,
  listProcesses,
  readJsonFile,
  waitFor,
  type ReleaseStack,
  testPort,
} from "./harness";

const port = testPort(21110);

describe("a plain pulumi up heals dead processes", () => {
  let stack: ReleaseStack;

  beforeAll(async () => {
    stack = await createReleaseStack({ port });
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it("starts the killed router and warm colour again, users on the same version", async () => {
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    expect((await stack.release("v2.yaml")).summary.result).toBe("succeeded");
    const routerPid = readJsonFile<{ pid: number }>(stack.paths.routerPid)?.pid;
    const bluePid = stack.slotPid("blue");
    const greenPid = stack.slotPid("green");
    const supervisorPid = readJsonFile<{ pid: number }>(stack.paths.supervisorPid)?.pid;
    const nginxPid = readJsonFile<{ pid: number }>(stack.paths.routerNginx)?.pid;
    if (nginxPid === undefined) throw new Error("no nginx record");
    if (routerPid === undefined || bluePid === undefined || supervisorPid === undefined) {
      throw new Error("no pid files");
    }
    const gone = (pid: number) => !listProcesses().some((p) => p.pid === pid);
    killQuietly(supervisorPid);
    await waitFor("the supervisor to be gone", () => (gone(supervisorPid) ? true : undefined));

    killQuietly(routerPid);
    killQuietly(bluePid);
    await waitFor("the router and blue to be gone", () =>
      gone(routerPid) && gone(bluePid) ? true : undefined,
    );
    // The router's nginx outlives it and serves users on, from green.
    expect(await fetchLocal(port, "/version")).toMatchObject({ status: 200, color: "green" });

    const up = await stack.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges?.["update"]).toBeGreaterThanOrEqual(2);

    const newRouter = readJsonFile<{ pid: number }>(stack.paths.routerPid)?.pid;
    expect(newRouter).not.toBe(routerPid);
    // The new router runs an nginx of its own; the one the killed router left is stopped.
    expect(readJsonFile<{ pid: number }>(stack.paths.routerNginx)?.pid).not.toBe(nginxPid);
    expect(gone(nginxPid)).toBe(true);
    const newSupervisor = readJsonFile<{ pid: number }>(stack.paths.supervisorPid)?.pid;
    expect(newSupervisor).not.toBe(supervisorPid);
    expect(newSupervisor !== undefined && !gone(newSupervisor)).toBe(true);
    expect(stack.slotPid("blue")).not.toBe(bluePid);
    // Green, alive all along, was left alone; users get 2.0.0 from it as before.
    expect(stack.slotPid("green")).toBe(greenPid);
    expect(stack.routerState().active).toBe("green");
    expect(await fetchLocal(port, "/version")).toEqual({
      status: 200,
      color: "green",
      body: '{"version":"2.0.0","schema":2}\n',
    });
    expect(JSON.parse((await fetchLocal(port + 1, "/version")).body)).toEqual({
      version: "1.0.0",
      schema: 1,
    });
  });
});
