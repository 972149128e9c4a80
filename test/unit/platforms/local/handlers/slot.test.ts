// The Slot handler: its diff as a plain function, and create/read/update/delete against a temporary
// project folder with the sample app's real builds, run as real processes on 127.0.0.1.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SlotInputs, type SlotOutputs, handlers } from "../../../../../platforms/local/handlers/slot";
import { StepFailure } from "../../../../../contract";
import {
  isRunning,
  portAccepts,
  portFreesWithin,
  portReleaseMs,
  readProcessRecord,
  stopByPidFile,
} from "../../../../../platforms/local/process-ops";
import { writePassedGate } from "../../../../../platforms/local/supervision";
import { type TestProject, freePorts, getJson, testProject, crud } from "./helpers";
import { waitUntil } from "../../../../wait";

const ops = crud(handlers);

/** Pids of processes with `arg` among their arguments. */
function listNodeWithArg(arg: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(arg);
      } catch {
        return false;
      }
    })
    .map(Number);
}

let project: TestProject;
let port: number;

beforeAll(async () => {
  project = testProject("slot", true);
  port = await freePorts(1);
});

afterAll(async () => {
  await stopByPidFile(join(project.dir, "slots/blue/app.pid.json"), 2000);
  project.remove();
});

function inputs(version: string, overrides: Partial<SlotInputs> = {}): SlotInputs {
  const build = project.build(version);
  return {
    service: "web",
    color: "blue",
    dir: "slots/blue",
    dataDir: "data/web",
    port,
    command: ["node", "server.mjs"],
    spec: {
      version,
      artifact: { source: "artifacts", version, digest: build.digest },
      env: { GREETING: "hi" },
    },
    artifactDir: `artifacts/${version}`,
    ...overrides,
  };
}

const outputsOf = (i: SlotInputs, running = true): SlotOutputs => ({
  ...i,
  pid: 1,
  url: `http://127.0.0.1:${i.port}`,
  running,
  startedAt: "2026-11-22T10:00:00.000Z",
});

describe("Slot diff", () => {
  const olds = () => outputsOf(inputs("1.0.0"));

  it("changes nothing for the same deployment of a running colour", async () => {
    expect(await handlers.diff("", "web-blue", olds(), inputs("1.0.0"))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });

  it("updates in place for another build, env, command, port, artifact or data folder", async () => {
    const changed: Partial<SlotInputs>[] = [
      { spec: inputs("2.0.0").spec },
      { spec: { ...inputs("1.0.0").spec, env: { GREETING: "hello" } } },
      { command: ["node", "--no-warnings", "server.mjs"] },
      { port: port + 10 },
      { artifactDir: "elsewhere/1.0.0" },
      { dataDir: "data/other" },
    ];
    for (const change of changed) {
      expect(await handlers.diff("", "web-blue", olds(), inputs("1.0.0", change))).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: true,
      });
    }
  });

  it("replaces, stopping the old process first, for another service, colour or folder", async () => {
    expect(
      await handlers.diff(
        "",
        "web-blue",
        olds(),
        inputs("1.0.0", { service: "api", color: "green", dir: "x" }),
      ),
    ).toEqual({ changes: true, replaces: ["service", "color", "dir"], deleteBeforeReplace: true });
  });

  it("starts again a colour whose process is no longer running", async () => {
    const stopped = outputsOf(inputs("1.0.0"), false);
    expect(await handlers.diff("", "web-blue", stopped, inputs("1.0.0"))).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });
});

describe("Slot create, read, update and delete", () => {
  const pidFile = () => join(project.dir, "slots/blue/app.pid.json");

  it("refuses a build whose digest is not the one pinned, and starts nothing", async () => {
    const wrong = inputs("1.0.0", {
      spec: {
        ...inputs("1.0.0").spec,
        artifact: { ...inputs("1.0.0").spec.artifact, digest: project.build("2.0.0").digest },
      },
    });
    await expect(ops.create(project.dir, wrong)).rejects.toThrow(
      `has digest ${project.build("1.0.0").digest}, expected ${project.build("2.0.0").digest}: refusing to deploy it; the blue colour of web was left as it was`,
    );
    expect(existsSync(pidFile())).toBe(false);
    expect(await portAccepts(port)).toBe(false);
  });

  it("copies the build in, starts it on its port with the spec's env, and records what it runs", async () => {
    const created = await ops.create(project.dir, inputs("1.0.0"));
    expect(created.id).toBe("web-blue");
    expect(created.outs).toMatchObject({
      ...inputs("1.0.0"),
      url: `http://127.0.0.1:${port}`,
      running: true,
    });
    expect(await getJson(port, "/version")).toEqual({ version: "1.0.0", schema: 1 });
    const record = await readProcessRecord(pidFile());
    expect(record?.pid).toBe(created.outs.pid);
    expect(record && isRunning(record)).toBe(true);
    expect(JSON.parse(readFileSync(join(project.dir, "slots/blue/spec.json"), "utf8"))).toEqual(
      inputs("1.0.0").spec,
    );
    expect(existsSync(join(project.dir, "data/web"))).toBe(true);
    const read = await ops.read(project.dir, "web-blue", created.outs);
    expect(read).toEqual({ id: "web-blue", props: { ...created.outs, running: true } });
  });

  it("notices a process that died, and starts it again on update", async () => {
    const before = await readProcessRecord(pidFile());
    if (!before) throw new Error("no pid file");
    process.kill(before.pid, "SIGKILL");
    await waitUntil("the killed process to exit", () => !isRunning(before));
    const olds = outputsOf(inputs("1.0.0"));
    // The diff sees it without a refresh (olds still say running), so a plain `up` restarts it.
    expect((await handlers.diff(project.dir, "web-blue", olds, inputs("1.0.0"))).changes).toBe(true);
    const read = await ops.read(project.dir, "web-blue", olds);
    expect(read.props?.running).toBe(false);
    expect(
      (await handlers.diff(project.dir, "web-blue", read.props as SlotOutputs, inputs("1.0.0"))).changes,
    ).toBe(true);
    const updated = await ops.update(project.dir, "web-blue", read.props as SlotOutputs, inputs("1.0.0"));
    expect(updated.outs?.pid).not.toBe(before.pid);
    expect(await getJson(port, "/health")).toEqual({ status: "ok", version: "1.0.0" });
  });

  it("refuses a build that is not the pinned one before it touches the running colour", async () => {
    const before = await readProcessRecord(pidFile());
    if (!before) throw new Error("no pid file");
    const specBefore = readFileSync(join(project.dir, "slots/blue/spec.json"), "utf8");
    const tampered = inputs("2.0.0", {
      spec: {
        ...inputs("2.0.0").spec,
        artifact: { ...inputs("2.0.0").spec.artifact, digest: project.build("1.0.0").digest },
      },
    });
    await expect(ops.update(project.dir, "web-blue", outputsOf(inputs("1.0.0")), tampered)).rejects.toThrow(
      "refusing to deploy it; the blue colour of web was left as it was",
    );
    expect((await readProcessRecord(pidFile()))?.pid).toBe(before.pid);
    expect(isRunning(before)).toBe(true);
    expect(readFileSync(join(project.dir, "slots/blue/spec.json"), "utf8")).toBe(specBefore);
    expect(await getJson(port, "/version")).toEqual({ version: "1.0.0", schema: 1 });
  });

  it("deletes: stops the process and removes the colour's folder", async () => {
    const record = await readProcessRecord(pidFile());
    if (!record) throw new Error("no pid file");
    await ops.delete(project.dir, "web-blue", outputsOf(inputs("1.0.0")));
    expect(isRunning(record)).toBe(false);
    expect(await portAccepts(port)).toBe(false);
    expect(existsSync(join(project.dir, "slots/blue"))).toBe(false);
    expect(existsSync(join(project.dir, "data/web"))).toBe(true);
  });

  it("stops a build that never listens instead of leaving it running untracked", async () => {
    // The sample build, started with a command that runs but binds no port.
    const silent = inputs("1.0.0", { command: ["node", "-e", "setInterval(() => undefined, 1000)"] });
    await expect(ops.create(project.dir, silent)).rejects.toThrow(
      `did not listen on port ${port} within 20000 ms`,
    );
    // Its process is gone, not only its pid file: nothing runs a node with that script any more.
    expect(listNodeWithArg("setInterval(() => undefined, 1000)")).toEqual([]);
    expect(existsSync(pidFile())).toBe(false);
    expect(await portAccepts(port)).toBe(false);
  }, 40_000);
});

describe("Slot started again with a build that passed a gate here", () => {
  const dir = () => join(project.dir, "slots/blue");
  const pidFile = () => join(dir(), "app.pid.json");

  // The colours of these tests share one port: the next describe starts green on it.
  afterAll(async () => {
    await stopByPidFile(pidFile(), 2000);
  });
  const keptGate = async (version: string) =>
    writePassedGate(dir(), {
      releaseKey: "CHG-1@1.0.0",
      digest: project.build("1.0.0").digest,
      checks: [
        {
          name: "version",
          kind: "technical",
          method: "GET",
          path: "/version",
          expect: { status: 200, version },
        },
      ],
      policy: {
        consecutiveSuccesses: 2,
        failureThreshold: 2,
        intervalMs: 20,
        timeoutMs: 5000,
        requestTimeoutMs: 1000,
      },
      passedAt: "2026-11-22T10:00:00.000Z",
    });

  it("is judged by that gate again, and only then gets a restart spec for the supervisor", async () => {
    await ops.create(project.dir, inputs("1.0.0"));
    await keptGate("1.0.0");
    const before = await readProcessRecord(pidFile());
    const updated = await ops.update(project.dir, "web-blue", outputsOf(inputs("1.0.0")), inputs("1.0.0"));
    expect(updated.outs.pid).not.toBe(before?.pid);
    expect(JSON.parse(readFileSync(join(dir(), "restart.json"), "utf8"))).toMatchObject({
      cwd: join(dir(), "app"),
      port,
      env: { PORT: String(port), GREETING: "hi" },
    });
  });

  it("is stopped when it fails that gate, and left without a spec or a restart spec", async () => {
    await keptGate("9.9.9");
    await expect(
      ops.update(project.dir, "web-blue", outputsOf(inputs("1.0.0")), inputs("1.0.0")),
    ).rejects.toThrow("the blue colour of web was started again with 1.0.0 but failed its gate");
    expect(existsSync(pidFile())).toBe(false);
    expect(await portFreesWithin(port, portReleaseMs)).toBe(true);
    expect(existsSync(join(dir(), "spec.json"))).toBe(false);
    expect(existsSync(join(dir(), "restart.json"))).toBe(false);
  });

  it("forgets a gate passed by another build, which waits for its release's gate", async () => {
    await ops.create(project.dir, inputs("2.0.0"));
    expect(existsSync(join(dir(), "gate.json"))).toBe(false);
    expect(existsSync(join(dir(), "restart.json"))).toBe(true);
  });
});

describe("Slot with secret variables", () => {
  const value = "unit-slot-secret-value";
  const pidFile = () => join(project.dir, "slots/green/app.pid.json");
  const withSecret = (overrides: Partial<SlotInputs> = {}): SlotInputs => {
    const base = inputs("1.0.0", { color: "green", dir: "slots/green" });
    return {
      ...base,
      spec: { ...base.spec, secretEnv: { API_TOKEN: "scrypt:fingerprint-of-the-value" } },
      secrets: { API_TOKEN: value },
      ...overrides,
    };
  };
  const filesHolding = (dir: string, text: string): string[] =>
    (readdirSync(dir, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((file) => readFileSync(file, "utf8").includes(text));

  afterAll(async () => {
    await stopByPidFile(pidFile(), 2000);
  });

  it("starts the build with the value in its environment only: not its spec file, any file or the outputs", async () => {
    const created = await ops.create(project.dir, withSecret());
    const record = await readProcessRecord(pidFile());
    if (!record) throw new Error("no pid file");
    expect(readFileSync(`/proc/${record.pid}/environ`, "utf8").split("\0")).toContain(`API_TOKEN=${value}`);
    expect(JSON.parse(readFileSync(join(project.dir, "slots/green/spec.json"), "utf8"))).toEqual(
      withSecret().spec,
    );
    expect(filesHolding(join(project.dir, "slots/green"), value)).toEqual([]);
    expect(created.outs).not.toHaveProperty("secrets");
    expect(JSON.stringify(created.outs)).not.toContain(value);
    // The spec (its fingerprints) is what a diff compares: the same spec is the same deployment.
    expect((await handlers.diff(project.dir, "web-green", created.outs, withSecret())).changes).toBe(false);
  });

  it("refuses to start a colour whose secret has no value (rotated since), before it touches what runs", async () => {
    const before = await readProcessRecord(pidFile());
    if (!before) throw new Error("no pid file");
    const olds = outputsOf(withSecret());
    await expect(ops.update(project.dir, "web-green", olds, withSecret({ secrets: {} }))).rejects.toThrow(
      "the green colour of web (1.0.0) runs with a value of API_TOKEN that the stack's secrets no longer hold " +
        "(rotated since it was released), so it is not started again",
    );
    expect(isRunning(before)).toBe(true);
  });

  it("redacts the value from its error when the build prints it and exits before it listens", async () => {
    const leaky = withSecret({
      command: [
        "node",
        "-e",
        "console.error('starting with token ' + process.env.API_TOKEN); process.exit(1)",
      ],
    });
    const error = await ops.update(project.dir, "web-green", outputsOf(withSecret()), leaky).then(
      () => new Error("expected the start to fail"),
      (failure: unknown) => failure as Error,
    );
    expect(error.message).toContain("starting with token [secret]");
    expect(error.message).not.toContain(value);
    // Kept for no one (keepFailedBuilds 0): the stopped build's folder is removed, its log stays.
    expect(existsSync(join(project.dir, "slots/green/app"))).toBe(false);
    expect(existsSync(join(project.dir, "slots/failed"))).toBe(false);
  });

  it("keeps a build that exits before it listens, stopped, for inspection, with the value redacted", async () => {
    const leaky = withSecret({
      keepFailedBuilds: 1,
      command: [
        "node",
        "-e",
        "console.error('starting with token ' + process.env.API_TOKEN); process.exit(1)",
      ],
    });
    const error = await ops.update(project.dir, "web-green", outputsOf(withSecret()), leaky).then(
      () => new Error("expected the start to fail"),
      (failure: unknown) => failure as Error,
    );
    expect(error).toBeInstanceOf(StepFailure);
    const kept = (error as StepFailure).kept ?? "";
    expect(kept).toMatch(/^slots\/failed\/\d{4}-\d\d-\d\dT[\d-]+Z-green-1\.0\.0$/);
    expect(error.message).toContain(`The failed build is kept, stopped, for inspection in ${kept} `);
    expect((error as StepFailure).trigger).toBe("start-failure");
    const keptDir = join(project.dir, kept);
    expect(readdirSync(keptDir).sort()).toEqual(["app", "app.log", "failure.json"]);
    expect(readFileSync(join(keptDir, "app.log"), "utf8")).toContain("starting with token [secret]");
    expect(filesHolding(keptDir, value)).toEqual([]);
    expect(JSON.parse(readFileSync(join(keptDir, "failure.json"), "utf8"))).toMatchObject({
      service: "web",
      color: "green",
      version: "1.0.0",
      stage: "start",
    });
    // Nothing of it is a colour to start again: no process, pid, spec or restart file.
    expect(existsSync(pidFile())).toBe(false);
    expect(readdirSync(join(project.dir, "slots/green")).filter((name) => name !== "gate.json")).toEqual([]);
    expect(await portAccepts(port)).toBe(false);
  });
});
