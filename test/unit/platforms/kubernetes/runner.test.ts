// The kubernetes runner's own acts around the contract's verdicts: the switch back (a merge patch of
// the active Service), the notification of a switch back, and the webhook rule (a failed webhook is
// reported, never a failed Job). The verdicts themselves are the contract's: see one-judge.test.ts.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerificationReport } from "../../../../contract";
import { parseDeploymentRecord } from "../../../../contract";
import {
  awaitRoute,
  type FailureTask,
  gateTask,
  main,
  readFailure,
  notifyTask,
  switchBack,
  verifyTask,
  type VerifyTask,
} from "../../../../platforms/kubernetes/runner/main";

let server: Server;
let base: string;
const received: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.url?.startsWith("/app/")) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "boom" }));
      } else if (req.url === "/hook-down") {
        res.writeHead(500);
        res.end();
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const verify = (rollbackTo: "blue" | null) => ({
  release: "CHG-7@2.1.0",
  url: `${base}/app`,
  checks: [{ name: "health", kind: "technical", path: "/health" }],
  spec: { bakeTimeMs: 100, intervalMs: 50, maxErrorRate: 0, maxP95LatencyMs: 1000 },
  promoted: "green",
  rollbackTo,
  namespace: "shop",
  activeService: "web",
  colorLabel: "shipgate.dev/color",
  annotations: {
    rolledBackAt: "shipgate.dev/rolled-back-at",
    rollbackTrigger: "shipgate.dev/rollback-trigger",
  },
  notice: {
    stage: "rolled-back",
    severity: "critical",
    audience: ["team", "support"],
    release: { changeId: "CHG-7", version: "2.1.0" },
    service: "web",
  },
});

describe("the runner's verification task", () => {
  it("switches back, notifies with the judge's message, and fails", async () => {
    const switched: [VerifyTask, VerificationReport][] = [];
    received.length = 0;
    const result = await verifyTask(verify("blue"), {
      switchBack: async (task, report) => {
        switched.push([task, report]);
      },
      webhookUrl: `${base}/hook`,
    });
    expect(result.verdict).toBe("failed");
    expect(result.trigger).toBe("errors");
    expect(result.switchedBackTo).toBe("blue");
    expect(result.message).toMatch(
      /^Post-promotion verification failed with rollback trigger errors \(ended early/,
    );
    expect(result.message.endsWith("Traffic is back on blue, the previous version.")).toBe(true);
    expect(switched).toHaveLength(1);
    expect(switched[0]?.[0].rollbackTo).toBe("blue");
    const hook = received.filter((r) => r.url === "/hook");
    expect(hook).toHaveLength(1);
    expect(JSON.parse(hook[0]?.body ?? "{}")).toMatchObject({
      stage: "rolled-back",
      release: { changeId: "CHG-7", version: "2.1.0" },
      service: "web",
      message: result.message,
      severity: "critical",
    });
  });

  it("patches only the active Service's selector and marks the trigger", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-token-"));
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "secret-token\n");
    received.length = 0;
    try {
      const report = {
        trigger: "errors",
        message: "Post-promotion verification failed.",
      } as VerificationReport;
      const task = verify("blue") as unknown as VerifyTask;
      await switchBack(task, report, fetch, base, tokenFile);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(received).toHaveLength(1);
    const [patch] = received;
    expect(patch?.method).toBe("PATCH");
    expect(patch?.url).toBe("/api/v1/namespaces/shop/services/web");
    expect(patch?.headers["authorization"]).toBe("Bearer secret-token");
    expect(patch?.headers["content-type"]).toBe("application/merge-patch+json");
    const body = JSON.parse(patch?.body ?? "{}") as {
      spec: unknown;
      metadata: { annotations: Record<string, string> };
    };
    expect(body.spec).toEqual({ selector: { "shipgate.dev/color": "blue" } });
    expect(body.metadata.annotations["shipgate.dev/rollback-trigger"]).toBe(
      "errors: Post-promotion verification failed.",
    );
  });
});

/** What the program gives a Job to record a failure: the release's draft as the sample's v2 has it. */
const failure: FailureTask = {
  service: "web",
  release: { changeId: "CHG-7", version: "2.1.0" },
  record: {
    issue: { changeId: "CHG-7", changeRequest: "CR-7", incident: null },
    release: { version: "2.1.0", title: null, digest: `sha256:${"a".repeat(64)}`, stack: "staging" },
    deploymentType: "standard-partial",
    strategy: "blue-green",
    changes: { code: [], database: [], config: [], services: [] },
    tests: { scope: "targeted", passed: 1, failed: 0, skipped: 0, total: 1, report: "r", reviewedBy: "sam" },
    signOff: [],
  },
  served: { version: "2.0.0", color: "blue" },
  namespace: "shop",
};

describe("a failed gate or verification Job records the failure itself", () => {
  let dir: string;
  let tokenFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "shipgate-token-"));
    tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "secret-token\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const gate = () => ({
    release: "CHG-7@2.1.0",
    target: `${base}/app`,
    checks: [{ name: "health", kind: "technical", path: "/health" }],
    policy: { consecutiveSuccesses: 1, failureThreshold: 1, intervalMs: 10, timeoutMs: 2000 },
  });
  /** The record ConfigMap the runner created through the API server, parsed. */
  const createdRecord = () => {
    const created = received.filter(
      (r) => r.method === "POST" && r.url === "/api/v1/namespaces/shop/configmaps",
    );
    expect(created).toHaveLength(1);
    expect(created[0]?.headers["authorization"]).toBe("Bearer secret-token");
    const body = JSON.parse(created[0]?.body ?? "{}") as {
      metadata: { name: string; labels: Record<string, string> };
      data: Record<string, string>;
    };
    const parsed = parseDeploymentRecord(JSON.parse(body.data["record.json"] ?? "{}"));
    if (!parsed.ok) throw new Error(parsed.issues.join("; "));
    return { body, record: parsed.value };
  };

  it("reads the failure context the program mounts, and names a broken one", () => {
    const file = join(dir, "failure.json");
    writeFileSync(file, JSON.stringify(failure));
    expect(readFailure(file)).toEqual(failure);
    writeFileSync(file, JSON.stringify({ ...failure, served: "blue" }));
    expect(() => readFailure(file)).toThrow(`the failure context (${file}) is not valid: served:`);
  });

  it("a failed gate writes the failure record as a ConfigMap and tells the team, then fails", async () => {
    received.length = 0;
    const result = await gateTask(
      gate(),
      { api: fetch, apiServer: base, tokenFile, webhookUrl: `${base}/hook` },
      failure,
    );
    expect(result.verdict).toBe("failed");
    const { body, record } = createdRecord();
    expect(body.metadata.name).toMatch(/^shipgate-record-chg-7-2\.1\.0-\d{8}t\d{9}z$/);
    expect(body.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "shipgate",
      "shipgate.dev/kind": "deployment-record",
      "shipgate.dev/outcome": "failed",
    });
    expect(body.data["record.md"]).toContain("## Failure");
    expect(record.outcome).toBe("failed");
    expect(record.failure).toMatchObject({
      service: "web",
      stage: "gate",
      trigger: "errors",
      served: { version: "2.0.0", color: "blue" },
    });
    expect(result.message).toMatch(/ Record: configmap\/shop\/shipgate-record-chg-7-2\.1\.0-\S+\.$/);
    const hook = received
      .filter((r) => r.url === "/hook")
      .map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(hook).toEqual([
      expect.objectContaining({
        stage: "failed",
        audience: ["team", "support"],
        message: expect.stringMatching(
          /^web 2\.1\.0 failed at the gate step \(errors\); users are served 2\.0\.0 on blue\./,
        ),
      }),
    ]);
  });

  it("a gate without a failure context (a Job of an earlier program) writes nothing", async () => {
    expect(readFailure(join(dir, "none.json"))).toBeUndefined();
    received.length = 0;
    const result = await gateTask(gate(), { api: fetch, apiServer: base, tokenFile });
    expect(result.verdict).toBe("failed");
    expect(received.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("an API server that refuses the record hides nothing: the verdict and the notice stand", async () => {
    received.length = 0;
    const result = await gateTask(
      gate(),
      { api: fetch, apiServer: `${base}/app`, tokenFile, webhookUrl: `${base}/hook` },
      failure,
    );
    expect(result.verdict).toBe("failed");
    expect(result.message).toMatch(
      /The failure record could not be written \(HTTP 500 .*\); write it by hand\.$/,
    );
    expect(received.filter((r) => r.url === "/hook")).toHaveLength(1);
  });

  it("a failed verification records the switch back (rolled-back), and sends one notice", async () => {
    received.length = 0;
    const result = await verifyTask(verify("blue"), {
      switchBack: async () => undefined,
      api: fetch,
      apiServer: base,
      tokenFile,
      webhookUrl: `${base}/hook`,
      failure,
    });
    expect(result.verdict).toBe("failed");
    const { record } = createdRecord();
    expect(record.outcome).toBe("rolled-back");
    expect(record.rollback?.trigger).toBe("errors");
    expect(record.failure).toMatchObject({
      stage: "verification",
      served: { version: "2.0.0", color: "blue" },
    });
    const hook = received
      .filter((r) => r.url === "/hook")
      .map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(hook.map((event) => event["stage"])).toEqual(["rolled-back"]);
  });
});

describe("the runner's notification task", () => {
  it("passes even when the webhook keeps failing, and says so", async () => {
    const result = await notifyTask(
      {
        stage: "completed",
        release: { changeId: "CHG-7", version: "2.0.0" },
        message: "2.0.0 is live",
        severity: "info",
        audience: ["team"],
      },
      `${base}/hook-down`,
    );
    expect(result).toEqual({
      task: "notify",
      verdict: "passed",
      trigger: null,
      message: `not delivered to ${base}/hook-down: the webhook answered HTTP 500`,
      webhook: "failed: the webhook answered HTTP 500",
    });
  });

  it("refuses a task that is not the contract's, naming the field", async () => {
    await expect(notifyTask({ stage: "party" }, undefined)).rejects.toThrow(
      /stage: expected one of starting/,
    );
  });
});

describe("awaitRoute: a Job's wait for its Service to be routed", () => {
  it("waits through network errors until anything answers, even a 500, and logs each new reason once", async () => {
    const logged: string[] = [];
    let asked = 0;
    const probe = async () => {
      asked += 1;
      if (asked <= 3)
        throw new Error("fetch failed", { cause: new Error("connect EHOSTUNREACH 10.96.0.9:8080") });
      return new Response("broken", { status: 500 });
    };
    await expect(awaitRoute("http://preview:8080", 10_000, probe, (line) => logged.push(line))).resolves.toBe(
      true,
    );
    expect(asked).toBe(4);
    expect(logged).toEqual([
      "waiting for http://preview:8080 to be routed: Error: connect EHOSTUNREACH 10.96.0.9:8080",
    ]);
  });

  it("gives up after its wait and says so, leaving the verdict to the probe loop", async () => {
    const logged: string[] = [];
    const probe = () => Promise.reject(new Error("fetch failed", { cause: new Error("ENOTFOUND") }));
    await expect(awaitRoute("http://preview:8080", 0, probe, (line) => logged.push(line))).resolves.toBe(
      false,
    );
    expect(logged.at(-1)).toBe("http://preview:8080 is still not routed after 0s; probing anyway");
  });
});

describe("main", () => {
  it("fails a Job whose task is not JSON or unknown", async () => {
    const before = process.exitCode;
    try {
      await main("gate", { SHIPGATE_TASK: "{not json" });
      expect(process.exitCode).toBe(1);
      process.exitCode = 0;
      await main("dance", { SHIPGATE_TASK: "{}" });
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = before;
    }
  });
});
