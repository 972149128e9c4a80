// The deployment record: the seed's "Deployment Documentation" (issue, release, date, changes deployed,
// verification, issues, sign-off) plus what the release did: type, strategy, outcome, rollback
// trigger, colours, backup, a timeline and, for a release that failed, the stage, trigger and error
// and what users were served. One schema for every platform, so a record reads the same wherever the
// release ran; the platforms only store it (files, a ConfigMap, a bucket). No Pulumi imports.
import { z } from "zod";
import { describeIssue, issuesFromZod } from "../release/issues";
import { APPROVAL_ROLES, DEPLOYMENT_TYPES, TEST_SCOPES } from "../release/schema";
import { PROBE_TRIGGERS, ROLLBACK_TRIGGERS, type ProbeTrigger } from "./triggers";

/**
 * `failed`: the release stopped before users reached the new version (they stay on what served them);
 * `rolled-back`: users reached it and were switched back.
 */
export const RECORD_OUTCOMES = ["succeeded", "failed", "rolled-back"] as const;
export type RecordOutcome = (typeof RECORD_OUTCOMES)[number];

/** Words an earlier shipgate wrote in records, read as the vocabulary's word for the same outcome. */
const LEGACY_OUTCOMES: Readonly<Record<string, RecordOutcome>> = {
  "failed-gate": "failed",
  "rolled-back-manually": "rolled-back",
};

/** The steps of a release that can fail, in the order they run. */
export const FAILURE_STAGES = [
  "maintenance",
  "backup",
  "restore",
  "migration",
  "start",
  "gate",
  "switch",
  "verification",
] as const;
export type FailureStage = (typeof FAILURE_STAGES)[number];

/**
 * Why a release failed: a probe trigger where the judge decided (a gate, a verification), otherwise
 * `<stage>-failure`, the step's own error (a build that exits at start is `start-failure`).
 */
export const FAILURE_TRIGGERS = [
  ...PROBE_TRIGGERS,
  "maintenance-failure",
  "backup-failure",
  "restore-failure",
  "migration-failure",
  "start-failure",
  "gate-failure",
  "switch-failure",
  "verification-failure",
] as const satisfies readonly (ProbeTrigger | `${FailureStage}-failure`)[];
export type FailureTrigger = (typeof FAILURE_TRIGGERS)[number];

/** The manifest's rollback triggers: a manual rollback may name any of them, a probe only some. */
export const RECORD_TRIGGERS = ROLLBACK_TRIGGERS;

export const LATEST_RECORD_FILE = "latest.json";

const text = z.string("expected text").min(1, "expected non-empty text");
const timestamp = z.iso.datetime({ offset: true, message: "expected an ISO timestamp with an offset" });
const color = z.enum(["blue", "green"], 'expected "blue" or "green"');
const count = z.number("expected a count").int("expected a whole number").min(0, "expected 0 or more");

/** What users were served when the record was written: the version and the colour that answered. */
export const servedSchema = z.strictObject({ version: text, color });
export type Served = z.infer<typeof servedSchema>;

/** Why a release failed, where, and what users were left on. Null for a release that succeeded. */
export const recordFailureSchema = z.strictObject({
  service: text,
  stage: z.enum(FAILURE_STAGES, `expected one of ${FAILURE_STAGES.join(", ")}`),
  trigger: z.enum(FAILURE_TRIGGERS, `expected one of ${FAILURE_TRIGGERS.join(", ")}`),
  /** The failing step's error, as the engine reported it. */
  error: text,
  /** Null when nothing serves users (a first release that failed). */
  served: servedSchema.nullable(),
  at: timestamp,
  /**
   * Where the failed build was kept, stopped, for inspection (its folder, log and failure note),
   * relative to the project; absent when none was kept (the service keeps no failed builds).
   */
  kept: text.optional(),
});
export type RecordFailure = z.infer<typeof recordFailureSchema>;

export const deploymentRecordSchema = z.strictObject({
  issue: z.strictObject({
    changeId: text,
    changeRequest: text,
    /** The incident a hot fix or emergency patch answers; null for a standard deployment. */
    incident: text.nullable(),
  }),
  release: z.strictObject({
    version: text,
    title: text.nullable(),
    /** The manifest digest the approvers signed. */
    digest: text,
    stack: text,
  }),
  /** When the release started. */
  date: timestamp,
  deploymentType: z.enum(DEPLOYMENT_TYPES, `expected one of ${DEPLOYMENT_TYPES.join(", ")}`),
  strategy: z.enum(["blue-green", "recreate"], 'expected "blue-green" or "recreate"'),
  outcome: z.preprocess(
    (value) => (typeof value === "string" ? (LEGACY_OUTCOMES[value] ?? value) : value),
    z.enum(RECORD_OUTCOMES, `expected one of ${RECORD_OUTCOMES.join(", ")}`),
  ),
  /** Records written before failures were recorded have none: read as null. */
  failure: recordFailureSchema.nullable().default(null),
  /** Null unless traffic went back to the previous colour. */
  rollback: z
    .strictObject({
      trigger: z.enum(RECORD_TRIGGERS, `expected one of ${RECORD_TRIGGERS.join(", ")}`),
      reason: text,
      at: timestamp,
    })
    .nullable(),
  /** The colour serving users when the record was written; null when none is. */
  activeColor: color.nullable(),
  previousColor: color.nullable(),
  backup: z.strictObject({ id: text, digest: text }).nullable(),
  changes: z.strictObject({
    code: z.array(
      z.strictObject({ service: text, version: text.nullable().optional(), digest: text.nullable() }),
    ),
    database: z.array(z.strictObject({ service: text, migration: text, backwardCompatible: z.boolean() })),
    /** Keys only: a config value may be a secret. */
    config: z.array(z.strictObject({ service: text, key: text })),
    services: z.array(
      z.strictObject({
        service: text,
        version: text,
        color,
        previousColor: color.nullable(),
        restarted: z.boolean(),
      }),
    ),
  }),
  tests: z.strictObject({
    scope: z.enum(TEST_SCOPES),
    passed: count,
    failed: count,
    skipped: count,
    total: count,
    report: text,
    reviewedBy: text,
  }),
  verification: z.strictObject({
    /** What the system looked like when the record was written, in a sentence. */
    system: text,
    gates: z.array(
      z.strictObject({
        name: text,
        stage: z.enum(["pre-promotion", "post-promotion"]),
        service: text,
        verdict: z.enum(["passed", "failed", "aborted"]),
        trigger: z.enum(PROBE_TRIGGERS).nullable(),
        /** The judge's sentence. */
        summary: text,
      }),
    ),
    performance: z.array(z.strictObject({ metric: text, value: z.number(), unit: z.string() })),
    /** User feedback, when there is any to record. */
    users: text.nullable(),
  }),
  issues: z.strictObject({
    found: count,
    resolved: count,
    pending: count,
    workarounds: z.array(text),
  }),
  signOff: z.array(z.strictObject({ role: z.enum(APPROVAL_ROLES), name: text, date: timestamp })),
  /** When each stage of the release happened, in order. */
  timeline: z.array(z.strictObject({ stage: text, at: timestamp })),
});
export type DeploymentRecord = z.infer<typeof deploymentRecordSchema>;

/** A record, or every problem with it as `path: message`. */
export function parseDeploymentRecord(
  raw: unknown,
): { ok: true; value: DeploymentRecord } | { ok: false; issues: string[] } {
  const parsed = deploymentRecordSchema.safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: issuesFromZod(parsed.error).map(describeIssue) };
}

export function requireRecord(raw: unknown, what: string, next: string): DeploymentRecord {
  const parsed = parseDeploymentRecord(raw);
  if (parsed.ok) return parsed.value;
  throw new Error(`${what} is not valid: ${parsed.issues.join("; ")}; ${next}`);
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Text safe on one Markdown line or table cell: no line breaks, no table pipes, no raw HTML. */
function inline(value: string): string {
  return value.replace(/\s+/g, " ").trim().replace(/\|/g, "\\|").replace(/</g, "&lt;");
}

function bulletList(items: readonly string[], indent = "  "): string {
  return items.length === 0 ? " none" : `\n${items.map((item) => `${indent}- ${inline(item)}`).join("\n")}`;
}

const ROLE_TITLES: Record<(typeof APPROVAL_ROLES)[number], string> = {
  technical: "Technical",
  business: "Business",
  support: "Support",
  "change-board": "Change board",
};

function signOffLine(record: DeploymentRecord, role: (typeof APPROVAL_ROLES)[number]): string {
  const names = record.signOff
    .filter((entry) => entry.role === role)
    .map((entry) => `${inline(entry.name)} (${entry.date})`);
  return `- ${ROLE_TITLES[role]}: ${names.length === 0 ? "none" : names.join(", ")}`;
}

/** The record as a readable Markdown document under the seed's headings. */
export function renderRecordMarkdown(record: DeploymentRecord): string {
  const { issue, release, changes, tests, verification, issues } = record;
  const issueLine = [
    issue.changeId,
    `change request ${issue.changeRequest}`,
    ...(issue.incident === null ? [] : [`incident ${issue.incident}`]),
  ];
  const colours =
    record.activeColor === null
      ? "none serving"
      : `${record.activeColor}${record.previousColor === null ? "" : ` (previous: ${record.previousColor})`}`;
  const lines = [
    "# Deployment Documentation",
    "",
    `Issue: ${inline(issueLine[0] ?? "")} (${issueLine.slice(1).map(inline).join("; ")})`,
    `Release: ${inline(release.version)}${release.title === null ? "" : ` (${inline(release.title)})`}`,
    `Date: ${record.date}`,
    "",
    `- Deployment type: ${record.deploymentType}`,
    `- Strategy: ${record.strategy}`,
    `- Outcome: ${record.outcome}${record.rollback === null ? "" : ` (rollback trigger: ${record.rollback.trigger})`}`,
    `- Active colour: ${colours}`,
    `- Backup: ${record.backup === null ? "none" : `${inline(record.backup.id)} (${inline(record.backup.digest)})`}`,
    `- Stack: ${inline(release.stack)}`,
    `- Manifest digest: ${inline(release.digest)}`,
    "",
    "## Implementation",
    "",
    "### 1. Changes Deployed",
    "",
    `- Code:${bulletList(
      changes.code.map(
        (c) => `${c.service} ${c.version ?? "(unversioned)"}${c.digest === null ? "" : ` (${c.digest})`}`,
      ),
    )}`,
    `- Database:${bulletList(
      changes.database.map(
        (m) =>
          `${m.service}: ${m.migration} (${m.backwardCompatible ? "backward compatible" : "not backward compatible"})`,
      ),
    )}`,
    `- Config:${bulletList(changes.config.map((c) => `${c.service}: ${c.key}`))}`,
    `- Services:${bulletList(
      changes.services.map(
        (s) =>
          `${s.service} ${s.version} on ${s.color}` +
          `${s.previousColor === null ? "" : ` (was ${s.previousColor})`}, ` +
          `${s.restarted ? "restarted" : "not restarted (already running this build)"}`,
      ),
    )}`,
    "",
    "### 2. Verification",
    "",
    `- System: ${inline(verification.system)}`,
    `- Tests: ${tests.passed} of ${tests.total} passed, ${tests.failed} failed, ${tests.skipped} skipped ` +
      `(${tests.scope} scope, reviewed by ${inline(tests.reviewedBy)}; report: ${inline(tests.report)})`,
    `- Users: ${verification.users === null ? "no feedback recorded" : inline(verification.users)}`,
    `- Performance:${bulletList(verification.performance.map((p) => `${p.metric}: ${p.value}${p.unit === "" ? "" : ` ${p.unit}`}`))}`,
    `- Gates:${bulletList(
      verification.gates.map(
        (g) =>
          `${g.name} (${g.stage}, ${g.service}): ${g.verdict}` +
          `${g.trigger === null ? "" : `, trigger ${g.trigger}`}. ${g.summary}`,
      ),
    )}`,
    "",
    "## Issues",
    "",
    `- Found: ${issues.found}`,
    `- Resolved: ${issues.resolved}`,
    `- Pending: ${issues.pending}`,
    `- Workarounds:${bulletList(issues.workarounds)}`,
    "",
    "## Sign-off",
    "",
    signOffLine(record, "technical"),
    signOffLine(record, "business"),
    signOffLine(record, "support"),
    ...(record.signOff.some((entry) => entry.role === "change-board")
      ? [signOffLine(record, "change-board")]
      : []),
    "",
  ];
  if (record.rollback !== null) {
    lines.push(
      "## Rollback",
      "",
      `- Trigger: ${record.rollback.trigger}`,
      `- Reason: ${inline(record.rollback.reason)}`,
      `- At: ${record.rollback.at}`,
      "",
    );
  }
  if (record.failure !== null) {
    const { failure } = record;
    lines.push(
      "## Failure",
      "",
      `- Service: ${inline(failure.service)}`,
      `- Stage: ${failure.stage}`,
      `- Trigger: ${failure.trigger}`,
      `- Error: ${inline(failure.error)}`,
      `- Users served: ${failure.served === null ? "none (nothing served users before this release)" : `${inline(failure.served.version)} on ${failure.served.color}`}`,
      `- At: ${failure.at}`,
      ...(failure.kept === undefined ? [] : [`- Kept for inspection: ${inline(failure.kept)}`]),
      "",
    );
  }
  lines.push("## Timeline", "", "| Stage | At |", "| --- | --- |");
  lines.push(...record.timeline.map((entry) => `| ${inline(entry.stage)} | ${entry.at} |`), "");
  return lines.join("\n");
}

/** `<changeId>-<version>-<date as 20250701T200000000Z>`, with anything unsafe in a file name as `_`. */
export function recordFileStem(record: DeploymentRecord): string {
  const date = new Date(record.date).toISOString().replace(/[-:.]/g, "");
  return `${record.issue.changeId}-${record.release.version}-${date}`.replace(/[^A-Za-z0-9._+-]/g, "_");
}
