// Real processes for the local platform's tests: sample-app builds and routers on 127.0.0.1 only,
// every one tracked so a test's afterEach/afterAll can stop what it started.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as http from "node:http";
import { join, resolve } from "node:path";
import { buildIfStale } from "../../../scripts/lib/build.mjs";

export const root = resolve(__dirname, "..", "..", "..");
export const routerMain = join(root, "dist", "platforms", "local", "router", "main.js");

export interface BuiltSampleApp {
  readonly version: string;
  readonly schema: number;
  readonly fault: string | null;
  readonly migrations: string[];
  readonly backwardCompatible: boolean;
  readonly path: string;
  readonly digest: string;
}

/** Compiles dist/ when stale, then assembles every sample-app build into `outDir`. */
export function buildSampleApps(outDir: string): Map<string, BuiltSampleApp> {
  buildIfStale();
  const result = spawnSync(
    process.execPath,
    [join(root, "scripts", "build-sample-app.mjs"), "--json", "--out", outDir],
    {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  if (result.status !== 0) throw new Error(`build-sample-app failed: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as { builds: BuiltSampleApp[] };
  return new Map(parsed.builds.map((build) => [build.version, build]));
}

/** Runs `node migrate.mjs <id>` inside a build on `dataDir`: exit status and everything it printed. */
export function runMigration(
  buildDir: string,
  dataDir: string,
  id: string,
): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [join(buildDir, "migrate.mjs"), id], {
    env: { PATH: process.env["PATH"] ?? "", DATA_DIR: dataDir },
    encoding: "utf8",
    timeout: 10_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface Running {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

const running = new Set<ChildProcess>();

/** Starts `node <args>` and waits (bounded) until its output matches `ready`. */
export async function startNode(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  withinMs = 10_000,
): Promise<Running & { match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let text = "";
  const exited = new Promise<number | string>((resolveExit) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolveExit(code ?? signal ?? "unknown");
    });
  });
  const match = await new Promise<RegExpMatchArray>((resolveMatch, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within ${withinMs} ms: ${text}`)), withinMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const found = ready.exec(text);
      if (found) {
        clearTimeout(timer);
        resolveMatch(found);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before it was ready: ${text}`));
    });
  });
  return { child, output: () => text, exited, match };
}

export interface RunningApp extends Running {
  readonly port: number;
  readonly url: string;
}

export async function startSampleApp(buildDir: string, dataDir: string): Promise<RunningApp> {
  const started = await startNode(
    [join(buildDir, "server.mjs")],
    { PORT: "0", DATA_DIR: dataDir },
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const port = Number(started.match[1]);
  return { ...started, port, url: `http://127.0.0.1:${port}` };
}

/** SIGTERM, then SIGKILL after `withinMs`; resolves with how the process ended. */
export async function stop(process: Running, withinMs = 5000): Promise<number | string> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return process.exited;
  process.child.kill("SIGTERM");
  const timer = setTimeout(() => process.child.kill("SIGKILL"), withinMs);
  try {
    return await process.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** For afterAll/afterEach: kills whatever is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolveExit) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolveExit();
            return;
          }
          child.once("exit", () => resolveExit());
          child.kill("SIGKILL");
        }),
    ),
  );
}

export interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request to 127.0.0.1, with a timeout. */
export function request(
  port: number,
  path: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; agent?: http.Agent } = {},
): Promise<Answer> {
  return new Promise((resolveAnswer, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        agent: options.agent,
        timeout: 15_000,
        headers: {
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolveAnswer({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end(payload);
  });
}

export function json(answer: Answer): unknown {
  return JSON.parse(answer.body);
}
