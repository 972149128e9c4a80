// The Gate handler: its diff, and create against a small HTTP server on 127.0.0.1 (a candidate that
// passes, and one that answers the wrong version and fails the update naming the trigger).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ResolvedHttpCheck as HttpCheckSpec, StepFailure } from "../../../../../contract";
import { type GateInputs, type GateOutputs, handlers } from "../../../../../platforms/local/handlers/gate";
import {
  isRunning,
  readProcessRecord,
  startDetached,
  stopByPidFile,
} from "../../../../../platforms/local/process-ops";
import {
  initialRouterState,
  readRouterState,
  writeRouterState,
} from "../../../../../platforms/local/router/state";
import { type TestProject, crud, freePorts, testProject } from "./helpers";

const ops = crud(handlers);

let server: Server;
let target: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(req.url === "/version" ? { version: "1.0.0" } : { status: "ok" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const checks = (version: string): HttpCheckSpec[] => [
  { name: "health", kind: "technical", method: "GET", path: "/health", expect: { status: 200 } },
  { name: "version", kind: "technical", method: "GET", path: "/version", expect: { status: 200, version } },
];
const inputs = (version = "1.0.0"): GateInputs => ({
  service: "web",
  releaseKey: `CHG-1@${version}`,
  target,
  digest: `sha256:${"1".repeat(64)}`,
  checks: checks(version),
  policy: {
    consecutiveSuccesses: 2,
    failureThreshold: 2,
    intervalMs: 20,
    timeoutMs: 5000,
    requestTimeoutMs: 1000,
  },
  notificationsLog: "notifications.log",
});
const olds = (): GateOutputs => ({
  ...inputs(),
  verdict: "passed",
  rounds: 2,
  passedAt: "2026-11-22T10:00:00.000Z",
});

describe("Gate diff", () => {
  it("does not run again for the same release, build, target, checks and policy", async () => {
    expect(await handlers.diff("", "id", olds(), inputs())).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      (await handlers.diff("", "id", olds(), { ...inputs(), notificationsLog: "other.log" })).changes,
    ).toBe(false);
  });

  it("runs again (in place) for another release, build, target, check or policy", async () => {
    for (const news of [
      { ...inputs(), releaseKey: "CHG-2@1.0.0" },
      { ...inputs(), digest: `sha256:${"2".repeat(64)}` },
      { ...inputs(), target: "http://127.0.0.1:1" },
      { ...inputs(), checks: checks("1.0.1") },
      { ...inputs(), policy: { ...inputs().policy, timeoutMs: 6000 } },
    ]) {
      expect(await handlers.diff("", "id", olds(), news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  it("replaces for another service", async () => {
    expect(await handlers.diff("", "id", olds(), { ...inputs(), service: "api" })).toEqual({
      changes: true,
      replaces: ["service"],
      deleteBeforeReplace: false,
    });
  });
});

describe("Gate create", () => {
  it("passes a healthy candidate after the consecutive successes the policy asks for", async () => {
    const created = await ops.create("", inputs());
    expect(created.id).toBe("web-gate");
    expect(created.outs).toEqual({
      ...inputs(),
      verdict: "passed",
      rounds: 2,
      passedAt: created.outs.passedAt,
    });
  });

  it("fails the update, naming the trigger and the check, when the candidate is not the pinned version", async () => {
    await expect(ops.create("", inputs("2.0.0"))).rejects.toThrow(
      /^pre-promotion gate of web \(CHG-1@2\.0\.0\) failed: Gate failed with rollback trigger errors .*check "version" \(technical\) failed 2 times.* No traffic was switched: users stay on the live version\./s,
    );
  });
});

describe("Gate with the candidate colour's folder", () => {
  let project: TestProject;
  const slotDir = "services/web/green";
  const dir = () => join(project.dir, slotDir);
  const stateFile = () => join(project.dir, "services/web/router/state.json");
  const withSlot = (version = "1.0.0"): GateInputs => ({ ...inputs(version), slotDir });

  beforeAll(async () => {
    project = testProject("gate");
    mkdirSync(join(project.dir, "services/web/router"), { recursive: true });
    mkdirSync(dir(), { recursive: true });
    // Nothing listens on the admin port: the handler falls back to the state file, as for a dead router.
    const adminPort = await freePorts(1);
    await writeRouterState(stateFile(), {
      ...initialRouterState({ service: "web", listenPort: adminPort, adminPort }),
      upstreams: { blue: "http://127.0.0.1:9001", green: "http://127.0.0.1:9002" },
      active: "blue",
      held: ["green"],
    });
  });

  afterAll(async () => {
    await stopByPidFile(join(dir(), "app.pid.json"), 1000);
    project.remove();
  });

  /** A process running in the colour, as a deployed slot leaves it. */
  const runInColour = async () => {
    await startDetached({
      command: [process.execPath, "-e", "setInterval(() => undefined, 1000)"],
      cwd: dir(),
      env: {},
      logFile: join(dir(), "app.log"),
      pidFile: join(dir(), "app.pid.json"),
    });
    writeFileSync(join(dir(), "spec.json"), "{}");
    writeFileSync(join(dir(), "restart.json"), "{}");
    return readProcessRecord(join(dir(), "app.pid.json"));
  };

  it("runs again while the router holds the colour back from users", async () => {
    expect((await handlers.diff(project.dir, "id", { ...olds(), slotDir }, withSlot())).changes).toBe(true);
  });

  it("keeps the gate it passed for restarts, and lets users reach the colour", async () => {
    await ops.create(project.dir, withSlot());
    expect(JSON.parse(readFileSync(join(dir(), "gate.json"), "utf8"))).toMatchObject({
      releaseKey: "CHG-1@1.0.0",
      digest: inputs().digest,
      checks: checks("1.0.0"),
    });
    expect((await readRouterState(stateFile())).held).toEqual([]);
    expect((await handlers.diff(project.dir, "id", { ...olds(), slotDir }, withSlot())).changes).toBe(false);
  });

  it("stops a build that failed it, so it runs on as no colour to return to", async () => {
    const record = await runInColour();
    if (!record) throw new Error("no pid file");
    await expect(ops.create(project.dir, withSlot("2.0.0"))).rejects.toThrow(
      `The failed build was stopped (its log is in ${join(dir(), "app.log")})`,
    );
    expect(isRunning(record)).toBe(false);
    // Kept for no one (keepFailedBuilds 0): no build folder is left, the log stays in the colour.
    expect(readdirSync(dir()).sort()).toEqual(["app.log", "gate.json"]);
  });

  it("keeps a build that failed it, stopped, for inspection when the service asks, with secrets redacted", async () => {
    const secret = "unit-gate-secret-value";
    const record = await runInColour();
    if (!record) throw new Error("no pid file");
    mkdirSync(join(dir(), "app"), { recursive: true });
    writeFileSync(join(dir(), "app", "server.mjs"), "// the build\n");
    writeFileSync(join(dir(), "app.log"), `GET /version answered with token ${secret}\n`);
    const error = await ops
      .create(project.dir, { ...withSlot("2.0.0"), keepFailedBuilds: 3, secrets: { API_TOKEN: secret } })
      .then(
        () => new Error("expected the gate to fail"),
        (failure: unknown) => failure as Error,
      );
    expect(isRunning(record)).toBe(false);
    expect(error).toBeInstanceOf(StepFailure);
    const kept = (error as StepFailure).kept ?? "";
    expect(kept).toMatch(/^services\/web\/failed\/[\dT-]+Z-green-2\.0\.0$/);
    expect(error.message).toContain(
      `The failed build was stopped. The failed build is kept, stopped, for inspection in ${kept}`,
    );
    const keptDir = join(project.dir, kept);
    expect(readFileSync(join(keptDir, "app", "server.mjs"), "utf8")).toBe("// the build\n");
    expect(readFileSync(join(keptDir, "app.log"), "utf8")).toBe(
      "GET /version answered with token [secret]\n",
    );
    expect(JSON.parse(readFileSync(join(keptDir, "failure.json"), "utf8"))).toMatchObject({
      color: "green",
      version: "2.0.0",
      stage: "gate",
    });
    expect(readdirSync(dir()).sort()).toEqual(["gate.json"]);
  });

  it("never stops the colour users are on", async () => {
    const state = await readRouterState(stateFile());
    await writeRouterState(stateFile(), { ...state, active: "green", fallback: null });
    const record = await runInColour();
    if (!record) throw new Error("no pid file");
    await expect(ops.create(project.dir, withSlot("2.0.0"))).rejects.toThrow(
      /users stay on the live version\. Fix the build and release again\.$/,
    );
    expect(isRunning(record)).toBe(true);
  });
});
