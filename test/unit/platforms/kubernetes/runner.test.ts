// The in-cluster runner's verdicts, with checks answered by a fake instead of HTTP.
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript run by Node.js in the cluster; no type declarations
import * as runner from "../../../../platforms/kubernetes/runner/runner.mjs";

type Failure = { trigger: string; reason: string } | null;
const { checkResponse, runGate, runVerification, percentile95 } = runner as {
  checkResponse(check: unknown, response: { status: number; body: string; latencyMs: number }): Failure;
  runGate(task: unknown, run: unknown): Promise<Record<string, unknown>>;
  runVerification(task: unknown, run: unknown): Promise<Record<string, unknown>>;
  percentile95(values: number[]): number | null;
};

const version = {
  name: "version",
  kind: "technical",
  path: "/version",
  expect: { status: 200, version: "1.1.0" },
};

describe("runner.mjs", () => {
  it("checks status, latency and the JSON version of a response", () => {
    expect(checkResponse(version, { status: 200, body: '{"version":"1.1.0"}', latencyMs: 5 })).toBeNull();
    expect(checkResponse(version, { status: 200, body: '{"version":"1.0.0"}', latencyMs: 5 })).toEqual({
      trigger: "errors",
      reason: 'version: version is "1.0.0", expected "1.1.0"',
    });
    expect(checkResponse(version, { status: 503, body: "", latencyMs: 5 })).toEqual({
      trigger: "errors",
      reason: "version: status 503",
    });
    const slow = { ...version, expect: { maxLatencyMs: 100 } };
    expect(checkResponse(slow, { status: 200, body: "", latencyMs: 250 })?.trigger).toBe("performance");
  });

  it("passes a gate after enough successes in a row, and fails it after too many failures", async () => {
    const policy = { consecutiveSuccesses: 2, failureThreshold: 2, intervalMs: 1, timeoutMs: 5000 };
    const ok = async () => ({ latencyMs: 1, failure: null });
    expect(await runGate({ target: "http://x", checks: [version], policy }, ok)).toEqual({
      passed: true,
      rounds: 2,
    });
    const down = async () => ({
      latencyMs: 1,
      failure: { trigger: "system-failure", reason: "version: ECONNREFUSED" },
    });
    expect(await runGate({ target: "http://x", checks: [version], policy }, down)).toEqual({
      passed: false,
      rounds: 2,
      trigger: "system-failure",
      reason: "version: ECONNREFUSED",
    });
  });

  it("fails verification on a business failure at once, naming the trigger", async () => {
    const spec = { bakeTimeMs: 10_000, intervalMs: 1, maxErrorRate: 0.5, maxP95LatencyMs: 1000 };
    const broken = async () => ({
      latencyMs: 2,
      failure: { trigger: "business-impact", reason: "items: status 404" },
    });
    expect(await runVerification({ url: "http://x", checks: [version], spec }, broken)).toEqual({
      passed: false,
      errorRate: 1,
      p95LatencyMs: 2,
      trigger: "business-impact",
      reason: "items: status 404",
    });
    expect(percentile95([5, 1, 3, 2, 4])).toBe(5);
  });
});
