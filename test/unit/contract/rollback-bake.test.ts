// The judge's rule for the bake after a rollback: which releases are fast-tracked, the policy they
// run with, and that the probe loop runs such a bake as two rounds one interval apart.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fastTrackRollback,
  parseOrThrow,
  runVerification,
  verificationPolicyFor,
  verificationPolicySchema,
  type VerificationPolicy,
} from "../../../contract";

const policy: VerificationPolicy = {
  bakeTimeMs: 10_000,
  intervalMs: 250,
  maxErrorRate: 0.01,
  maxP95LatencyMs: 1000,
  requestTimeoutMs: 5000,
};

describe("fastTrackRollback", () => {
  it("fast-tracks only a routing change whose release's newest record says it succeeded", () => {
    expect(fastTrackRollback({ routingOnly: true, lastOutcome: "succeeded" })).toBe(true);
    for (const lastOutcome of ["rolled-back", "failed", "refused", null]) {
      expect(fastTrackRollback({ routingOnly: true, lastOutcome })).toBe(false);
    }
    // A redeploy, a migration or a restore bakes in full whatever the records say.
    expect(fastTrackRollback({ routingOnly: false, lastOutcome: "succeeded" })).toBe(false);
  });
});

describe("verificationPolicyFor", () => {
  it("leaves the service's policy as it is when the release is not fast-tracked", () => {
    expect(verificationPolicyFor({ ...policy, rollbackBakeTimeMs: 500 }, false)).toEqual({
      ...policy,
      rollbackBakeTimeMs: 500,
    });
  });

  it("bakes one interval by default, rollbackBakeTimeMs when set, never more than the full bake", () => {
    expect(verificationPolicyFor(policy, true)).toEqual({ ...policy, bakeTimeMs: 250 });
    expect(verificationPolicyFor({ ...policy, rollbackBakeTimeMs: 3000 }, true)).toEqual({
      ...policy,
      bakeTimeMs: 3000,
      rollbackBakeTimeMs: 3000,
    });
    expect(verificationPolicyFor({ ...policy, rollbackBakeTimeMs: 60_000 }, true)).toEqual({
      ...policy,
      rollbackBakeTimeMs: 60_000,
    });
    expect(verificationPolicyFor({ ...policy, intervalMs: 20_000 }, true)).toEqual({
      ...policy,
      intervalMs: 20_000,
    });
  });

  it("is a setting of whole milliseconds above 0, named in the error", () => {
    for (const rollbackBakeTimeMs of [0, -5, 1.5, "100"]) {
      expect(() => parseOrThrow("verification", verificationPolicySchema, { rollbackBakeTimeMs })).toThrow(
        /verification is not valid: rollbackBakeTimeMs/,
      );
    }
    expect(parseOrThrow("verification", verificationPolicySchema, {}).rollbackBakeTimeMs).toBeUndefined();
  });
});

describe("a fast-tracked bake against a real server", () => {
  let server: Server;
  let baseUrl: string;
  const seen: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(Date.now());
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", version: "1.0.0" }));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it("probes two rounds, one interval apart, and passes", async () => {
    const spec = verificationPolicyFor({ ...policy, intervalMs: 50 }, true);
    const report = await runVerification({
      baseUrl,
      checks: [
        {
          name: "healthy",
          kind: "technical",
          method: "GET",
          path: "/health",
          expect: { status: 200 },
        },
      ],
      ...spec,
    });
    expect(report.verdict).toBe("passed");
    expect(report.rounds).toHaveLength(2);
    expect(report.totals.samples).toBe(2);
    expect(seen).toHaveLength(2);
    expect(report.message).toMatch(/^Verification passed over 50 ms/);
  });
});
