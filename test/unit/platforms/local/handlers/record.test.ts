// The Record handler: completeRecord turns the program's draft into a valid deployment record, and
// create writes it as JSON and Markdown in a temporary project folder; its diff as a plain function.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planColors } from "../../../../../components/colors";
import { buildRecordDraft } from "../../../../../components/record-draft";
import {
  type RecordInputs,
  type RecordOutcome,
  type RecordOutputs,
  completeRecord,
  handlers,
} from "../../../../../platforms/local/handlers/record";
import { createBackup, listBackups } from "../../../../../platforms/local/backup-ops";
import { parseDeploymentRecord, renderRecordMarkdown } from "../../../../../platforms/local/record-ops";
import { sampleBuild, sampleManifest } from "../../../components/fixtures";
import { type TestProject, testProject, crud } from "./helpers";

const ops = crud(handlers);

let project: TestProject;
beforeAll(() => {
  project = testProject("record-handler");
});
afterAll(() => project.remove());

const v2 = sampleManifest("v2");
const build = sampleBuild(v2);
const plan = planColors(
  { active: "blue", slots: { blue: sampleBuild(sampleManifest("v1")) } },
  build,
  "blue-green",
);
const draft = buildRecordDraft({
  manifest: v2.manifest,
  digest: v2.digest,
  stack: "unit",
  service: "sample-app",
  plan,
  build,
});

const rolledBack: RecordOutcome = {
  outcome: "rolled-back",
  rollback: { trigger: "errors", reason: "check version failed 3 times", at: "2026-11-22T10:00:05.000Z" },
  activeColor: "blue",
  previousColor: "green",
  backup: { id: "CHG-101-2.0.0", digest: `sha256:${"a".repeat(64)}` },
  gates: [
    {
      name: "sample-app post-promotion verification",
      stage: "post-promotion",
      service: "sample-app",
      verdict: "failed",
      trigger: "errors",
      summary: "check version failed 3 times",
    },
  ],
  performance: [{ metric: "sample-app p95 latency after the switch", value: 14, unit: "ms" }],
  system: "sample-app failed post-promotion verification (errors).",
  issuesFound: 1,
  timeline: [{ stage: "sample-app: rolled back (errors)", at: "2026-11-22T10:00:05.000Z" }],
  date: "2026-11-22T10:00:00.000Z",
};

describe("completeRecord", () => {
  it("completes the draft into a record the schema accepts, with the outcome's fields", () => {
    const record = completeRecord(draft, rolledBack);
    expect(parseDeploymentRecord(record)).toEqual({ ok: true, value: record });
    expect(record).toMatchObject({
      issue: { changeId: "CHG-101", changeRequest: "CR-101", incident: null },
      release: { version: "2.0.0", digest: v2.digest, stack: "unit" },
      outcome: "rolled-back",
      rollback: rolledBack.rollback,
      activeColor: "blue",
      previousColor: "green",
      backup: rolledBack.backup,
      verification: {
        system: rolledBack.system,
        gates: rolledBack.gates,
        performance: rolledBack.performance,
        users: null,
      },
      issues: { found: 1, resolved: 0, pending: 1, workarounds: [] },
      timeline: rolledBack.timeline,
      date: "2026-11-22T10:00:00.000Z",
    });
    expect(record.changes.database).toEqual([
      { service: "sample-app", migration: "0002_add_created_at", backwardCompatible: true },
    ]);
  });

  it("refuses an outcome the schema does not know, naming the field", () => {
    expect(() =>
      completeRecord(draft, { ...rolledBack, outcome: "half-done" as RecordOutcome["outcome"] }),
    ).toThrow(/^the deployment record is not valid: outcome: expected one of succeeded, failed, rolled-back/);
  });
});

const result = {
  backup: { id: "CHG-101-2.0.0", digest: `sha256:${"a".repeat(64)}`, at: "2026-11-22T10:00:01.000Z" },
  gate: { verdict: "passed" as const, rounds: 3, at: "2026-11-22T10:00:02.000Z" },
  switchedAt: "2026-11-22T10:00:03.000Z",
  verification: { verdict: "passed" as const, errorRate: 0, p95LatencyMs: 9, at: "2026-11-22T10:00:04.000Z" },
};
const inputs: RecordInputs = {
  releaseKey: "CHG-101@2.0.0",
  dir: "records",
  record: {
    ...draft,
    results: { "sample-app": result },
    colors: { "sample-app": { active: "green", previous: "blue" } },
  },
};

describe("Record create", () => {
  it("writes the succeeded record as JSON and Markdown, and answers their paths relative to the project", async () => {
    const before = new Date().toISOString();
    const created = await ops.create(project.dir, inputs);
    const after = new Date().toISOString();
    expect(created.id).toBe("CHG-101@2.0.0");
    expect(created.outs.jsonPath).toMatch(/^records\/CHG-101-2\.0\.0-\d{8}T\d{9}Z\.json$/);
    expect(created.outs.markdownPath).toBe(created.outs.jsonPath.replace(/\.json$/, ".md"));
    const written = JSON.parse(readFileSync(join(project.dir, created.outs.jsonPath), "utf8")) as unknown;
    const parsed = parseDeploymentRecord(written);
    if (!parsed.ok) throw new Error(parsed.issues.join("; "));
    expect(parsed.value).toMatchObject({
      outcome: "succeeded",
      rollback: null,
      activeColor: "green",
      previousColor: "blue",
      backup: { id: "CHG-101-2.0.0", digest: result.backup.digest },
      timeline: [
        { stage: "sample-app: backup verified", at: "2026-11-22T10:00:01.000Z" },
        { stage: "sample-app: pre-promotion gate passed", at: "2026-11-22T10:00:02.000Z" },
        { stage: "sample-app: traffic switched", at: "2026-11-22T10:00:03.000Z" },
        { stage: "sample-app: post-promotion verification passed", at: "2026-11-22T10:00:04.000Z" },
      ],
    });
    // The record's date is when it was written, the release's last step.
    expect(parsed.value.date >= before && parsed.value.date <= after).toBe(true);
    expect(parsed.value.verification.performance).toEqual([
      { metric: "sample-app p95 latency after the switch", value: 9, unit: "ms" },
    ]);
    expect(readFileSync(join(project.dir, created.outs.markdownPath), "utf8")).toBe(
      renderRecordMarkdown(parsed.value),
    );
  });
});

describe("Record diff", () => {
  const olds: RecordOutputs = { ...inputs, jsonPath: "records/a.json", markdownPath: "records/a.md" };

  it("changes nothing for the same release and record", async () => {
    expect(await handlers.diff("", "id", olds, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("writes again (in place, never replacing the files) for another release, other results or folder", async () => {
    const results = {
      "sample-app": { ...inputs.record.results?.["sample-app"], switchedAt: "2026-12-01T00:00:00.000Z" },
    };
    for (const news of [
      { ...inputs, releaseKey: "CHG-102@3.0.0" },
      { ...inputs, record: { ...inputs.record, results } },
      { ...inputs, dir: "elsewhere" },
    ]) {
      expect(await handlers.diff("", "id", olds, news as typeof inputs)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  it("keeps the record of the run when a later run of the same release only plans differently", async () => {
    // A run with nothing to do sees the release's colour as live: no previous colour, not restarted.
    const colors = { "sample-app": { active: "blue" as const, previous: null } };
    expect(
      (await handlers.diff("", "id", olds, { ...inputs, record: { ...inputs.record, colors } })).changes,
    ).toBe(false);
  });

  it("prunes a service's older backups only now, once the release succeeded, and never this release's", async () => {
    const data = join(project.dir, "data", "sample-app");
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, "items.json"), "[]");
    const backupRoot = join(project.dir, "backups", "sample-app");
    const taken: [string, string][] = [
      ["CHG-099-1.0.0", "2026-11-20T10:00:00.000Z"],
      ["CHG-100-1.0.0", "2026-11-21T10:00:00.000Z"],
      ["CHG-101-2.0.0", "2026-11-22T10:00:01.000Z"],
    ];
    for (const [backupId, createdAt] of taken)
      await createBackup({ dataDir: data, backupRoot, backupId, createdAt });
    await ops.create(project.dir, {
      ...inputs,
      retention: { "sample-app": { backupRoot: "backups/sample-app", keep: 2 } },
    });
    expect((await listBackups(backupRoot)).map((b) => b.backupId)).toEqual([
      "CHG-101-2.0.0",
      "CHG-100-1.0.0",
    ]);
  });
});
