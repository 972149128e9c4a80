// Where the local platform keeps each thing, relative to the project folder. One module decides,
// so the providers, the program and the docs agree. Under the stack's working folder:
//   services/<service>/router/      router state, pid and log          (removed on destroy)
//   services/<service>/<color>/     the colour's build, pid, spec, log (removed on destroy)
//   services/<service>/switch.json  the last switch: when the other colour became warm (removed on destroy)
//   services/<service>/failed/<id>/ failed builds kept, stopped, for inspection when the service's
//                                   keepFailedBuilds asks for them (the newest N; removed on destroy)
//   data/<service>/                 the service's data (shared by both colours; kept)
//   backups/<service>/<backup id>/  verified backups                   (kept)
//   records/                        deployment records, JSON and Markdown (kept)
//   notifications.log               every notification, one JSON line each (kept)
//   events.log                      restarts by the supervisor, one JSON line each (kept)
import { dirname, join } from "node:path";
import type { Color } from "../../components/platform";

export interface SlotPaths {
  readonly dir: string;
  readonly appDir: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly specFile: string;
}

export interface ServicePaths {
  readonly root: string;
  readonly routerDir: string;
  readonly routerState: string;
  readonly routerPid: string;
  readonly routerLog: string;
  /** The nginx that carries the router's user traffic, when there is one: `{pid, runtimeDir}`. */
  readonly routerNginx: string;
  /** The service's supervisor, started with the router: its pid and log sit beside the router's. */
  readonly supervisorPid: string;
  readonly supervisorLog: string;
  /** Restarts by the supervisor, one JSON line each (the stack's, beside its records). */
  readonly eventsLog: string;
  readonly dataDir: string;
  readonly backupsDir: string;
  /** The last switch of users between colours: `{active, previous, switchedAt}`. */
  readonly switchFile: string;
  /** Failed builds kept for inspection (keepFailedBuilds), one folder each. */
  readonly failedDir: string;
  slot(color: Color): SlotPaths;
}

/** The files of one colour, in its folder `dir`. */
export function slotPaths(dir: string): SlotPaths {
  return {
    dir,
    appDir: join(dir, "app"),
    pidFile: join(dir, "app.pid.json"),
    logFile: join(dir, "app.log"),
    specFile: join(dir, "spec.json"),
  };
}

export function servicePaths(workDir: string, service: string): ServicePaths {
  const root = join(workDir, "services", service);
  const routerDir = join(root, "router");
  return {
    root,
    routerDir,
    routerState: join(routerDir, "state.json"),
    routerPid: join(routerDir, "router.pid.json"),
    routerLog: join(routerDir, "router.log"),
    routerNginx: join(routerDir, "nginx.json"),
    supervisorPid: join(routerDir, "supervisor.pid.json"),
    supervisorLog: join(routerDir, "supervisor.log"),
    eventsLog: join(workDir, "events.log"),
    dataDir: join(workDir, "data", service),
    backupsDir: join(workDir, "backups", service),
    switchFile: join(root, "switch.json"),
    failedDir: join(root, "failed"),
    slot: (color) => slotPaths(join(root, color)),
  };
}

/** The failed builds kept for inspection of the service one of whose folders (a colour's, the router's) is `dir`. */
export function failedBuildsDirOf(dir: string): string {
  return join(dirname(dir), "failed");
}

export function recordsDir(workDir: string): string {
  return join(workDir, "records");
}

/** Append-only events between releases (a supervisor's restarts), one JSON line each, beside the records. */
export function eventsLog(workDir: string): string {
  return join(workDir, "events.log");
}

export function notificationsLog(workDir: string): string {
  return join(workDir, "notifications.log");
}

/** The ports of a service: the router on `port`, blue on port+1, green on port+2, the router's admin on port+3. */
export function servicePorts(port: number): { router: number; admin: number; slot: Record<Color, number> } {
  return { router: port, admin: port + 3, slot: { blue: port + 1, green: port + 2 } };
}
