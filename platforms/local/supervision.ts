// What the local platform and its supervisor agree on about a supervised process (a router or a
// colour), as plain functions:
// - `restart.json` beside the pid file says how to start the process again; only a process that has
//   one is restarted when it dies, and every stop on purpose removes it first;
// - a lock folder beside it makes "stop, then start" of the platform and "see it dead, restart it"
//   of the supervisor exclusive, so neither ever starts a second copy or revives a stopped one;
// - `gate.json` in a colour's folder keeps the checks and policy its build passed, so a restarted
//   colour is judged again by the same gate before users reach it (the router holds it meanwhile).
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runGate, type GatePolicy, type ResolvedHttpCheck } from "../../contract";
import type { Color } from "../../components/platform";
import {
  isRunning,
  processStartTicks,
  stopByPidFile,
  writeJsonAtomic,
  type ProcessRecord,
} from "./process-ops";
import { RouterAdminError, setRouterHold } from "./router/router-client";
import { readRouterState, setHeld, writeRouterState } from "./router/state";

/** How to start a supervised process again: what it was started with. */
export interface RestartSpec {
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
  /** The port it listens on once ready (a colour's own port, the router's admin port). */
  readonly port: number;
  /**
   * Variables the process gets from the stack's secrets, whose values are kept in no file: only an
   * engine run (which holds them) starts such a process again.
   */
  readonly secretVariables?: readonly string[];
}

/** The gate a colour's build passed, kept to judge the same build again after a restart. */
export interface PassedGate {
  readonly releaseKey: string;
  readonly digest: string;
  readonly checks: readonly ResolvedHttpCheck[];
  readonly policy: GatePolicy;
  readonly passedAt: string;
}

export const restartFileName = "restart.json";
export const gateFileName = "gate.json";
const lockName = ".lock";

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export const readRestartSpec = (dir: string) => readJson<RestartSpec>(join(dir, restartFileName));
export const readPassedGate = (dir: string) => readJson<PassedGate>(join(dir, gateFileName));

/** The restart spec may carry the build's environment: readable by this user only. */
export async function writeRestartSpec(dir: string, spec: RestartSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, restartFileName), `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
}

export async function writePassedGate(dir: string, gate: PassedGate): Promise<void> {
  await writeJsonAtomic(join(dir, gateFileName), gate);
}

/**
 * Takes the lock of `dir` when free (or left by a process that is gone); returns its release, or
 * undefined when someone else holds it.
 */
export async function tryLock(dir: string): Promise<(() => Promise<void>) | undefined> {
  const lock = join(dir, lockName);
  await mkdir(dir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await mkdir(lock);
      const owner: ProcessRecord = {
        pid: process.pid,
        startTicks: processStartTicks(process.pid),
        command: [],
        cwd: dir,
        logFile: "",
        startedAt: new Date().toISOString(),
      };
      await writeFile(join(lock, "owner.json"), JSON.stringify(owner));
      return () => rm(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = await readJson<ProcessRecord>(join(lock, "owner.json"));
      // A lock whose owner is gone (an engine killed mid-step) is taken over; one being written
      // right now (no owner file yet) is busy.
      if (owner === undefined || isRunning(owner)) return undefined;
      await rm(lock, { recursive: true, force: true });
    }
  }
  return undefined;
}

/** Runs `fn` holding the lock of `dir`, waiting up to `timeoutMs` for it. */
export async function withLock<T>(dir: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const release = await tryLock(dir);
    if (release) {
      try {
        return await fn();
      } finally {
        await release();
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${join(dir, lockName)} stayed locked for ${timeoutMs} ms: the supervisor or another run is ` +
          "starting this process. Run the release again; remove the folder only if no shipgate process runs.",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Stops a process on purpose: it is no longer supervised, then stopped. The caller holds the lock. */
export async function stopUnsupervisedLocked(pidFile: string): Promise<"stopped" | "absent"> {
  await rm(join(dirname(pidFile), restartFileName), { force: true });
  return stopByPidFile(pidFile);
}

/** Stops a process on purpose, so that the supervisor does not start it again. */
export function stopOnPurpose(pidFile: string): Promise<"stopped" | "absent"> {
  return withLock(dirname(pidFile), () => stopUnsupervisedLocked(pidFile));
}

/**
 * Holds `color` back from users (or lets them reach it again) at the router of the service whose
 * folder is `serviceDir`: through its admin API while it runs, in its state file (read at start)
 * when it does not. Without a router (a first release before it, a destroy after it) nothing is held.
 */
export async function holdColor(serviceDir: string, color: Color, held: boolean): Promise<void> {
  const stateFile = join(serviceDir, "router", "state.json");
  let state;
  try {
    state = await readRouterState(stateFile);
  } catch {
    return;
  }
  if ((state.held ?? []).includes(color) === held) return;
  try {
    await setRouterHold({ adminPort: state.adminPort }, color, held);
  } catch (error) {
    if (!(error instanceof RouterAdminError) || error.status !== undefined) throw error;
    await writeRouterState(stateFile, setHeld(state, color, held));
  }
}

export interface Regate {
  readonly verdict: "passed" | "failed" | "no-gate";
  readonly message: string;
  readonly rounds: number;
}

/**
 * Judges a colour's restarted process by the gate its build passed (the contract's runGate, the same
 * judge as the release's), against its own port. `no-gate` when the build never passed one here.
 */
export async function regate(dir: string, port: number, digest: string): Promise<Regate> {
  const gate = await readPassedGate(dir);
  if (gate === undefined || gate.digest !== digest) {
    return {
      verdict: "no-gate",
      message: "this build has not passed a gate in this colour; it waits for the next release's gate",
      rounds: 0,
    };
  }
  const report = await runGate({
    baseUrl: `http://127.0.0.1:${port}`,
    checks: gate.checks,
    policy: gate.policy,
  });
  return {
    verdict: report.verdict === "passed" ? "passed" : "failed",
    message: report.message,
    rounds: report.totals.rounds,
  };
}
