// `pulumi destroy` of a stack that released the sample app: no process of the stack is left
// running, and its working folder holds only what docs/local-platform.md says is kept (data,
// backups, records and the notifications log).
import { existsSync, readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createReleaseStack,
  filesUnder,
  listProcesses,
  processesUnder,
  routerNginxPids,
  readJsonFile,
  type ReleaseStack,
  testPort,
} from "./harness";

const port = testPort(21030);

describe("destroying a stack that released the sample app", () => {
  let stack: ReleaseStack;

  beforeAll(async () => {
    stack = await createReleaseStack({ port });
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it("stops every process and keeps only data, backups, records and the notifications log", async () => {
    expect((await stack.release("v1.yaml")).summary.result).toBe("succeeded");
    expect((await stack.release("v2.yaml")).summary.result).toBe("succeeded");
    const pids = [
      readJsonFile<{ pid: number }>(stack.paths.routerPid)?.pid,
      readJsonFile<{ pid: number }>(stack.paths.supervisorPid)?.pid,
      stack.slotPid("blue"),
      stack.slotPid("green"),
    ];
    expect(pids.every((pid) => typeof pid === "number")).toBe(true);
    // The router, its nginx (master and one worker), its supervisor and both colours.
    const nginx = routerNginxPids(stack.paths);
    expect(nginx).toHaveLength(2);
    const nginxFolder = readJsonFile<{ runtimeDir: string }>(stack.paths.routerNginx)?.runtimeDir ?? "";
    expect(existsSync(nginxFolder)).toBe(true);
    expect(
      processesUnder(stack.workDirPath)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([...pids, ...nginx].sort());

    const destroy = await stack.stack.destroy();

    expect(destroy.summary.result).toBe("succeeded");
    expect(processesUnder(stack.workDirPath)).toEqual([]);
    const running = new Set(listProcesses().map((p) => p.pid));
    expect([...pids, ...nginx].filter((pid) => pid !== undefined && running.has(pid))).toEqual([]);
    // nginx's private folder (sockets, route markers) goes with it.
    expect(existsSync(nginxFolder)).toBe(false);
    expect(readdirSync(stack.workDirPath).sort()).toEqual([
      "backups",
      "data",
      "notifications.log",
      "records",
    ]);
    const files = filesUnder(stack.workDirPath);
    expect(files).toContain("data/sample-app/items.json");
    expect(files).toContain("records/latest.json");
    expect(files.filter((f) => f.startsWith("backups/sample-app/CHG-10")).length).toBeGreaterThan(0);
    const state = await stack.stack.exportStack();
    expect(state.deployment.resources ?? []).toEqual([]);
  });
});
