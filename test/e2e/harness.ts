// Throwaway stacks of the project's program on the real engine, through the Automation API.
import {
  LocalWorkspace,
  PulumiCommand,
  type EngineEvent,
  type Stack,
  type UpResult,
} from "@pulumi/pulumi/automation";
import { createHash, randomBytes } from "node:crypto";
import {
  type Dirent,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { servicePaths, type ServicePaths } from "../../platforms/local/layout";
import { buildIfStale } from "../../scripts/lib/build.mjs";
import { chosenEngine, engineEnv, root } from "../../scripts/lib/engine.mjs";

export const policyPackPath = join(root, "policies");

/**
 * A test file's fixed port, moved by SHIPGATE_TEST_PORT_OFFSET (default 0) so that two checkouts on
 * one machine can run the end-to-end suite side by side without taking each other's ports.
 */
export function testPort(base: number): number {
  const offset = Number(process.env["SHIPGATE_TEST_PORT_OFFSET"] ?? "0");
  if (!Number.isInteger(offset) || offset < 0 || base + offset > 60_000) {
    throw new Error(
      `SHIPGATE_TEST_PORT_OFFSET must be a whole number from 0 that keeps ports under 60000, got ${JSON.stringify(process.env["SHIPGATE_TEST_PORT_OFFSET"])}`,
    );
  }
  return base + offset;
}

export interface ThrowawayStack {
  readonly stack: Stack;
  readonly name: string;
  /** Removes the stack (and its config file in stacks/) and its private backend folder. */
  dispose(): Promise<void>;
}

/**
 * Creates a stack named `<prefix>-<random>` (`e2e-<random>` by default) of the project's program in a private file backend, so
 * tests never touch the project's own state. Fails (never skips) when the engine is missing.
 */
export async function createThrowawayStack(prefix = "e2e"): Promise<ThrowawayStack> {
  const engine = chosenEngine();
  if (!engine) {
    throw new Error("The Pulumi engine is not set up: run `npm run setup` (npm test runs it for you).");
  }
  buildIfStale();
  const backendDir = mkdtempSync(join(tmpdir(), "shipgate-e2e-backend-"));
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  const envVars = engineEnv(engine, { ...process.env, PULUMI_BACKEND_URL: `file://${backendDir}` });
  const pulumiCommand = await PulumiCommand.get({ root: dirname(engine.binDir) });
  const stack = await LocalWorkspace.createStack(
    { stackName: name, workDir: root },
    { envVars, pulumiCommand },
  );
  return {
    stack,
    name,
    async dispose() {
      try {
        await stack.workspace.removeStack(name, { force: true });
      } finally {
        rmSync(backendDir, { recursive: true, force: true });
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Release stacks: a throwaway stack of the local platform releasing the sample app, with its own
// working folder and ports, and the process and file checks the release scenarios share.

/** The sample app's service name in its release manifests. */
export const sampleService = "sample-app";

/** A sample-app manifest of releases/sample-app/, relative to the project. */
export function manifestPath(file: string): string {
  return `releases/sample-app/${file}`;
}

/**
 * The sample app's settings on a test stack: short gates and bake time (two shared cores), latency
 * bounds loose enough for a busy machine. `overrides` replace whole keys (`gate`, `verification`...).
 */
export function sampleAppSettings(
  port: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    port,
    command: ["node", "server.mjs"],
    healthPath: "/health",
    artifacts: ".shipgate/artifacts/sample-app",
    maxLatencyMs: 3000,
    gate: { consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 200, timeoutMs: 20_000 },
    verification: { bakeTimeMs: 3000, intervalMs: 100, maxErrorRate: 0.01, maxP95LatencyMs: 3000 },
    smoke: [{ name: "items can be listed", kind: "business", path: "/items", expect: { status: 200 } }],
    warmWindowMinutes: 60,
    keepBackups: 5,
    ...overrides,
  };
}

export interface ReleaseStack extends ThrowawayStack {
  /** The stack's working folder, relative to the project (`.shipgate/<stack name>`). */
  readonly workDir: string;
  /** The same, absolute. */
  readonly workDirPath: string;
  /** Where users are served (the router); blue is port+1, green port+2, the router's admin port+3. */
  readonly port: number;
  /**
   * Sets `shipgate:manifest` and runs `pulumi up --refresh`, as the main job does; with the policy
   * pack only when the stack was created with `policyPack: true` (the sample manifests carry no
   * approvals, which the approval policies refuse: the policy gate has its own tests).
   */
  release(manifest: string, options?: { onEvent?: (event: EngineEvent) => void }): Promise<UpResult>;
  /** The same, for a release that must fail: the error it failed with (a success fails the test). */
  releaseFailure(manifest: string): Promise<Error>;
  /** Replaces the service's settings (`sampleAppSettings(port, overrides)`). */
  configureService(overrides?: Record<string, unknown>): Promise<void>;
  /** Absolute paths of the service's files, as platforms/local/layout.ts names them. */
  readonly paths: ServicePaths;
  /** The pid in a colour's pid file, or undefined when there is none. */
  slotPid(color: "blue" | "green"): number | undefined;
  /** The router's state file. */
  routerState(): { active: string | null; upstreams: Record<string, string> };
}

export interface ReleaseStackOptions {
  /** The router's port; the test file's own range (nothing else may use port..port+3). */
  readonly port: number;
  readonly service?: Record<string, unknown>;
  /** Run every release through the policy pack in policies/ (default false). */
  readonly policyPack?: boolean;
  /**
   * The stack name's prefix. The default, `dev-e2e`, makes a development stack, where the sample's
   * unsigned manifests may be released; `e2e` makes a stack the program checks approvals on.
   */
  readonly prefix?: string;
}

/**
 * A throwaway stack that releases the sample app on the local platform under `.shipgate/<name>`.
 * `dispose()` destroys it first, then kills whatever still runs from its working folder (and says
 * so on stderr: that is a leak), removes the folder, the stack and its backend.
 */
export async function createReleaseStack(options: ReleaseStackOptions): Promise<ReleaseStack> {
  const throwaway = await createThrowawayStack(options.prefix ?? "dev-e2e");
  const { stack, name } = throwaway;
  const workDir = `.shipgate/${name}`;
  const workDirPath = join(root, workDir);
  const paths = servicePaths(workDirPath, sampleService);
  const configureService = async (overrides: Record<string, unknown> = {}) => {
    await stack.setConfig("shipgate:services", {
      value: JSON.stringify({ [sampleService]: sampleAppSettings(options.port, overrides) }),
    });
  };
  await stack.setAllConfig({
    "shipgate:platform": { value: "local" },
    "shipgate:workDir": { value: workDir },
  });
  await configureService(options.service);
  const release = async (manifest: string, upOptions: { onEvent?: (event: EngineEvent) => void } = {}) => {
    await stack.setConfig("shipgate:manifest", { value: manifestPath(manifest) });
    return stack.up({
      refresh: true,
      ...(options.policyPack ? { policyPacks: [policyPackPath] } : {}),
      ...upOptions,
    });
  };
  return {
    stack,
    name,
    workDir,
    workDirPath,
    port: options.port,
    paths,
    release,
    async releaseFailure(manifest) {
      const outcome = await release(manifest).then(
        (up) => new Error(`expected the release of ${manifest} to fail, but it ${up.summary.result}`),
        (error: unknown) => error,
      );
      if (outcome instanceof Error && outcome.message.startsWith("expected the release")) throw outcome;
      return outcome instanceof Error ? outcome : new Error(String(outcome));
    },
    configureService,
    slotPid(color) {
      return readJsonFile<{ pid: number }>(paths.slot(color).pidFile)?.pid;
    },
    routerState() {
      const state = readJsonFile<{ active: string | null; upstreams: Record<string, string> }>(
        paths.routerState,
      );
      if (!state) throw new Error(`the router of ${name} has no state file at ${paths.routerState}`);
      return state;
    },
    async dispose() {
      try {
        await stack.destroy().catch((error: unknown) => {
          process.stderr.write(`destroy of ${name} failed: ${(error as Error).message}\n`);
        });
      } finally {
        const leftovers = processesUnder(workDirPath);
        for (const p of leftovers) {
          process.stderr.write(`killing ${p.pid} (${p.cmdline.join(" ")}), left running in ${workDirPath}\n`);
          killQuietly(p.pid);
        }
        rmSync(workDirPath, { recursive: true, force: true });
        await throwaway.dispose();
      }
    },
  };
}

export function readJsonFile<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly cwd: string | null;
  readonly cmdline: readonly string[];
}

/** Every process this user can see that still runs (zombies left out), from /proc. */
export function listProcesses(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppidField] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // An exited process its adopter has not collected yet (a zombie) runs no more.
      if (state === "Z") continue;
      const ppid = Number(ppidField);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      let cwd: string | null = null;
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // another user's process, or gone
      }
      found.push({ pid: Number(entry), ppid, cwd, cmdline });
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** Processes whose working directory or arguments point into `dir` (an absolute path). */
export function processesUnder(dir: string): ProcessInfo[] {
  const inside = (p: string) => p === dir || p.startsWith(`${dir}/`);
  return listProcesses().filter(
    (p) =>
      p.pid !== process.pid && ((p.cwd !== null && inside(p.cwd)) || p.cmdline.some((a) => a.includes(dir))),
  );
}

/** `pid` and every process below it, parents first. */
export function processTree(pid: number, all = listProcesses()): ProcessInfo[] {
  const tree = all.filter((p) => p.pid === pid);
  for (let i = 0; i < tree.length && i < 1000; i += 1) {
    const parent = tree[i]?.pid;
    tree.push(...all.filter((p) => p.ppid === parent));
  }
  return tree;
}

/**
 * The router's nginx (its master and workers, as its record names them; none without a record):
 * the router's own, started as its child, so they run from its folder too.
 */
export function routerNginxPids(paths: ServicePaths, all = listProcesses()): number[] {
  const record = readJsonFile<{ pid: number }>(paths.routerNginx);
  return record === undefined ? [] : processTree(record.pid, all).map((p) => p.pid);
}

export function killQuietly(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Every file under `dir`, relative, sorted (empty when `dir` does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

export { waitFor } from "../wait";

/** One HTTP request to 127.0.0.1; the status, the colour header and the body. */
export async function fetchLocal(
  port: number,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; color: string | null; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    signal: AbortSignal.timeout(5000),
  });
  return {
    status: response.status,
    color: response.headers.get("x-shipgate-color"),
    body: await response.text(),
  };
}

export async function addItem(port: number, name: string): Promise<{ id: number; name: string }> {
  const answer = await fetchLocal(port, "/items", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (answer.status !== 201 && answer.status !== 200) {
    throw new Error(`POST /items answered ${answer.status}: ${answer.body}`);
  }
  return JSON.parse(answer.body) as { id: number; name: string };
}

/** What a refused release must leave exactly as it was. */
export interface StackSnapshot {
  /** The stack's processes (by their working folder or arguments). */
  readonly pids: number[];
  /** Every file of the stack's folder with its SHA-256 (the router's growing access log left out). */
  readonly files: Record<string, string>;
  /** The state's resources, every input and output. */
  readonly resources: unknown;
  /** What users get from /version. */
  readonly served: string;
}

export async function snapshotStack(stack: ReleaseStack): Promise<StackSnapshot> {
  const files: Record<string, string> = {};
  for (const file of filesUnder(stack.workDirPath)) {
    if (file.endsWith(".log") && file !== "notifications.log") continue;
    files[file] = createHash("sha256")
      .update(readFileSync(join(stack.workDirPath, file)))
      .digest("hex");
  }
  const state = await stack.stack.exportStack();
  return {
    pids: processesUnder(stack.workDirPath)
      .map((p) => p.pid)
      .sort((a, b) => a - b),
    files,
    resources: state.deployment.resources,
    served: (await fetchLocal(stack.port, "/version")).body,
  };
}

/** Runs `up` (no refresh: a refresh may rewrite outputs on its own) that must fail; its error text. */
export async function refusedUp(stack: ReleaseStack): Promise<string> {
  const outcome = await stack.stack.up().then(
    (up) => `expected the update to be refused, but it ${up.summary.result}`,
    (error: unknown) => error,
  );
  if (typeof outcome === "string") throw new Error(outcome);
  return outcome instanceof Error ? outcome.message : String(outcome);
}
