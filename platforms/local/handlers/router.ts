// The router of a service: a detached process in front of the two colours. Its state file keeps the
// active colour, so a restarted router (or engine) finds everything as it was.
import { existsSync } from "node:fs";
import { readFile, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { LocalHandlers } from "../provider-factory";
import {
  diedSince,
  isRunning,
  readProcessRecord,
  requireFreePorts,
  startDetached,
  stopByPidFile,
  waitUntilListening,
  writeJsonAtomic,
} from "../process-ops";
import { colors } from "../../../components/platform";
import { failedBuildsDirOf, servicePorts, slotPaths } from "../layout";
import { stopLeftOverNginx } from "../router/nginx";
import { waitForRouter } from "../router/router-client";
import { stopOnPurpose, stopUnsupervisedLocked, withLock, writeRestartSpec } from "../supervision";
import { initialRouterState, parseRouterState, type RouterState } from "../router/state";

export interface RouterInputs {
  readonly service: string;
  /** The router's folder (state, pid, log), relative to the project. */
  readonly dir: string;
  readonly port: number;
  readonly adminPort: number;
}

export interface RouterOutputs extends RouterInputs {
  readonly pid: number;
  readonly url: string;
  readonly running: boolean;
}

async function readState(path: string): Promise<RouterState | undefined> {
  try {
    return parseRouterState(JSON.parse(await readFile(path, "utf8")), path);
  } catch {
    return undefined;
  }
}

const supervisorPidFile = (dir: string) => join(dir, "supervisor.pid.json");

/**
 * The nginx the set-up unpacked into the project (scripts/lib/nginx.mjs), for the router to carry user
 * traffic with; without it the router forwards requests itself.
 */
function nginxEnv(projectDir: string): Record<string, string> {
  const binary = join(projectDir, ".tools", "nginx", "nginx");
  return existsSync(binary) ? { SHIPGATE_NGINX: binary } : {};
}

/** How the router of `dir` starts (and how the supervisor starts it again). */
function routerStart(projectDir: string, dir: string, port: number) {
  return {
    command: [
      process.execPath,
      join(projectDir, "dist/platforms/local/router/main.js"),
      join(dir, "state.json"),
    ],
    cwd: dir,
    env: {
      PATH: process.env["PATH"] ?? "",
      ...nginxEnv(projectDir),
      // Where the colours will listen, so nginx has their pools ready and registering a colour
      // changes no configuration (a reload would close every idle keep-alive connection).
      SHIPGATE_SLOT_PORTS: colors.map((color) => `${color}=${servicePorts(port).slot[color]}`).join(","),
    },
    logFile: join(dir, "router.log"),
  };
}

/**
 * Starts the service's supervisor unless it runs: detached in its own process group, so that it
 * outlives the engine and restarts the router and colours between runs.
 */
export async function ensureSupervisor(projectDir: string, dir: string): Promise<void> {
  const pidFile = supervisorPidFile(dir);
  const running = await readProcessRecord(pidFile);
  if (running !== undefined && isRunning(running)) return;
  await startDetached({
    command: [process.execPath, join(projectDir, "dist/platforms/local/supervisor/main.js"), dir],
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "" },
    logFile: join(dir, "supervisor.log"),
    pidFile,
  });
}

/** (Re)starts the router, keeping the active colour and upstreams of an existing state file. */
export async function startRouterProcess(projectDir: string, inputs: RouterInputs): Promise<RouterOutputs> {
  const dir = join(projectDir, inputs.dir);
  const statePath = join(dir, "state.json");
  const pidFile = join(dir, "router.pid.json");
  const record = await withLock(dir, async () => {
    await stopUnsupervisedLocked(pidFile);
    await stopLeftOverNginx(dir);
    await requireFreePorts(
      [inputs.port, inputs.adminPort],
      `the router of ${inputs.service}`,
      `shipgate:services.${inputs.service}.port`,
    );
    const existing = await readState(statePath);
    const state: RouterState = existing
      ? { ...existing, listenPort: inputs.port, adminPort: inputs.adminPort }
      : initialRouterState({ service: inputs.service, listenPort: inputs.port, adminPort: inputs.adminPort });
    await writeJsonAtomic(statePath, state);
    const start = routerStart(projectDir, dir, inputs.port);
    const started = await startDetached({ ...start, pidFile });
    try {
      await waitUntilListening(started, inputs.adminPort, 15_000);
    } catch (error) {
      await stopByPidFile(pidFile);
      throw error;
    }
    await writeRestartSpec(dir, { ...start, port: inputs.adminPort });
    return started;
  });
  await waitForRouter({ adminPort: inputs.adminPort });
  await ensureSupervisor(projectDir, dir);
  return { ...inputs, pid: record.pid, url: `http://127.0.0.1:${inputs.port}`, running: true };
}

async function supervisorRuns(dir: string): Promise<boolean> {
  const record = await readProcessRecord(supervisorPidFile(dir));
  return record !== undefined && isRunning(record);
}

export const handlers: LocalHandlers<RouterInputs, RouterOutputs> = {
  async diff(projectDir, _id, olds, news) {
    const replaces = (["service", "dir"] as const).filter((k) => olds[k] !== news[k]);
    // A router that died is started again by a plain `pulumi up` too, not only after --refresh.
    const changes =
      replaces.length > 0 ||
      olds.port !== news.port ||
      olds.adminPort !== news.adminPort ||
      !olds.running ||
      (await diedSince(join(projectDir, olds.dir, "router.pid.json"))) ||
      !(await supervisorRuns(join(projectDir, olds.dir)));
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(projectDir, inputs) {
    return { id: `${inputs.service}-router`, outs: await startRouterProcess(projectDir, inputs) };
  },
  async read(projectDir, id, props): Promise<pulumi.dynamic.ReadResult<RouterOutputs>> {
    const record = await readProcessRecord(join(projectDir, props.dir, "router.pid.json"));
    return { id, props: { ...props, running: record !== undefined && isRunning(record) } };
  },
  async update(projectDir, _id, olds, news) {
    // A router that runs where it should is left serving; only its supervisor is started again.
    const dir = join(projectDir, news.dir);
    const running = await readProcessRecord(join(dir, "router.pid.json"));
    if (
      olds.dir === news.dir &&
      olds.port === news.port &&
      olds.adminPort === news.adminPort &&
      running &&
      isRunning(running)
    ) {
      await withLock(dir, () =>
        writeRestartSpec(dir, { ...routerStart(projectDir, dir, news.port), port: news.adminPort }),
      );
      await ensureSupervisor(projectDir, dir);
      return { outs: { ...news, pid: running.pid, url: `http://127.0.0.1:${news.port}`, running: true } };
    }
    return { outs: await startRouterProcess(projectDir, news) };
  },
  async delete(projectDir, _id, props) {
    const dir = join(projectDir, props.dir);
    // The supervisor first, so nothing is started again while the stack's processes stop.
    await stopByPidFile(supervisorPidFile(dir));
    await stopOnPurpose(join(dir, "router.pid.json"));
    // An nginx a killed router left behind serves on in a process group of its own dead router.
    await stopLeftOverNginx(dir);
    // The router goes only with the whole service (destroy, or a new working folder): a colour the
    // state does not know of (its start was cut short by a killed engine) is stopped here too, so
    // nothing the stack started outlives it. The colours' own deletes find theirs already stopped.
    for (const color of colors) {
      const pidFile = slotPaths(join(dirname(dir), color)).pidFile;
      if (existsSync(pidFile)) await stopOnPurpose(pidFile);
    }
    // A colour deleted at the same time (a warm colour does not depend on the router) may have removed
    // its folder while the stop above waited for its lock, which takes the lock by creating the folder
    // again: such a folder is left empty, and is removed here (rmdir refuses one that holds anything).
    for (const color of colors) await rmdir(join(dirname(dir), color)).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    // Failed builds kept for inspection go with the service: they are builds the stack ran, not its
    // records (which stay). An operator who wants one copies it out before destroying.
    await rm(failedBuildsDirOf(dir), { recursive: true, force: true });
    // The service's folder and services/ go too once empty (the colours are deleted before the
    // router, which they depend on); rmdir refuses a folder that still holds anything.
    for (const folder of [dirname(dir), dirname(dirname(dir))]) {
      await rmdir(folder).catch(() => undefined);
    }
  },
};
