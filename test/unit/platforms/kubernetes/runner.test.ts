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
import {
  awaitRoute,
  main,
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
