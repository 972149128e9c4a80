// Long-running processes of the local platform (app slots, routers), as plain functions. A process
// is started detached, in its own process group, with its output in a log file, and tracked by a
// pid file next to it. The pid file records the process's start time as the kernel reports it, so
// a later engine run finds the same process again and never mistakes a recycled pid for it.
import writeFileAtomic from "write-file-atomic";
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { dirname } from "node:path";
import { assertEngineAlive } from "./engine-watch";

export interface ProcessRecord {
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  readonly startTicks: string | null;
  readonly command: readonly string[];
  readonly cwd: string;
  readonly logFile: string;
  readonly startedAt: string;
}

export interface StartArgs {
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
  readonly pidFile: string;
}

/** The kernel's start time of `pid`, or null where /proc is not available or the pid is gone. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may contain spaces and parentheses: count fields after its closing ")".
    const afterComm = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return afterComm[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * True when `pid` has exited but its parent has not collected it yet (a zombie). A detached process
 * whose starter has exited is collected by whatever adopted it, which can take seconds: until then
 * signal 0 still reaches it, though it runs no more.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

/** True when the process the record describes is still running (and is that same process). */
export function isRunning(record: ProcessRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    // ESRCH: gone. EPERM: a process of someone else's now has this pid, so not ours either.
    return false;
  }
  if (isZombie(record.pid)) return false;
  if (record.startTicks === null) return true;
  return processStartTicks(record.pid) === record.startTicks;
}

/**
 * True when the pid file names a process that no longer runs (false without a pid file). Diffs ask,
 * so that a plain `pulumi up`, not only one with --refresh, starts a dead router or colour again.
 */
export async function diedSince(pidFile: string): Promise<boolean> {
  const record = await readProcessRecord(pidFile);
  return record !== undefined && !isRunning(record);
}

export async function readProcessRecord(pidFile: string): Promise<ProcessRecord | undefined> {
  try {
    return JSON.parse(await readFile(pidFile, "utf8")) as ProcessRecord;
  } catch {
    return undefined;
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Starts `command` detached, logs to `logFile`, records it in `pidFile`. */
export async function startDetached(args: StartArgs): Promise<ProcessRecord> {
  const [executable, ...rest] = args.command;
  if (!executable) throw new Error("command: expected at least the executable, got an empty list");
  assertEngineAlive(`starting ${args.command.join(" ")}`);
  await mkdir(dirname(args.logFile), { recursive: true });
  const log = openSync(args.logFile, "a");
  try {
    const child = spawn(executable, rest, {
      cwd: args.cwd,
      env: { ...args.env },
      detached: true,
      stdio: ["ignore", log, log],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("error", (error) =>
        reject(new Error(`could not start ${args.command.join(" ")} in ${args.cwd}: ${error.message}`)),
      );
      child.once("spawn", () => resolve(child.pid ?? -1));
    });
    child.unref();
    const record: ProcessRecord = {
      pid,
      startTicks: processStartTicks(pid),
      command: [...args.command],
      cwd: args.cwd,
      logFile: args.logFile,
      startedAt: new Date().toISOString(),
    };
    await writeJsonAtomic(args.pidFile, record);
    return record;
  } finally {
    closeSync(log);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops the process (and its process group) politely, then forcefully after `graceMs`.
 * Resolves once it is gone. A record whose process is already gone is fine.
 */
export async function stopProcess(record: ProcessRecord, graceMs = 10_000): Promise<"stopped" | "absent"> {
  if (!isRunning(record)) return "absent";
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-record.pid, sig);
    } catch {
      try {
        process.kill(record.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(record)) return "stopped";
    await sleep(50);
  }
  signal("SIGKILL");
  for (let i = 0; i < 100 && isRunning(record); i += 1) await sleep(20);
  return "stopped";
}

/** Stops the process a pid file describes, then removes the pid file. */
export async function stopByPidFile(pidFile: string, graceMs?: number): Promise<"stopped" | "absent"> {
  const record = await readProcessRecord(pidFile);
  const result = record ? await stopProcess(record, graceMs) : "absent";
  await rm(pidFile, { force: true });
  return result;
}

/** Resolves when something accepts TCP connections on 127.0.0.1:port. */
export function portAccepts(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * A process that was just killed can still accept connections for a moment while the kernel tears
 * it down (seen as a zombie that still holds its listening socket): its port is given that long.
 */
export const portReleaseMs = 2000;

/** Resolves true once nothing accepts connections on `port`, false if something still does after `withinMs`. */
export async function portFreesWithin(port: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (await portAccepts(port)) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Fails when something this stack does not track already listens on one of `ports`: the new process
 * could not bind, and a readiness check would be answered by the stranger.
 */
export async function requireFreePorts(
  ports: readonly number[],
  what: string,
  settingKey: string,
): Promise<void> {
  for (const port of ports) {
    if (!(await portFreesWithin(port, portReleaseMs))) {
      throw new Error(
        `port ${port} for ${what} is in use by a process this stack does not track. ` +
          `Stop that process, or choose other ports with ${settingKey}, and run the release again.`,
      );
    }
  }
}

/** The last `lines` lines of a log file, for error messages. */
export async function logTail(logFile: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(logFile, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log output)";
  }
}

/**
 * Waits until the process listens on `port`; fails early, with the log's tail, when the process
 * exits first or the timeout passes.
 */
export async function waitUntilListening(
  record: ProcessRecord,
  port: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portAccepts(port)) return;
    if (!isRunning(record)) {
      throw new Error(
        `${record.command.join(" ")} exited before listening on port ${port}. Its log (${record.logFile}):\n` +
          (await logTail(record.logFile)),
      );
    }
    await sleep(100);
  }
  throw new Error(
    `${record.command.join(" ")} did not listen on port ${port} within ${timeoutMs} ms. ` +
      `Its log (${record.logFile}):\n${await logTail(record.logFile)}`,
  );
}

export { writeJsonAtomic };
