import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  gateSpecSchema,
  mostSevere,
  parseWith,
  percentile,
  runGate,
  runVerification,
  verificationSpecSchema,
  type FetchImpl,
  type GateReport,
  type HttpCheck,
  type ProbeRound as GateRound,
  type VerificationReport,
} from "../../../contract";

const parseGateSpec = (raw: unknown) => parseWith(gateSpecSchema, raw);
const parseVerificationSpec = (raw: unknown) => parseWith(verificationSpecSchema, raw);
const describeGateFailure = (report: GateReport | VerificationReport) => report.message;

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: { method: string; url: string; contentType: string | undefined; body: string }[];

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

/** The sample app's health endpoint, as a healthy version 2.0.0 serves it. */
const healthy: Handler = (req, res) => {
  if (req.url === "/health") json(res, 200, { status: "ok", version: "2.0.0" });
  else if (req.method === "POST" && req.url === "/orders") json(res, 201, { id: 7, state: "created" });
  else json(res, 404, { error: "not found" });
};

/** Technical checks against /health: up, the expected version, within the latency bound. */
const technical: HttpCheck[] = [
  { name: "health", kind: "technical", method: "GET", path: "/health", expect: { status: 200 } },
  {
    name: "version",
    kind: "technical",
    method: "GET",
    path: "/health",
    expect: { status: 200, version: "2.0.0" },
  },
  {
    name: "latency",
    kind: "technical",
    method: "GET",
    path: "/health",
    expect: { status: 200, maxLatencyMs: 1_000 },
  },
];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        contentType: req.headers["content-type"],
        body,
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});
beforeEach(() => {
  handler = healthy;
  seen = [];
});

const health: HttpCheck = { name: "health", kind: "technical", path: "/health", expect: {} };
const fast = { consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 5, timeoutMs: 5_000 };
const passed = (rounds: readonly GateRound[]) => rounds.map((round) => round.passed);

/** A fake fetch answering from a script: one entry per call, the last one repeated. */
function scripted(...answers: (() => Promise<Response> | Response)[]): FetchImpl {
  let call = 0;
  return async () => {
    const answer = answers[Math.min(call++, answers.length - 1)];
    if (!answer) throw new Error("no scripted answer");
    return answer();
  };
}
const respond =
  (status: number, body: unknown, delayMs = 0) =>
  async () => {
    if (delayMs > 0) await new Promise((done) => setTimeout(done, delayMs));
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
  };

describe("parseGateSpec", () => {
  it("applies the defaults in one place", () => {
    expect(parseGateSpec({ checks: [health] })).toEqual({
      ok: true,
      value: {
        checks: [
          { name: "health", kind: "technical", method: "GET", path: "/health", expect: { status: 200 } },
        ],
        policy: {
          consecutiveSuccesses: 3,
          failureThreshold: 3,
          intervalMs: 500,
          timeoutMs: 30_000,
          requestTimeoutMs: 5_000,
        },
      },
    });
  });

  it("names every invalid field and what was expected, all at once", () => {
    expect(
      parseGateSpec({
        checks: [
          { name: "a", kind: "smoke", path: "health", expect: { status: 42, bodyMatches: "(" } },
          {
            name: "a",
            kind: "business",
            method: "FETCH",
            path: "/x",
            expect: { jsonPath: "version" },
            extra: 1,
          },
        ],
        policy: { consecutiveSuccesses: 0, timeoutMs: "30s" },
      }),
    ).toEqual({
      ok: false,
      issues: [
        { path: "checks[0].kind", message: "expected one of technical, business" },
        {
          path: "checks[0].path",
          message: "expected a path starting with / and without spaces, e.g. /health",
        },
        { path: "checks[0].expect.status", message: "expected an HTTP status code from 100 to 599" },
        { path: "checks[0].expect.bodyMatches", message: "expected a valid JavaScript regular expression" },
        { path: "checks[1].method", message: "expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" },
        {
          path: "checks[1].expect.jsonPath",
          message: "expected jsonPath and equals together: equals is the value found at jsonPath",
        },
        { path: "checks[1].extra", message: "unknown field: remove it or check its spelling" },
        { path: "policy.consecutiveSuccesses", message: "expected 1 or more rounds" },
        { path: "policy.timeoutMs", message: "expected a timeout in milliseconds" },
      ],
    });
    expect(parseGateSpec({ checks: [health, health] })).toEqual({
      ok: false,
      issues: [{ path: "checks[1].name", message: 'expected a unique check name; "health" is used twice' }],
    });
    expect(parseGateSpec({ checks: [] })).toEqual({
      ok: false,
      issues: [{ path: "checks", message: "expected at least one check" }],
    });
  });

  it("parses a verification spec and names its fields", () => {
    expect(
      parseVerificationSpec({
        checks: [health],
        bakeTimeMs: 60_000,
        maxErrorRate: 0.01,
        maxP95LatencyMs: 300,
      }),
    ).toMatchObject({ ok: true, value: { intervalMs: 250, requestTimeoutMs: 5_000 } });
    expect(parseVerificationSpec({ checks: [health], bakeTimeMs: 0, maxErrorRate: 2 })).toEqual({
      ok: false,
      issues: [
        { path: "bakeTimeMs", message: "expected a bake time above 0 ms" },
        { path: "maxErrorRate", message: "expected an error rate from 0 to 1" },
      ],
    });
  });
});

describe("mostSevere and percentile", () => {
  it("orders triggers system-failure, errors, performance, business", () => {
    expect(mostSevere(["business-impact", "performance"])).toBe("performance");
    expect(mostSevere(["business-impact", "errors", "system-failure"])).toBe("system-failure");
    expect(mostSevere([])).toBeUndefined();
  });
  it("takes the nearest-rank percentile", () => {
    expect(percentile([], 95)).toBeNull();
    expect(percentile([5], 95)).toBe(5);
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => 20 - i),
        95,
      ),
    ).toBe(19);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(95);
  });
});

describe("runGate against a real server", () => {
  it("passes a healthy service with technical and business checks", async () => {
    const progress: number[] = [];
    const checks: HttpCheck[] = [
      ...technical,
      {
        name: "place-order",
        kind: "business",
        method: "POST",
        path: "/orders",
        body: { item: "book", quantity: 1 },
        expect: { status: [200, 201], bodyContains: "created", jsonPath: "state", equals: "created" },
      },
    ];
    const report = await runGate({
      baseUrl: `${baseUrl}/`,
      checks,
      policy: fast,
      onProgress: (round) => progress.push(round.index),
    });
    expect(report.verdict).toBe("passed");
    expect(report.endedBy).toBe("consecutive-successes");
    expect(report.trigger).toBeUndefined();
    expect(progress).toEqual([1, 2, 3]);
    expect(report.totals).toEqual({
      rounds: 3,
      passedRounds: 3,
      failedRounds: 0,
      checkRuns: 12,
      failedCheckRuns: 0,
      finalStreak: 3,
    });
    expect(report.rounds[0]?.outcomes.map((o) => [o.check, o.kind, o.ok, o.status])).toEqual([
      ["health", "technical", true, 200],
      ["version", "technical", true, 200],
      ["latency", "technical", true, 200],
      ["place-order", "business", true, 201],
    ]);
    expect(seen.filter((request) => request.method === "POST")[0]).toEqual({
      method: "POST",
      url: "/orders",
      contentType: "application/json",
      body: '{"item":"book","quantity":1}',
    });
    expect(describeGateFailure(report)).toBe("Gate passed: 3 consecutive passing rounds after 3 rounds.");
  });

  it("fails on 500s with the errors trigger after the failure threshold", async () => {
    handler = (_req, res) => json(res, 500, { error: "boom" });
    const report = await runGate({ baseUrl, checks: [health], policy: fast });
    expect(report.verdict).toBe("failed");
    expect(report.endedBy).toBe("failure-threshold");
    expect(report.trigger).toBe("errors");
    expect(passed(report.rounds)).toEqual([false, false, false]);
    expect(report.rounds[2]?.outcomes).toEqual([
      {
        check: "health",
        kind: "technical",
        ok: false,
        status: 500,
        latencyMs: expect.any(Number),
        trigger: "errors",
        reason: "expected HTTP 200, got 500",
      },
    ]);
    expect(describeGateFailure(report)).toBe(
      "Gate failed with rollback trigger errors (3 failed rounds of 3 reached the failure threshold " +
        'of 3): check "health" (technical) failed 3 times, last: expected HTTP 200, got 500 [errors].',
    );
  });

  it("fails on 502s from a proxy whose upstream is down with the system-failure trigger", async () => {
    handler = (_req, res) => json(res, 502, { error: "upstream unreachable" });
    const report = await runGate({ baseUrl, checks: [health], policy: fast });
    expect(report.verdict).toBe("failed");
    expect(report.trigger).toBe("system-failure");
    expect(report.rounds[0]?.outcomes[0]?.trigger).toBe("system-failure");
  });

  it("fails a slow service with the performance trigger", async () => {
    handler = (req, res) => setTimeout(() => healthy(req, res, ""), 60);
    const report = await runGate({
      baseUrl,
      checks: [{ ...health, name: "latency", expect: { maxLatencyMs: 20 } }],
      policy: { ...fast, failureThreshold: 1 },
    });
    expect(report.trigger).toBe("performance");
    const outcome = report.rounds[0]?.outcomes[0];
    expect(outcome?.status).toBe(200);
    expect(outcome?.latencyMs).toBeGreaterThanOrEqual(55);
    expect(outcome?.reason).toBe(`expected a response within 20 ms, took ${outcome?.latencyMs} ms`);
  });

  it("fails a flapping service: passing rounds never string together", async () => {
    let calls = 0;
    handler = (req, res) =>
      calls++ % 2 === 0 ? healthy(req, res, "") : json(res, 503, { status: "starting" });
    const report = await runGate({ baseUrl, checks: [health], policy: fast });
    expect(passed(report.rounds)).toEqual([true, false, true, false, true, false]);
    expect(report.endedBy).toBe("failure-threshold");
    expect(report.totals).toMatchObject({ rounds: 6, passedRounds: 3, failedRounds: 3, finalStreak: 0 });
    expect(report.trigger).toBe("system-failure");
  });

  it("fails the wrong version with the errors trigger", async () => {
    handler = (_req, res) => json(res, 200, { status: "ok", version: "1.0.0" });
    const report = await runGate({
      baseUrl,
      checks: technical,
      policy: fast,
    });
    expect(report.trigger).toBe("errors");
    expect(report.rounds[0]?.outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(describeGateFailure(report)).toBe(
      "Gate failed with rollback trigger errors (3 failed rounds of 3 reached the failure threshold of 3): " +
        'check "version" (technical) failed 3 times, last: expected JSON .version to equal "2.0.0", got "1.0.0" [errors].',
    );
  });

  it("fails with system-failure when the connection is refused", async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const report = await runGate({ baseUrl: `http://127.0.0.1:${port}`, checks: [health], policy: fast });
    expect(report.trigger).toBe("system-failure");
    expect(report.rounds[0]?.outcomes[0]).toMatchObject({ status: null, reason: "connection refused" });
    expect(describeGateFailure(report)).toBe(
      "Gate failed with rollback trigger system-failure (3 failed rounds of 3 reached the failure threshold " +
        'of 3): check "health" (technical) failed 3 times, last: connection refused [system-failure].',
    );
  });

  it("times out a request that gets no answer", async () => {
    handler = () => undefined; // never answers
    const report = await runGate({
      baseUrl,
      checks: [health],
      policy: { ...fast, failureThreshold: 1, requestTimeoutMs: 50 },
    });
    expect(report.rounds[0]?.outcomes[0]).toMatchObject({
      ok: false,
      status: null,
      trigger: "system-failure",
      reason: "no response within 50 ms",
    });
  });

  it("checks status lists, body text and patterns, naming each failure", async () => {
    handler = (_req, res) => json(res, 404, { message: "Not   here" });
    const report = await runGate({
      baseUrl,
      checks: [
        { ...health, expect: { status: [200, 204], bodyContains: "ok", bodyMatches: '^\\{"status"' } },
      ],
      policy: { ...fast, failureThreshold: 1 },
    });
    expect(report.rounds[0]?.outcomes[0]?.reason).toBe(
      'expected HTTP 200 or 204, got 404; expected the body to contain "ok", got "{\\"message\\":\\"Not here\\"}"; ' +
        'expected the body to match /^\\{"status"/, got "{\\"message\\":\\"Not here\\"}"',
    );
    expect(report.trigger).toBe("errors");
  });
});

describe("runGate with a scripted fetch", () => {
  it("reports a failing business check as business, and errors as more severe", async () => {
    const smoke: HttpCheck = {
      name: "search",
      kind: "business",
      path: "/search",
      expect: { bodyContains: "book" },
    };
    const onlyBusiness = await runGate({
      baseUrl,
      checks: [smoke],
      policy: { ...fast, failureThreshold: 1 },
      fetchImpl: scripted(respond(200, "no results")),
    });
    expect(onlyBusiness.trigger).toBe("business-impact");
    expect(onlyBusiness.rounds[0]?.outcomes[0]?.reason).toBe(
      'expected the body to contain "book", got "no results"',
    );

    const both = await runGate({
      baseUrl,
      checks: [{ ...health, expect: { version: "2.0.0" } }, smoke],
      policy: { ...fast, failureThreshold: 1 },
      fetchImpl: scripted(respond(200, "not json"), respond(200, "no results")),
    });
    expect(both.trigger).toBe("errors");
    expect(both.rounds[0]?.outcomes.map((o) => o.trigger)).toEqual(["errors", "business-impact"]);
    expect(both.rounds[0]?.outcomes[0]?.reason).toBe('expected a JSON body with .version, got "not json"');
    expect(describeGateFailure(both)).toBe(
      "Gate failed with rollback trigger errors (1 failed rounds of 1 reached the failure threshold of 1): " +
        'check "health" (technical) failed 1 time, last: expected a JSON body with .version, got "not json" [errors]; ' +
        'check "search" (business) failed 1 time, last: expected the body to contain "book", got "no results" [business-impact].',
    );
  });

  it("a 5xx from a business check is a system failure", async () => {
    const report = await runGate({
      baseUrl,
      checks: [{ name: "checkout", kind: "business", path: "/checkout", expect: {} }],
      policy: { ...fast, failureThreshold: 1 },
      fetchImpl: scripted(respond(502, "bad gateway")),
    });
    expect(report.trigger).toBe("system-failure");
  });

  it("times out overall when passing rounds do not come soon enough", async () => {
    const report = await runGate({
      baseUrl,
      checks: [health],
      policy: { consecutiveSuccesses: 50, intervalMs: 20, timeoutMs: 70 },
      fetchImpl: scripted(respond(200, "ok")),
    });
    expect(report.verdict).toBe("failed");
    expect(report.endedBy).toBe("timeout");
    expect(report.trigger).toBe("system-failure");
    // Rounds start every 20 ms: 4 fit before 70 ms, 3 when the machine is slow.
    const rounds = report.totals.rounds;
    expect([3, 4]).toContain(rounds);
    expect(describeGateFailure(report)).toBe(
      `Gate failed with rollback trigger system-failure (no verdict within the 70 ms timeout, ${rounds} of 50 ` +
        "consecutive passing rounds reached): no check failed.",
    );
  });

  it("caps each request at the time left before the overall timeout", async () => {
    const report = await runGate({
      baseUrl,
      checks: [health],
      policy: { timeoutMs: 40, requestTimeoutMs: 5_000 },
      fetchImpl: (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
        ),
    });
    expect(report.endedBy).toBe("timeout");
    expect(report.rounds[0]?.outcomes[0]?.reason).toBe("no response within 40 ms");
    expect(report.durationMs).toBeLessThan(1_000);
  });

  it("waits for minRounds before passing", async () => {
    const report = await runGate({
      baseUrl,
      checks: [health],
      policy: { consecutiveSuccesses: 1, minRounds: 4, intervalMs: 1 },
      fetchImpl: scripted(respond(200, "ok")),
    });
    expect(report.verdict).toBe("passed");
    expect(report.totals.rounds).toBe(4);
  });

  it("stops when cancelled, with no verdict", async () => {
    const controller = new AbortController();
    const report = await runGate({
      baseUrl,
      checks: [health],
      policy: { consecutiveSuccesses: 10, intervalMs: 1_000 },
      signal: controller.signal,
      onProgress: () => controller.abort(),
      fetchImpl: scripted(respond(200, "ok")),
    });
    expect(report.verdict).toBe("aborted");
    expect(report.trigger).toBeUndefined();
    expect(report.durationMs).toBeLessThan(900);
    expect(describeGateFailure(report)).toBe("Gate was cancelled after 1 rounds, before a verdict.");

    const during = new AbortController();
    const hanging = runGate({
      baseUrl,
      checks: [health],
      signal: during.signal,
      fetchImpl: (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
        ),
    });
    setTimeout(() => during.abort(), 10);
    expect((await hanging).endedBy).toBe("aborted");
  });

  it("refuses invalid arguments before sending anything", async () => {
    await expect(runGate({ baseUrl, checks: [{ ...health, path: "health" }] })).rejects.toThrow(
      "gate is not valid: checks[0].path: expected a path starting with / and without spaces, e.g. /health; " +
        "fix these fields and run again",
    );
  });
});

describe("runVerification", () => {
  const spec = { bakeTimeMs: 60, intervalMs: 20, maxErrorRate: 0.3, maxP95LatencyMs: 1_000 };

  it("probes for the whole bake time and passes within the budget", async () => {
    let calls = 0;
    handler = (req, res) => (++calls === 2 ? json(res, 500, {}) : healthy(req, res, ""));
    const report = await runVerification({ baseUrl, checks: [health], ...spec });
    expect(report.verdict).toBe("passed");
    expect(report.endedBy).toBe("bake-time-elapsed");
    expect(report.totals).toEqual({
      rounds: 4,
      samples: 4,
      errors: 1,
      errorRate: 0.25,
      p95LatencyMs: expect.any(Number),
      errorsByTrigger: { "system-failure": 0, errors: 1, performance: 0, "business-impact": 0 },
    });
    expect(report.durationMs).toBeGreaterThanOrEqual(59);
    expect(describeGateFailure(report)).toMatch(
      /^Verification passed over 60 ms: error rate 25% of 4 probes \(at most 30%\), p95 latency \d+ ms \(at most 1000 ms\)\.$/,
    );
  });

  it("fails early once the error budget is certainly exceeded", async () => {
    handler = (_req, res) => json(res, 503, {});
    const report = await runVerification({
      baseUrl,
      checks: [health],
      bakeTimeMs: 10_000,
      intervalMs: 10,
      maxErrorRate: 0.0001,
      maxP95LatencyMs: 1_000,
    });
    // 1001 rounds fit in the bake time; a budget of 0.01% of them is exceeded by the first error.
    expect(report.endedBy).toBe("error-budget-exceeded");
    expect(report.totals.rounds).toBe(1);
    expect(report.trigger).toBe("system-failure");
    expect(report.durationMs).toBeLessThan(1_000);
    expect(describeGateFailure(report)).toBe(
      "Post-promotion verification failed with rollback trigger system-failure (ended early: 1 failed probes " +
        'already exceed the error budget of 0.01% over the bake time): check "health" (technical) failed 1 time, ' +
        "last: expected HTTP 200, got 503 [system-failure].",
    );
  });

  it("fails early only when the remaining probes could not bring the rate back", async () => {
    // 4 rounds fit; 30% of 4 samples is 1.2 errors: the second error decides.
    const report = await runVerification({
      baseUrl,
      checks: [health],
      ...spec,
      fetchImpl: scripted(respond(500, ""), respond(200, ""), respond(500, "")),
    });
    expect(report.endedBy).toBe("error-budget-exceeded");
    expect(report.totals.rounds).toBe(3);
    expect(report.totals.errors).toBe(2);
  });

  it("fails on p95 latency with the performance trigger", async () => {
    const report = await runVerification({
      baseUrl,
      checks: [health],
      ...spec,
      maxP95LatencyMs: 10,
      fetchImpl: scripted(respond(200, "ok", 25)),
    });
    expect(report.verdict).toBe("failed");
    expect(report.endedBy).toBe("bake-time-elapsed");
    expect(report.trigger).toBe("performance");
    expect(report.totals.errors).toBe(0);
    expect(describeGateFailure(report)).toMatch(
      /^Post-promotion verification failed with rollback trigger performance \(after the 60 ms bake time: error rate 0% of \d probes \(at most 30%\), p95 latency \d+ ms \(at most 10 ms\)\): no check failed\.$/,
    );
  });

  it("names business failures over the bake time as business", async () => {
    const report = await runVerification({
      baseUrl,
      checks: [{ name: "cart", kind: "business", path: "/cart", expect: { jsonPath: "items", equals: [] } }],
      ...spec,
      maxErrorRate: 0.5,
      fetchImpl: scripted(respond(200, { items: [1] })),
    });
    expect(report.trigger).toBe("business-impact");
    expect(report.rounds[0]?.outcomes[0]?.reason).toBe("expected JSON .items to equal [], got [1]");
  });

  it("stops when cancelled", async () => {
    const controller = new AbortController();
    const report = await runVerification({
      baseUrl,
      checks: [health],
      ...spec,
      bakeTimeMs: 10_000,
      signal: controller.signal,
      onProgress: () => controller.abort(),
      fetchImpl: scripted(respond(200, "ok")),
    });
    expect(report.verdict).toBe("aborted");
    expect(report.totals.rounds).toBe(1);
  });
});
