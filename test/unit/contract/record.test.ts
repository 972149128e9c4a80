// The contract's deployment record: one vocabulary of outcomes (older words read as theirs), the
// failure section every platform fills the same way, the team's notice of a failure, and the
// succeeded record the local and aws platforms both build.
import { describe, expect, it } from "vitest";
import { planColors } from "../../../components/colors";
import { buildRecordDraft } from "../../../components/record-draft";
import {
  failedRecord,
  failureNotice,
  failureTrigger,
  parseDeploymentRecord,
  renderRecordMarkdown,
  StepFailure,
  succeededRecord,
} from "../../../contract";
import { sampleBuild, sampleManifest } from "../components/fixtures";

const v1 = sampleManifest("v1");
const v2 = sampleManifest("v2");
const draft = buildRecordDraft({
  manifest: v2.manifest,
  digest: v2.digest,
  stack: "unit",
  service: "sample-app",
  plan: planColors({ active: "blue", slots: { blue: sampleBuild(v1) } }, sampleBuild(v2), "blue-green"),
  build: sampleBuild(v2),
});
const facts = {
  outcome: "failed" as const,
  service: "sample-app",
  stage: "start" as const,
  trigger: "start-failure" as const,
  error: "sample-app 2.0.0 exited with code 3 before it listened on 127.0.0.1:31002",
  served: { version: "1.0.0", color: "blue" as const },
  previousColor: null,
  backup: null,
  startedAt: "2026-11-30T19:00:00.000Z",
  at: "2026-11-30T19:00:02.000Z",
};

describe("the deployment record's outcomes", () => {
  it("reads the words of earlier records as the vocabulary's, and refuses others naming the field", () => {
    const record = failedRecord(draft, facts);
    const { failure: _failure, ...older } = record;
    for (const [word, outcome] of [
      ["failed-gate", "failed"],
      ["rolled-back-manually", "rolled-back"],
    ] as const) {
      const parsed = parseDeploymentRecord({ ...older, outcome: word });
      expect(parsed.ok && [parsed.value.outcome, parsed.value.failure]).toEqual([outcome, null]);
    }
    expect(parseDeploymentRecord({ ...record, outcome: "half-done" })).toEqual({
      ok: false,
      issues: ["outcome: expected one of succeeded, failed, rolled-back"],
    });
  });
});

describe("failedRecord", () => {
  it("completes the draft with the failure, what users are served and the timeline up to it", () => {
    const record = failedRecord(draft, facts);
    expect(record).toMatchObject({
      date: "2026-11-30T19:00:00.000Z",
      outcome: "failed",
      rollback: null,
      failure: {
        service: "sample-app",
        stage: "start",
        trigger: "start-failure",
        error: facts.error,
        served: { version: "1.0.0", color: "blue" },
        at: "2026-11-30T19:00:02.000Z",
      },
      activeColor: "blue",
      issues: { found: 1, resolved: 0, pending: 1, workarounds: [] },
      timeline: [
        { stage: "sample-app: start started", at: "2026-11-30T19:00:00.000Z" },
        { stage: "sample-app: start failed (start-failure)", at: "2026-11-30T19:00:02.000Z" },
      ],
    });
    expect(record.verification.system).toBe(
      "sample-app failed at the start step (start-failure); users are served 1.0.0 on blue.",
    );
    expect(renderRecordMarkdown(record)).toContain(
      "## Failure\n\n- Service: sample-app\n- Stage: start\n- Trigger: start-failure\n" +
        `- Error: ${facts.error}\n- Users served: 1.0.0 on blue\n- At: 2026-11-30T19:00:02.000Z\n`,
    );
  });

  it("names where a failed build was kept for inspection, and says nothing of it when none was", () => {
    const kept = ".shipgate/prod/services/sample-app/failed/2026-11-30T19-00-02-000Z-green-2.0.0";
    const record = failedRecord(draft, { ...facts, kept });
    expect(record.failure?.kept).toBe(kept);
    expect(parseDeploymentRecord(JSON.parse(JSON.stringify(record)))).toEqual({ ok: true, value: record });
    expect(renderRecordMarkdown(record)).toContain(
      `- At: 2026-11-30T19:00:02.000Z\n- Kept for inspection: ${kept}\n`,
    );
    expect(failedRecord(draft, facts).failure).not.toHaveProperty("kept");
    expect(renderRecordMarkdown(failedRecord(draft, facts))).not.toContain("Kept for inspection");
  });

  it("records a rollback with its manifest trigger, and the judge's trigger on the failed gate", () => {
    const record = failedRecord(draft, {
      ...facts,
      outcome: "rolled-back",
      stage: "verification",
      trigger: "performance",
      previousColor: "green",
      rollback: { trigger: "performance", reason: "p95 latency 480 ms exceeds 300 ms" },
    });
    expect(record.rollback).toEqual({
      trigger: "performance",
      reason: "p95 latency 480 ms exceeds 300 ms",
      at: facts.at,
    });
    expect(record.verification.gates).toEqual([
      {
        name: "sample-app post-promotion verification",
        stage: "post-promotion",
        service: "sample-app",
        verdict: "failed",
        trigger: "performance",
        summary: "p95 latency 480 ms exceeds 300 ms",
      },
    ]);
  });

  it("says plainly when nothing serves users, and refuses a stage it does not know", () => {
    expect(failedRecord(draft, { ...facts, served: null }).verification.system).toBe(
      "sample-app failed at the start step (start-failure); nothing serves users (no earlier version to stay on).",
    );
    expect(() => failedRecord(draft, { ...facts, stage: "party" as "start" })).toThrow(
      /^the failure record is not valid: failure\.stage: expected one of maintenance, backup, restore, migration, start, gate, switch, verification; fix these fields$/,
    );
  });

  it("takes the judge's trigger from a StepFailure, and the stage's own otherwise", () => {
    expect(failureTrigger("gate", new StepFailure("gate failed", "business-impact"))).toBe("business-impact");
    expect(failureTrigger("gate", new Error("no route to the preview"))).toBe("gate-failure");
    expect(failureTrigger("backup", new Error("ENOSPC"))).toBe("backup-failure");
  });
});

describe("failureNotice", () => {
  it("tells the team and support what failed, where users are and where the record is, cutting a long error", () => {
    const notice = failureNotice(
      { changeId: "CHG-101", version: "2.0.0" },
      { ...facts, error: "x".repeat(700) },
      "records/CHG-101.md",
    );
    expect(notice).toEqual({
      stage: "failed",
      release: { changeId: "CHG-101", version: "2.0.0" },
      service: "sample-app",
      message: `sample-app 2.0.0 failed at the start step (start-failure); users are served 1.0.0 on blue. ${"x".repeat(600)}... Record: records/CHG-101.md`,
      severity: "critical",
      audience: ["team", "support"],
      at: facts.at,
    });
    expect(
      failureNotice({ changeId: "CHG-101", version: "2.0.0" }, { ...facts, outcome: "rolled-back" }, null),
    ).toMatchObject({ stage: "rolled-back", audience: ["team", "support", "management"] });
  });
});

describe("succeededRecord", () => {
  it("builds the same record wherever the platform cannot read rounds or an error rate back (null)", () => {
    const at = "2026-11-30T19:00:00.000Z";
    const record = succeededRecord(draft, {
      results: {
        "sample-app": {
          backup: null,
          gate: { rounds: null, at },
          switchedAt: at,
          verification: { errorRate: null, p95LatencyMs: null, at },
        },
      },
      colors: { "sample-app": { active: "green", previous: "blue" } },
      date: at,
    });
    expect(record).toMatchObject({
      outcome: "succeeded",
      failure: null,
      activeColor: "green",
      previousColor: "blue",
    });
    expect(record.verification.gates.map((gate) => gate.summary)).toEqual(["passed", "passed"]);
  });
});
