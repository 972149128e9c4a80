// process-ops as plain functions, with real detached processes: start, find again, stop, pid reuse
// protection, and waiting for a port with the log's tail when the process never listens.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type ProcessRecord,
  isRunning,
  logTail,
  portAccepts,
  processStartTicks,
  readProcessRecord,
  requireFreePorts,
  startDetached,
  stopByPidFile,
  stopProcess,
  waitUntilListening,
} from "../../../../platforms/local/process-ops";
import { freePorts } from "./handlers/helpers";
import { waitUntil } from "../../../wait";

let dir: string;
const started: ProcessRecord[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "shipgate-process-ops-"));
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((record) => stopProcess(record, 1000)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(name: string, script: string, env: Record<string, string> = {}): Promise<ProcessRecord> {
  const record = await startDetached({
    command: [process.execPath, "-e", script],
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    logFile: join(dir, `${name}.log`),
    pidFile: join(dir, `${name}.pid.json`),
  });
  started.push(record);
  return record;
}

const serve = `require("node:http").createServer((q, s) => s.end("ok")).listen(Number(process.env.PORT), "127.0.0.1", () => console.log("listening"));`;

describe("startDetached, isRunning, stopByPidFile", () => {
  it("starts a detached process, records it with its kernel start time, and stops it by its pid file", async () => {
    const port = await freePorts(1);
    const record = await start("server", serve, { PORT: String(port) });
    expect(record.startTicks).toBe(processStartTicks(record.pid));
    expect(record.startTicks).toMatch(/^\d+$/);
    expect(await readProcessRecord(join(dir, "server.pid.json"))).toEqual(record);
    await waitUntilListening(record, port, 10_000);
    expect(isRunning(record)).toBe(true);
    expect(await portAccepts(port)).toBe(true);

    expect(await stopByPidFile(join(dir, "server.pid.json"), 2000)).toBe("stopped");
    expect(isRunning(record)).toBe(false);
    expect(await portAccepts(port)).toBe(false);
    expect(existsSync(join(dir, "server.pid.json"))).toBe(false);
    expect(await stopByPidFile(join(dir, "server.pid.json"))).toBe("absent");
  });

  it("kills a process that ignores SIGTERM once the grace time is over", async () => {
    const record = await start(
      "stubborn",
      `process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000);`,
    );
    await waitUntil("the stubborn process to start", () =>
      readFileSync(record.logFile, "utf8").includes("up"),
    );
    const before = Date.now();
    expect(await stopProcess(record, 300)).toBe("stopped");
    expect(Date.now() - before).toBeGreaterThanOrEqual(300);
    expect(isRunning(record)).toBe(false);
  });

  it("refuses an empty command", async () => {
    await expect(
      startDetached({
        command: [],
        cwd: dir,
        env: {},
        logFile: join(dir, "x.log"),
        pidFile: join(dir, "x.pid.json"),
      }),
    ).rejects.toThrow("command: expected at least the executable, got an empty list");
  });
});

describe("pid reuse protection", () => {
  it("does not take a live process with another start time for the recorded one, and never stops it", async () => {
    const record = await start("sleeper", "setInterval(() => {}, 1000);");
    const recycled: ProcessRecord = { ...record, startTicks: String(Number(record.startTicks) + 1) };
    expect(isRunning(recycled)).toBe(false);
    expect(await stopProcess(recycled, 100)).toBe("absent");
    expect(isRunning(record)).toBe(true);
  });

  it("does not take a pid that no process has for running", async () => {
    const record = await start("short", "");
    await waitUntil("the short-lived process to exit", () => !isRunning(record));
    expect(isRunning({ ...record, pid: 2 ** 22 + 17, startTicks: null })).toBe(false);
  });

  it("does not take an exited process its parent has not collected yet (a zombie) for running", async () => {
    // sh starts a short child, prints its pid, and becomes a sleep that never collects it.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const pid = Number((await once(parent.stdout, "data")).toString().trim());
      const zombie: ProcessRecord = {
        pid,
        startTicks: processStartTicks(pid),
        command: ["sleep", "0"],
        cwd: "/",
        logFile: "",
        startedAt: new Date().toISOString(),
      };
      await waitUntil("the child to exit", () => readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "));
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(isRunning(zombie)).toBe(false);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});

describe("waitUntilListening", () => {
  it("fails early with the log's tail when the process exits before listening", async () => {
    const port = await freePorts(1);
    const record = await start("crash", `console.error("cannot open the data folder"); process.exit(3);`);
    await expect(waitUntilListening(record, port, 10_000)).rejects.toThrow(
      new RegExp(
        `exited before listening on port ${port}\\. Its log \\(.*crash\\.log\\):\\ncannot open the data folder`,
      ),
    );
  });

  it("fails after the timeout with the log's tail when the process never listens", async () => {
    const port = await freePorts(1);
    const record = await start("mute", `console.log("starting, slowly"); setInterval(() => {}, 1000);`);
    await expect(waitUntilListening(record, port, 400)).rejects.toThrow(
      new RegExp(
        `did not listen on port ${port} within 400 ms\\. Its log \\(.*mute\\.log\\):\\nstarting, slowly`,
      ),
    );
  });

  it("logTail gives the last lines, or says there is no output", async () => {
    const record = await start("chatty", `for (let i = 1; i <= 30; i++) console.log("line " + i);`);
    await waitUntil("the chatty process to exit", () => !isRunning(record));
    expect(await logTail(record.logFile, 3)).toBe("line 28\nline 29\nline 30");
    expect(await logTail(join(dir, "missing.log"))).toBe("(no log output)");
  });
});

describe("requireFreePorts", () => {
  it("names the port, what needed it and the setting to change when a stranger holds it", async () => {
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(
        requireFreePorts([port], "the blue colour of web", "shipgate:services.web.port"),
      ).rejects.toThrow(
        `port ${port} for the blue colour of web is in use by a process this stack does not track. ` +
          "Stop that process, or choose other ports with shipgate:services.web.port, and run the release again.",
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(requireFreePorts([port], "x", "y")).resolves.toBeUndefined();
  });
});
