// The supervisor of one service: a detached process (started with the router, stopped by its delete)
// that outlives the engine and restarts the router and either colour within a second of their death.
// A colour is held back from users while it restarts and is judged again by the gate its build passed
// (the contract's runGate) before the router sends anyone to it; meanwhile the warm colour serves.
// Every restart is one line in the stack's events log and a `restarted` notification, never a
// release record. Only processes with a restart spec are restarted: a stop on purpose removes it.
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { colors, type Color } from "../../../components/platform";
import type { NotificationEvent } from "../../../contract";
import { eventsLog, notificationsLog, slotPaths } from "../layout";
import { appendLine, notify } from "../notify-ops";
import {
  isRunning,
  portFreesWithin,
  portReleaseMs,
  readProcessRecord,
  startDetached,
  stopByPidFile,
  waitUntilListening,
} from "../process-ops";
import { readRouterState } from "../router/state";
import {
  holdColor,
  readPassedGate,
  readRestartSpec,
  regate,
  tryLock,
  type Regate,
  type RestartSpec,
} from "../supervision";

/** One supervised process: the router or a colour, by the folder that holds its pid file. */
interface Target {
  readonly name: "router" | Color;
  readonly dir: string;
  readonly pidFile: string;
}

export type RestartOutcome =
  "serving" | "failed-to-start" | "failed-gate" | "held-without-gate" | "left-for-up";

/** One line of the events log. */
export interface RestartEvent {
  readonly type: "restart";
  readonly at: string;
  readonly service: string;
  readonly process: "router" | Color;
  readonly previousPid: number | null;
  readonly pid: number | null;
  readonly outcome: RestartOutcome;
  /** From seeing it dead to serving again (or giving up for now). */
  readonly tookMs: number;
  readonly gate: Regate | null;
  /**
   * For a colour: when the router was told to let users reach it again (after its gate passed), or
   * null when it was not; no user request reaches the restarted colour before this time.
   */
  readonly usersFrom: string | null;
  readonly detail: string;
}

export interface SupervisorOptions {
  /** The router's folder of the service: services/<service>/router under the stack's working folder. */
  readonly routerDir: string;
  readonly intervalMs?: number;
  readonly log?: (line: string) => void;
  /** Called once the router's folder is gone (the stack destroyed): nothing is left to supervise. */
  readonly onGone?: () => void;
}

const readinessTimeoutMs = 20_000;
/** Backoff after a failed restart, doubling up to the maximum, so a crashing build does not spin. */
const backoffMs = { first: 500, max: 30_000 };

async function readSpecDigest(dir: string): Promise<{ version: string; digest: string } | undefined> {
  try {
    const spec = JSON.parse(await readFile(slotPaths(dir).specFile, "utf8")) as {
      version: string;
      artifact: { digest: string };
    };
    return { version: spec.version, digest: spec.artifact.digest };
  } catch {
    return undefined;
  }
}

function releaseOf(key: string | undefined, version: string | undefined): NotificationEvent["release"] {
  if (key === undefined || !key.includes("@")) return { changeId: "unknown", version: version ?? "unknown" };
  return { changeId: key.slice(0, key.lastIndexOf("@")), version: key.slice(key.lastIndexOf("@") + 1) };
}

export interface Supervisor {
  /** Checks every process once more now, and resolves when the restarts that started are done. */
  checkOnce(): Promise<void>;
  /** Stops watching and waits for a restart in progress to finish. */
  stop(): Promise<void>;
}

export function supervise(options: SupervisorOptions): Supervisor {
  const routerDir = options.routerDir;
  const serviceDir = dirname(routerDir);
  const workDir = dirname(dirname(serviceDir));
  const service = basename(serviceDir);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const say = (line: string) => log(`${new Date().toISOString()} shipgate-supervisor[${service}] ${line}`);
  const targets: Target[] = [
    { name: "router", dir: routerDir, pidFile: join(routerDir, "router.pid.json") },
    ...colors.map((color) => {
      const paths = slotPaths(join(serviceDir, color));
      return { name: color, dir: paths.dir, pidFile: paths.pidFile };
    }),
  ];
  const busy = new Map<string, Promise<void>>();
  const failures = new Map<string, { count: number; nextAt: number }>();
  /** Colours left for the next `pulumi up`, by the pid that died: reported once, not retried. */
  const leftForUp = new Map<string, number | null>();
  let stopping = false;

  /** The next attempt waits twice as long as the last, up to the maximum. */
  const backOff = (name: string) => {
    const count = (failures.get(name)?.count ?? 0) + 1;
    const wait = Math.min(backoffMs.max, backoffMs.first * 2 ** (count - 1));
    failures.set(name, { count, nextAt: Date.now() + wait });
  };

  const record = async (event: RestartEvent, release: NotificationEvent["release"]) => {
    await appendLine(eventsLog(workDir), event);
    const what = event.process === "router" ? "The router" : `The ${event.process} colour`;
    const messages: Record<RestartOutcome, string> = {
      serving:
        event.process === "router"
          ? `${what} of ${service} died and was restarted; it serves users again.`
          : `${what} of ${service} died and was restarted; it passed its gate again and users may reach it.`,
      "failed-to-start": `${what} of ${service} died and could not be started again: ${event.detail}`,
      "failed-gate": `${what} of ${service} died, was restarted and failed its gate; it was stopped and users are not sent to it. ${event.detail}`,
      "held-without-gate": `${what} of ${service} died and was restarted, but its build has no passed gate here; users are not sent to it until a release gates it.`,
      "left-for-up": `${what} of ${service} died; it runs with the stack's secrets, which only a \`pulumi up\` holds, so it was not restarted and users are not sent to it. Run the release again to start it.`,
    };
    await notify({
      channel: { logFile: notificationsLog(workDir) },
      event: {
        stage: "restarted",
        release,
        service,
        message: messages[event.outcome],
        severity: event.outcome === "serving" ? "warning" : "critical",
        audience: ["team"],
        at: event.at,
      },
    });
  };

  const restart = async (target: Target, previousPid: number | null, seenAt: number) => {
    const release = await tryLock(target.dir);
    if (release === undefined) return; // the platform is starting or stopping it right now
    try {
      // Seen again under the lock: a stop on purpose or a start by the platform may have come first.
      const spec: RestartSpec | undefined = await readRestartSpec(target.dir);
      const now = await readProcessRecord(target.pidFile);
      if (spec === undefined || (now !== undefined && isRunning(now))) return;
      const color = target.name === "router" ? null : target.name;
      const build = color === null ? undefined : await readSpecDigest(target.dir);
      if (color !== null) await holdColor(serviceDir, color, true);
      if ((spec.secretVariables ?? []).length > 0) {
        // Its secret values are in no file: starting it without them would run a build nobody
        // released. Said once per death; the next `pulumi up` starts it.
        leftForUp.set(target.name, previousPid);
        say(`${target.name} (pid ${previousPid ?? "none"}) is not running; left for the next pulumi up`);
        await record(
          {
            type: "restart",
            at: new Date().toISOString(),
            service,
            process: target.name,
            previousPid,
            pid: null,
            outcome: "left-for-up",
            tookMs: Date.now() - seenAt,
            gate: null,
            usersFrom: null,
            detail: `runs with secret variables ${(spec.secretVariables ?? []).join(", ")}`,
          },
          await releaseFor(color),
        );
        return;
      }
      say(`${target.name} (pid ${previousPid ?? "none"}) is not running; starting it again`);
      // A process killed a moment ago may hold its port a little longer while the kernel ends it.
      await portFreesWithin(spec.port, portReleaseMs);
      const started = await startDetached({ ...spec, pidFile: target.pidFile });
      let outcome: RestartOutcome = "serving";
      let detail = "";
      let gate: Regate | null = null;
      let usersFrom: string | null = null;
      try {
        await waitUntilListening(started, spec.port, readinessTimeoutMs);
      } catch (error) {
        await stopByPidFile(target.pidFile);
        outcome = "failed-to-start";
        detail = (error as Error).message;
      }
      if (outcome === "serving" && color !== null) {
        gate =
          build === undefined
            ? { verdict: "no-gate", message: "the colour's spec.json is missing", rounds: 0 }
            : await regate(target.dir, spec.port, build.digest);
        if (gate.verdict === "passed") {
          usersFrom = new Date().toISOString();
          await holdColor(serviceDir, color, false);
        } else if (gate.verdict === "failed") {
          await stopByPidFile(target.pidFile);
          outcome = "failed-gate";
          detail = gate.message;
        } else outcome = "held-without-gate";
      }
      const failed = outcome === "failed-to-start" || outcome === "failed-gate";
      if (failed) backOff(target.name);
      else failures.delete(target.name);
      say(`${target.name} ${outcome}${detail ? `: ${detail.split("\n")[0] ?? ""}` : ""}`);
      await record(
        {
          type: "restart",
          at: new Date().toISOString(),
          service,
          process: target.name,
          previousPid,
          pid: failed ? null : started.pid,
          outcome,
          tookMs: Date.now() - seenAt,
          gate,
          usersFrom,
          detail,
        },
        await releaseFor(color),
      );
    } finally {
      await release();
    }
  };

  /** The release a notification names: the colour's own, or for the router the active colour's. */
  const releaseFor = async (color: Color | null): Promise<NotificationEvent["release"]> => {
    const owner = color ?? (await activeColor());
    const passed = owner === null ? undefined : await readPassedGate(join(serviceDir, owner));
    const version = owner === null ? undefined : (await readSpecDigest(join(serviceDir, owner)))?.version;
    return releaseOf(passed?.releaseKey, version);
  };

  const activeColor = async (): Promise<Color | null> => {
    try {
      return (await readRouterState(join(routerDir, "state.json"))).active;
    } catch {
      return null;
    }
  };

  const tick = async () => {
    for (const target of targets) {
      if (stopping || busy.has(target.name)) continue;
      if ((await readRestartSpec(target.dir)) === undefined) continue;
      const pid = await readProcessRecord(target.pidFile);
      if (pid !== undefined && isRunning(pid)) continue;
      if (leftForUp.has(target.name) && leftForUp.get(target.name) === (pid?.pid ?? null)) continue;
      const backoff = failures.get(target.name);
      if (backoff !== undefined && Date.now() < backoff.nextAt) continue;
      const job = restart(target, pid?.pid ?? null, Date.now())
        .catch((error: unknown) => {
          say(`restarting ${target.name} failed: ${(error as Error).message}`);
          backOff(target.name);
        })
        .finally(() => busy.delete(target.name));
      busy.set(target.name, job);
    }
  };

  const intervalMs = options.intervalMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  const loop = () => {
    // The service's folder is gone (destroyed or removed by hand): nothing is left to supervise.
    if (!existsSync(routerDir)) {
      say(`${routerDir} is gone; the supervisor stops`);
      stopping = true;
      options.onGone?.();
      return;
    }
    ticking = tick()
      .catch((error: unknown) => say(`check failed: ${(error as Error).message}`))
      .finally(() => {
        if (!stopping) timer = setTimeout(loop, intervalMs);
      });
  };
  say(`watching the router and colours of ${service} every ${intervalMs} ms`);
  loop();

  return {
    async checkOnce() {
      await ticking;
      await tick();
      await Promise.all(busy.values());
    },
    async stop() {
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      await ticking;
      await Promise.all(busy.values());
    },
  };
}
