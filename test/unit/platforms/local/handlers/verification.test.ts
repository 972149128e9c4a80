// The Verification handler's diff: post-promotion verification bakes again only for a new release,
// promotion, address, checks or bake spec.
import { describe, expect, it } from "vitest";
import {
  type VerificationInputs,
  type VerificationOutputs,
  handlers,
} from "../../../../../platforms/local/handlers/verification";

const inputs: VerificationInputs = {
  service: "web",
  releaseKey: "CHG-1@2.0.0",
  url: "http://127.0.0.1:31000",
  adminPort: 31003,
  checks: [{ name: "health", kind: "technical", method: "GET", path: "/health", expect: { status: 200 } }],
  spec: { bakeTimeMs: 1000, intervalMs: 100, maxErrorRate: 0, maxP95LatencyMs: 500, requestTimeoutMs: 1000 },
  promoted: "green",
  rollbackTo: "blue",
  record: { issue: { changeId: "CHG-1" } },
  recordsDir: "records",
  notificationsLog: "notifications.log",
  webhookUrl: null,
  switchFile: ".shipgate/unit/services/web/switch.json",
};
const olds: VerificationOutputs = {
  ...inputs,
  verdict: "passed",
  errorRate: 0,
  p95LatencyMs: 5,
  verifiedAt: "2026-11-22T10:00:00.000Z",
};

describe("Verification diff", () => {
  it("does not bake again when only the record, folders, router port, webhook or rollback colour change", async () => {
    expect(
      await handlers.diff("", "id", olds, {
        ...inputs,
        record: { issue: { changeId: "CHG-1" }, results: {} },
        recordsDir: "other",
        notificationsLog: "other.log",
        adminPort: 41003,
        webhookUrl: "https://hooks.example.com/",
        rollbackTo: null,
      }),
    ).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("bakes again (in place, never replaced) for another release, promotion, address, checks or spec", async () => {
    for (const news of [
      { ...inputs, releaseKey: "CHG-2@3.0.0" },
      { ...inputs, promoted: "blue" as const },
      { ...inputs, url: "http://127.0.0.1:41000" },
      { ...inputs, checks: [] },
      { ...inputs, spec: { ...inputs.spec, bakeTimeMs: 2000 } },
    ]) {
      expect(await handlers.diff("", "id", olds, news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });
});
