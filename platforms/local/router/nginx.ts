// The router's nginx: started as the router's child (so stopping the router's process group stops
// it too), given a new configuration on every state change, and waited for until that configuration
// is the one taking connections. Failed requests come back through nginx's failure log.
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  openSync,
  readSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import writeFileAtomic from "write-file-atomic";
import { z } from "zod";
import type { FailoverSettings } from "./failover";
import { type NginxPaths, renderNginxConfig, routeMarker, routeMarkers } from "./nginx-config";
import { type Color, type RouterState, colors } from "./state";

/** How long nginx may take to start or to take a new configuration before the router gives up. */
const applyTimeoutMs = 10_000;
/** The failure log is emptied once it grows past this (nginx appends, so emptying it is safe). */
const failureLogLimitBytes = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the router folder remembers of its nginx, so a restarted router can stop a left-over one. */
const recordSchema = z.strictObject({ pid: z.number().int().positive(), runtimeDir: z.string() });
const recordFile = (routerDir: string) => join(routerDir, "nginx.json");

/** The command line of `pid`, or undefined when no such process runs. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
  } catch {
    return undefined;
  }
}

/** The pids whose parent is `parent`. */
function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === parent) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

type NginxRecord = z.infer<typeof recordSchema>;

async function readNginxRecord(routerDir: string): Promise<NginxRecord | undefined> {
  try {
    return recordSchema.parse(JSON.parse(await readFile(recordFile(routerDir), "utf8")));
  } catch {
    return undefined;
  }
}

/** True while the recorded nginx runs: its master, started with its own folder (not a reused pid). */
function runs(record: NginxRecord): boolean {
  const command = commandLine(record.pid);
  return (
    command !== undefined &&
    command.startsWith("nginx: master process") &&
    command.includes(record.runtimeDir)
  );
}

/** Stops a recorded nginx: politely first, so requests in flight finish, then forcefully. */
async function stopNginx(record: NginxRecord, graceMs: number): Promise<void> {
  if (runs(record)) {
    process.kill(record.pid, "SIGQUIT");
    const deadline = Date.now() + graceMs;
    while (runs(record) && Date.now() < deadline) await sleep(20);
    if (runs(record)) {
      for (const worker of childrenOf(record.pid)) process.kill(worker, "SIGKILL");
      process.kill(record.pid, "SIGKILL");
      while (runs(record)) await sleep(20);
    }
  }
  await rm(record.runtimeDir, { recursive: true, force: true });
}

/**
 * Stops an nginx a router of this folder left running (the router was killed, its nginx was not),
 * for a deliberate start or a destroy.
 */
export async function stopLeftOverNginx(routerDir: string, graceMs = 10_000): Promise<void> {
  const record = await readNginxRecord(routerDir);
  if (record === undefined) return;
  await stopNginx(record, graceMs);
  await rm(recordFile(routerDir), { force: true });
}

/** One GET on nginx's internal listener. */
function getStatus(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, agent: false, timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 2 s")));
    req.on("error", reject);
  });
}

/** The last lines of nginx's error log, for an error message. */
function errorTail(path: string): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-5).join("\n");
  } catch {
    return "(no error log)";
  }
}

export interface FailedRequest {
  readonly color: Color;
  /** "answered 500", or "no answer" when no response header came. */
  readonly what: string;
}

/** Parses one failure log line: `<ms> <addresses>|<statuses>|<header times>` (first attempt). */
export function parseFailureLine(line: string, state: RouterState): FailedRequest | undefined {
  const match = /^\S+ ([^|]*)\|([^|]*)\|(.*)$/.exec(line);
  if (match === null) return undefined;
  const first = (list: string | undefined) => (list ?? "").split(/[,:]\s/)[0]?.trim() ?? "";
  const address = first(match[1]);
  const status = first(match[2]);
  const headerTime = first(match[3]);
  const color = colors.find((c) => state.upstreams[c] === `http://${address}`);
  if (color === undefined) return undefined;
  return { color, what: headerTime === "-" ? `no answer (nginx ${status})` : `answered ${status}` };
}

export interface NginxOptions {
  readonly binary: string;
  readonly routerDir: string;
  readonly log: (action: string, detail: string) => void;
  /** Every failed request nginx logs (the first attempt's colour and what happened). */
  readonly onFailure: (failure: FailedRequest) => void;
  /** nginx ended without being asked to. */
  readonly onExit: (detail: string) => void;
  /** Where colours not registered yet will listen (their pools are made ready). */
  readonly slotPorts?: Partial<Record<Color, number>>;
}

export interface NginxDataPlane {
  readonly paths: NginxPaths;
  readonly pid: () => number | undefined;
  /** Starts nginx with `state` (the router listens on its socket) and resolves once it takes connections. */
  start(state: RouterState, settings: FailoverSettings, listenPort: number): Promise<void>;
  /**
   * Sends users where `state` says, at once; when the colours' addresses or the settings changed,
   * gives nginx a new configuration first and waits until no worker of an older one accepts.
   */
  apply(state: RouterState, settings: FailoverSettings, listenPort: number): Promise<void>;
  /**
   * Sends users where `state` says before returning, when only the route changed (a failover: the
   * next request must not meet the failing colour).
   */
  reroute(state: RouterState): void;
  /** Requests nginx is reading or answering now. */
  inFlight(): Promise<number>;
  /** Stops nginx, letting requests in flight finish for up to `graceMs`. True when they all did. */
  close(graceMs: number): Promise<boolean>;
}

/**
 * Prepares the data plane's private folder; starts nothing. An nginx a killed router left behind
 * keeps serving users until the new one takes connections next to it (both listen with reuseport),
 * and only then is stopped: a router's restart costs users nothing.
 */
export async function prepareNginx(options: NginxOptions): Promise<NginxDataPlane> {
  const leftOver = await readNginxRecord(options.routerDir);
  const runtimeDir = await mkdtemp(join(tmpdir(), "shipgate-nginx-"));
  // Run as root, nginx's workers drop to an unprivileged user (defence in depth for the process that
  // parses users' requests), which must reach the router's socket: it may pass through the folder
  // (not list it) and connect to that socket. Anyone who can do that can reach the public port too.
  if (process.getuid?.() === 0) await chmod(runtimeDir, 0o711);
  const paths: NginxPaths = {
    runtimeDir,
    routerSocket: join(runtimeDir, "router.sock"),
    statusSocket: join(runtimeDir, "status.sock"),
    failureLog: join(runtimeDir, "failures.log"),
    errorLog: join(options.routerDir, "nginx-error.log"),
  };
  const configFile = join(runtimeDir, "nginx.conf");
  const routeDir = join(runtimeDir, "route");
  await mkdir(routeDir, { mode: 0o755 });
  await writeFile(paths.failureLog, "", { mode: 0o600 });

  let child: ChildProcess | undefined;
  let closing = false;
  let generation = 0;
  let current: RouterState | undefined;
  let queue: Promise<void> = Promise.resolve();
  let exited: Promise<void> = Promise.resolve();

  // The failure log, read from where the last read stopped whenever nginx appends to it.
  let offset = 0;
  let reading = false;
  const readFailures = async () => {
    if (reading || current === undefined) return;
    reading = true;
    try {
      const fd = openSync(paths.failureLog, "r");
      try {
        const buffer = Buffer.alloc(64 * 1024);
        let text = "";
        for (;;) {
          const n = readSync(fd, buffer, 0, buffer.length, offset);
          if (n <= 0) break;
          offset += n;
          text += buffer.toString("utf8", 0, n);
        }
        const complete = text.lastIndexOf("\n") + 1;
        offset -= Buffer.byteLength(text.slice(complete));
        for (const line of text.slice(0, complete).split("\n")) {
          const failure = line === "" ? undefined : parseFailureLine(line, current);
          if (failure !== undefined) options.onFailure(failure);
        }
      } finally {
        closeSync(fd);
      }
      // A line nginx appends between the read above and the emptying is lost: at most a few failed
      // requests uncounted, once per megabyte of them.
      if (offset > failureLogLimitBytes) {
        await truncate(paths.failureLog, 0);
        offset = 0;
      }
    } catch (error) {
      if (!closing) options.log("failure-log-error", (error as Error).message);
    } finally {
      reading = false;
    }
  };
  const watcher = watch(paths.failureLog, () => void readFailures());
  // A second way in, should a change notification be lost: the log is read each second too.
  const sweep = setInterval(() => void readFailures(), 1000);
  sweep.unref();

  /** Waits until nginx answers `wanted` and no worker of an older configuration still accepts. */
  const waitForGeneration = async (wanted: number) => {
    const deadline = Date.now() + applyTimeoutMs;
    for (;;) {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`nginx exited while starting: ${errorTail(paths.errorLog)}`);
      }
      const answered = await getStatus(paths.statusSocket, "/generation").catch(() => "");
      if (answered === String(wanted)) {
        const accepting = childrenOf(child.pid ?? -1).filter(
          (pid) => commandLine(pid) === "nginx: worker process",
        );
        if (accepting.length <= 1) return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `nginx did not take configuration ${wanted} within ${applyTimeoutMs} ms ` +
            `(it answers ${answered || "nothing"}): ${errorTail(paths.errorLog)}`,
        );
      }
      await sleep(5);
    }
  };

  /** The configuration without its generation, to tell whether nginx needs a new one at all. */
  let written = "";
  /** Writes the configuration of `state`; its generation, or undefined when nothing changed. */
  const write = async (state: RouterState, settings: FailoverSettings, listenPort: number) => {
    current = state;
    const slotPorts = options.slotPorts ?? {};
    const content = renderNginxConfig({ state, settings, listenPort, generation: 0, paths, slotPorts });
    if (content === written) return undefined;
    generation += 1;
    await writeFileAtomic(
      configFile,
      renderNginxConfig({ state, settings, listenPort, generation, paths, slotPorts }),
      {
        mode: 0o644,
      },
    );
    written = content;
    return generation;
  };

  /**
   * Points users at the route of `state`: the new marker first, then the others go. Meanwhile two
   * markers exist and nginx takes either, the old route or the new one; with none it hands requests
   * to the router, which routes by its state, so no moment sends a request nowhere.
   */
  const mark = (state: RouterState) => {
    const wanted = routeMarker(state);
    if (wanted !== "router") writeFileSync(join(routeDir, wanted), "", { mode: 0o644 });
    for (const marker of routeMarkers) {
      if (marker !== wanted) rmSync(join(routeDir, marker), { force: true });
    }
  };

  const plane: NginxDataPlane = {
    paths,
    pid: () => child?.pid,
    async start(state, settings, listenPort) {
      if (process.getuid?.() === 0) await chmod(paths.routerSocket, 0o666);
      mark(state);
      const wanted = (await write(state, settings, listenPort)) ?? generation;
      const spawned = spawn(options.binary, ["-p", runtimeDir, "-c", configFile, "-e", paths.errorLog], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      child = spawned;
      exited = new Promise((resolve) => spawned.once("exit", () => resolve()));
      spawned.once("exit", (code, signal) => {
        if (!closing)
          options.onExit(`nginx exited (${code ?? signal ?? "unknown"}): ${errorTail(paths.errorLog)}`);
      });
      await new Promise<void>((resolve, reject) => {
        spawned.once("spawn", resolve);
        spawned.once("error", (error) =>
          reject(new Error(`could not start ${options.binary}: ${error.message}`)),
        );
      });
      await writeFileAtomic(recordFile(options.routerDir), JSON.stringify({ pid: spawned.pid, runtimeDir }));
      await waitForGeneration(wanted);
      options.log("nginx", `pid=${spawned.pid} forwards users (configuration ${wanted})`);
      if (leftOver !== undefined && runs(leftOver)) {
        options.log("nginx", `stopping pid=${leftOver.pid}, left running by an earlier router`);
      }
      if (leftOver !== undefined) await stopNginx(leftOver, 10_000);
    },
    apply(state, settings, listenPort) {
      const next = queue.then(async () => {
        const wanted = await write(state, settings, listenPort);
        if (wanted !== undefined) {
          child?.kill("SIGHUP");
          await waitForGeneration(wanted);
        }
        mark(state);
      });
      queue = next.catch(() => undefined);
      return next;
    },
    reroute(state) {
      current = state;
      mark(state);
    },
    async inFlight() {
      const text = await getStatus(paths.statusSocket, "/requests");
      const reading = Number(/Reading: (\d+)/.exec(text)?.[1] ?? NaN);
      const writing = Number(/Writing: (\d+)/.exec(text)?.[1] ?? NaN);
      if (!Number.isFinite(reading) || !Number.isFinite(writing)) {
        throw new Error(`nginx's counters were not readable: ${text.slice(0, 200)}`);
      }
      // The counters' own request is one of those being answered.
      return Math.max(0, reading + writing - 1);
    },
    async close(graceMs) {
      closing = true;
      watcher.close();
      clearInterval(sweep);
      let drained = true;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGQUIT");
        let timer: NodeJS.Timeout | undefined;
        const gone = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ]);
        clearTimeout(timer);
        if (!gone) {
          drained = false;
          for (const worker of childrenOf(child.pid ?? -1)) process.kill(worker, "SIGKILL");
          child.kill("SIGKILL");
          await exited;
        }
      }
      await rm(runtimeDir, { recursive: true, force: true });
      await rm(recordFile(options.routerDir), { force: true });
      return drained;
    },
  };
  return plane;
}

/**
 * Where the colours will listen (`SHIPGATE_SLOT_PORTS=blue=P1,green=P2`); a value that is not that
 * is ignored (nginx then gets a colour's pool once it is registered, with a reload).
 */
export function slotPortsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Record<Color, number>> {
  const ports: Partial<Record<Color, number>> = {};
  for (const part of (env["SHIPGATE_SLOT_PORTS"] ?? "").split(",")) {
    const match = /^(blue|green)=(\d{1,5})$/.exec(part.trim());
    const port = Number(match?.[2]);
    if (match !== null && port >= 1 && port <= 65535) ports[match[1] as Color] = port;
  }
  return ports;
}

/** The nginx binary the router should use: `SHIPGATE_NGINX`, when set to an existing file. */
export function nginxFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const binary = env["SHIPGATE_NGINX"];
  return binary !== undefined && binary !== "" && existsSync(binary) ? binary : undefined;
}
