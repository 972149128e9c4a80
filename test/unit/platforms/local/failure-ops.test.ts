// The local platform's one path for a failed step: the handler's error is kept, the failure record
// (JSON and Markdown) and the team's notice are written, a maintenance response in front of a colour
// that still answers is lifted, and nothing here (a record that cannot be written, a webhook that
// fails) hides the step's own error.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { planColors } from "../../../../components/colors";
import { buildRecordDraft } from "../../../../components/record-draft";
import { RecordedFailure, StepFailure } from "../../../../contract";
import {
  type FailureContext,
  type FailingInputs,
  withFailureRecord,
} from "../../../../platforms/local/failure-ops";
import type { LocalHandlers } from "../../../../platforms/local/provider-factory";
import { parseDeploymentRecord } from "../../../../platforms/local/record-ops";
import { sampleBuild, sampleManifest } from "../../components/fixtures";
import { type TestProject, testProject } from "./handlers/helpers";

const v1 = sampleManifest("v1");
const v2 = sampleManifest("v2");
const plan = planColors({ active: "blue", slots: { blue: sampleBuild(v1) } }, sampleBuild(v2), "blue-green");
const draft = buildRecordDraft({
  manifest: v2.manifest,
  digest: v2.digest,
  stack: "unit",
  service: "sample-app",
  plan,
  build: sampleBuild(v2),
});

const servers: http.Server[] = [];
async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A router admin API that serves blue (at `blueUrl`) with maintenance on or off; it notes what it is asked. */
async function fakeRouter(args: { maintenance: boolean; blueUrl: string }) {
  const asked: string[] = [];
  let maintenance = args.maintenance;
  const state = () => ({
    service: "sample-app",
    listenHost: "127.0.0.1",
    listenPort: 1,
    adminPort: 1,
    upstreams: { blue: args.blueUrl },
    active: "blue",
    maintenance: { enabled: maintenance, message: "m", retryAfterSeconds: 1 },
    fallback: null,
  });
  const adminPort = await listen((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      asked.push(`${req.method} ${req.url}${body ? ` ${body}` : ""}`);
      if (req.method === "POST" && req.url === "/maintenance") {
        maintenance = (JSON.parse(body) as { enabled: boolean }).enabled;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(state()));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          ...state(),
          inFlight: { blue: 0, green: 0 },
          webSockets: { blue: 0, green: 0 },
          pid: 1,
          uptimeSeconds: 1,
        }),
      );
    });
  });
  return { adminPort, asked };
}

/** A webhook receiver on loopback: what it got, answering `status`. */
async function webhookReceiver(status = 200) {
  const received: Record<string, unknown>[] = [];
  const port = await listen((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(status).end();
    });
  });
  return { url: `http://127.0.0.1:${port}/hook`, received };
}

interface StepInputs extends FailingInputs {
  readonly name: string;
}

/** A step whose create fails with `error` and whose update succeeds. */
function failingStep(error: Error): LocalHandlers<StepInputs, StepInputs> {
  return {
    async diff() {
      return { changes: true };
    },
    async create() {
      throw error;
    },
    async update(_projectDir, _id, _olds, news) {
      return { outs: news };
    },
  };
}

function context(adminPort: number, recordsDir = "records"): FailureContext {
  return {
    service: "sample-app",
    release: { changeId: "CHG-101", version: "2.0.0", key: "CHG-101@2.0.0" },
    record: draft,
    served: { version: "1.0.0", color: "blue" },
    candidate: "green",
    restarts: true,
    recordsDir,
    notificationsLog: "notifications.log",
    adminPort,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error("the step did not fail"),
    (error: unknown) => error as Error,
  );
}

function records(project: TestProject) {
  const dir = join(project.dir, "records");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json") && name !== "latest.json")
    .map((name) => {
      const parsed = parseDeploymentRecord(JSON.parse(readFileSync(join(dir, name), "utf8")));
      if (!parsed.ok) throw new Error(parsed.issues.join("; "));
      return { name, record: parsed.value };
    });
}

function notifications(project: TestProject): Record<string, unknown>[] {
  return readFileSync(join(project.dir, "notifications.log"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("a failed step on the local platform", () => {
  let project: TestProject;
  beforeEach((ctx) => {
    project = testProject("failure-ops");
    ctx.onTestFinished(() => project.remove());
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("keeps the step's error, writes the failure record and tells the team and support", async () => {
    const router = await fakeRouter({ maintenance: false, blueUrl: "http://127.0.0.1:1" });
    const hook = await webhookReceiver();
    const step = withFailureRecord("start", failingStep(new Error("sample-app exited with code 1 at start")));
    const error = await failureOf(
      step.create(project.dir, { name: "x", failure: context(router.adminPort), webhookUrl: hook.url }),
    );

    const [stored, ...others] = records(project);
    expect(others).toEqual([]);
    expect(error.message).toBe(
      `sample-app exited with code 1 at start Record: records/${stored?.name.replace(/json$/, "md")}.`,
    );
    const record = stored?.record;
    expect(record?.outcome).toBe("failed");
    expect(record?.failure).toEqual({
      service: "sample-app",
      stage: "start",
      trigger: "start-failure",
      error: "sample-app exited with code 1 at start",
      served: { version: "1.0.0", color: "blue" },
      at: expect.any(String),
    });
    expect(record?.activeColor).toBe("blue");
    expect(record?.rollback).toBeNull();
    expect(record?.verification.gates).toEqual([]);
    expect(record?.timeline.map((entry) => entry.stage)).toEqual([
      "sample-app: start started",
      "sample-app: start failed (start-failure)",
    ]);
    const markdown = readFileSync(
      join(project.dir, "records", stored?.name.replace(/json$/, "md") ?? ""),
      "utf8",
    );
    expect(markdown).toContain("- Outcome: failed");
    expect(markdown).toContain(
      "## Failure\n\n- Service: sample-app\n- Stage: start\n- Trigger: start-failure",
    );
    expect(markdown).toContain("- Users served: 1.0.0 on blue");

    const [line] = notifications(project);
    expect(line).toMatchObject({
      type: "notification",
      stage: "failed",
      release: { changeId: "CHG-101", version: "2.0.0" },
      service: "sample-app",
      severity: "critical",
      audience: ["team", "support"],
    });
    const { type: _type, webhook: _webhook, ...event } = line ?? {};
    expect(hook.received).toEqual([event]);
    expect(String(hook.received[0]?.["message"])).toBe(
      "sample-app 2.0.0 failed at the start step (start-failure); users are served 1.0.0 on blue. " +
        `sample-app exited with code 1 at start Record: records/${stored?.name.replace(/json$/, "md")}`,
    );
    expect(router.asked).toEqual(["GET /state"]);
  });

  it("names the judge's trigger and the gate for a gate that failed", async () => {
    const router = await fakeRouter({ maintenance: false, blueUrl: "http://127.0.0.1:1" });
    const step = withFailureRecord(
      "gate",
      failingStep(new StepFailure("pre-promotion gate failed: version is 9.9.9, expected 2.0.0", "errors")),
    );
    await failureOf(step.create(project.dir, { name: "x", failure: context(router.adminPort) }));
    const record = records(project)[0]?.record;
    expect(record?.failure?.trigger).toBe("errors");
    expect(record?.verification.gates).toEqual([
      {
        name: "sample-app pre-promotion gate",
        stage: "pre-promotion",
        service: "sample-app",
        verdict: "failed",
        trigger: "errors",
        summary: "pre-promotion gate failed: version is 9.9.9, expected 2.0.0",
      },
    ]);
  });

  it("names where the failed build was kept when the step kept it for inspection", async () => {
    const router = await fakeRouter({ maintenance: false, blueUrl: "http://127.0.0.1:1" });
    const kept = "services/sample-app/failed/2026-11-30T19-00-02-000Z-green-2.0.0";
    const step = withFailureRecord(
      "gate",
      failingStep(new StepFailure("pre-promotion gate failed: /health answered 500", "errors", kept)),
    );
    await failureOf(step.create(project.dir, { name: "x", failure: context(router.adminPort) }));
    expect(records(project)[0]?.record.failure).toMatchObject({ trigger: "errors", kept });
  });

  it("lifts a maintenance response whose colour still answers, and says so", async () => {
    const blue = await listen((_req, res) => res.writeHead(200).end("1.0.0"));
    const router = await fakeRouter({ maintenance: true, blueUrl: `http://127.0.0.1:${blue}` });
    const step = withFailureRecord("restore", failingStep(new Error("backup digest mismatch")));
    const error = await failureOf(
      step.create(project.dir, { name: "x", failure: context(router.adminPort) }),
    );
    expect(router.asked).toEqual(["GET /state", 'POST /maintenance {"enabled":false}']);
    expect(error.message).toMatch(
      /^backup digest mismatch The maintenance response is lifted: users are served 1\.0\.0 on blue\. Record: records\/CHG-101-2\.0\.0-\d{8}T\d{9}Z\.md\.$/,
    );
    expect(records(project)[0]?.record.failure).toMatchObject({
      stage: "restore",
      trigger: "restore-failure",
      served: { version: "1.0.0", color: "blue" },
    });
  });

  it("keeps the maintenance response when the colour behind it was stopped, and records that nothing serves", async () => {
    const router = await fakeRouter({ maintenance: true, blueUrl: "http://127.0.0.1:1" });
    const step = withFailureRecord("migration", failingStep(new Error("migration 0003 failed")));
    const error = await failureOf(
      step.create(project.dir, { name: "x", failure: context(router.adminPort) }),
    );
    expect(router.asked).toEqual(["GET /state"]);
    expect(error.message).toContain("Users still get the maintenance response");
    expect(records(project)[0]?.record.failure?.served).toBeNull();
  });

  it("keeps the maintenance response in front of a colour the release restarted with its failed build", async () => {
    const blue = await listen((_req, res) => res.writeHead(200).end("4.0.0, not gated"));
    const router = await fakeRouter({ maintenance: true, blueUrl: `http://127.0.0.1:${blue}` });
    const step = withFailureRecord("gate", failingStep(new StepFailure("gate failed", "errors")));
    const error = await failureOf(
      step.create(project.dir, { name: "x", failure: { ...context(router.adminPort), candidate: "blue" } }),
    );
    expect(router.asked).toEqual(["GET /state"]);
    expect(error.message).toContain("Users still get the maintenance response");
    expect(records(project)[0]?.record.failure?.served).toBeNull();
  });

  it("never hides the step's error: not behind a record that cannot be written, nor a webhook that fails", async () => {
    const router = await fakeRouter({ maintenance: false, blueUrl: "http://127.0.0.1:1" });
    const hook = await webhookReceiver(500);
    writeFileSync(join(project.dir, "not-a-folder"), "");
    const step = withFailureRecord("backup", failingStep(new Error("ENOSPC: no space left on device")));
    const error = await failureOf(
      step.create(project.dir, {
        name: "x",
        failure: context(router.adminPort, "not-a-folder"),
        webhookUrl: hook.url,
      }),
    );
    expect(error.message).toMatch(
      /^ENOSPC: no space left on device The failure record could not be written \(.*\); write it by hand\.$/,
    );
    // The notice still went out (retried: a 500 is), and its failure is logged, not thrown.
    expect(hook.received.length).toBe(3);
    expect(notifications(project).map((line) => [line["type"], line["stage"]])).toEqual([
      ["notification", "failed"],
      ["webhook-failure", "failed"],
    ]);
  });

  it("passes an error through untouched when the step has no failure context, or recorded it itself", async () => {
    const plain = new Error("no context");
    expect(
      await failureOf(withFailureRecord("switch", failingStep(plain)).create(project.dir, { name: "x" })),
    ).toBe(plain);
    const recorded = new RecordedFailure("already recorded");
    const router = await fakeRouter({ maintenance: false, blueUrl: "http://127.0.0.1:1" });
    expect(
      await failureOf(
        withFailureRecord("verification", failingStep(recorded)).create(project.dir, {
          name: "x",
          failure: context(router.adminPort),
        }),
      ),
    ).toBe(recorded);
    expect(readdirSync(project.dir)).toEqual([]);
    expect(router.asked).toEqual([]);
  });

  it("leaves a step that succeeds as it was", async () => {
    const step = withFailureRecord("switch", failingStep(new Error("unused")));
    const inputs = { name: "x", failure: context(1) };
    expect(await step.update?.(project.dir, "id", inputs, inputs)).toEqual({ outs: inputs });
    expect(readdirSync(project.dir)).toEqual([]);
  });
});
