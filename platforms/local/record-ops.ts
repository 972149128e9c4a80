// The deployment record, as plain functions: the record dynamic provider only calls these. It is the
// seed's "Deployment Documentation" (issue, release, date, changes deployed, verification, issues,
// sign-off) plus what the release did: type, strategy, outcome, rollback trigger, colours, backup and
// a timeline. Stored as JSON (for tools) and Markdown (for people). No Pulumi imports, so a provider
// can load this module with `await import()` inside its methods.
//
// The fields the release knows before it runs have the shape components/record-draft.ts builds, so a
// provider completes that draft with the outcome and validates the whole with `deploymentRecordSchema`.
import writeFileAtomic from "write-file-atomic";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { describeIssue, issuesFromZod } from "../../release/issues";
import { PROBE_TRIGGERS, ROLLBACK_TRIGGERS } from "../../contract";
import { APPROVAL_ROLES, DEPLOYMENT_TYPES, TEST_SCOPES } from "../../release/schema";

export const RECORD_OUTCOMES = ["succeeded", "failed-gate", "rolled-back", "rolled-back-manually"] as const;
export type RecordOutcome = (typeof RECORD_OUTCOMES)[number];

/** The manifest's rollback triggers: a manual rollback may name any of them, a probe only some. */
export const RECORD_TRIGGERS = ROLLBACK_TRIGGERS;

export const LATEST_RECORD_FILE = "latest.json";

const text = z.string("expected text").min(1, "expected non-empty text");
const timestamp = z.iso.datetime({ offset: true, message: "expected an ISO timestamp with an offset" });
const color = z.enum(["blue", "green"], 'expected "blue" or "green"');
const count = z.number("expected a count").int("expected a whole number").min(0, "expected 0 or more");

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
  outcome: z.enum(RECORD_OUTCOMES, `expected one of ${RECORD_OUTCOMES.join(", ")}`),
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

function requireRecord(raw: unknown, what: string, next: string): DeploymentRecord {
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
  lines.push("## Timeline", "", "| Stage | At |", "| --- | --- |");
  lines.push(...record.timeline.map((entry) => `| ${inline(entry.stage)} | ${entry.at} |`), "");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Files

/** `<changeId>-<version>-<date as 20250701T200000000Z>`, with anything unsafe in a file name as `_`. */
export function recordFileStem(record: DeploymentRecord): string {
  const date = new Date(record.date).toISOString().replace(/[-:.]/g, "");
  return `${record.issue.changeId}-${record.release.version}-${date}`.replace(/[^A-Za-z0-9._+-]/g, "_");
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export interface StoredRecord {
  readonly record: DeploymentRecord;
  readonly jsonPath: string;
  readonly markdownPath: string;
}

/**
 * Writes the record as `<dir>/<stem>.json` and `<dir>/<stem>.md` (a second record with the same stem
 * gets `-2`, `-3`... rather than replacing the first), and makes it `<dir>/latest.json` unless that
 * already holds a later release.
 */
export async function writeRecord(args: { dir: string; record: DeploymentRecord }): Promise<StoredRecord> {
  const record = requireRecord(args.record, "the deployment record to write", "fix these fields");
  await mkdir(args.dir, { recursive: true });
  const stem = recordFileStem(record);
  let name = stem;
  for (
    let n = 2;
    (await exists(join(args.dir, `${name}.json`))) || (await exists(join(args.dir, `${name}.md`)));
    n++
  ) {
    name = `${stem}-${n}`;
  }
  const jsonPath = join(args.dir, `${name}.json`);
  const markdownPath = join(args.dir, `${name}.md`);
  const json = `${JSON.stringify(record, null, 2)}\n`;
  await writeFileAtomic(markdownPath, renderRecordMarkdown(record));
  await writeFileAtomic(jsonPath, json);

  const latestPath = join(args.dir, LATEST_RECORD_FILE);
  const current = await readFile(latestPath, "utf8").then(
    (content) => parseDeploymentRecord(JSON.parse(content)),
    () => undefined,
  );
  if (current === undefined || !current.ok || Date.parse(current.value.date) <= Date.parse(record.date)) {
    await writeFileAtomic(latestPath, json);
  }
  return { record, jsonPath, markdownPath };
}

/**
 * Every record in `dir`, newest first (by date, then file name). A JSON file that is not a valid record
 * is an error naming it: the folder holds records only.
 */
export async function readRecords(dir: string): Promise<StoredRecord[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return [];
    throw error;
  }
  const stored: StoredRecord[] = [];
  for (const name of names) {
    if (!name.endsWith(".json") || name === LATEST_RECORD_FILE || name.startsWith(".")) continue;
    const jsonPath = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(jsonPath, "utf8"));
    } catch {
      throw new Error(`deployment record ${jsonPath} is not valid JSON; move it out of ${dir} or restore it`);
    }
    stored.push({
      record: requireRecord(raw, `deployment record ${jsonPath}`, `move it out of ${dir} or fix it`),
      jsonPath,
      markdownPath: join(dir, `${name.slice(0, -".json".length)}.md`),
    });
  }
  // Same date: `<stem>-3` was written after `<stem>-2`, which was written after `<stem>`.
  const sequence = (path: string) => Number(/Z-(\d+)\.json$/.exec(path)?.[1] ?? "1");
  return stored.sort(
    (a, b) =>
      Date.parse(b.record.date) - Date.parse(a.record.date) ||
      sequence(b.jsonPath) - sequence(a.jsonPath) ||
      (a.jsonPath < b.jsonPath ? 1 : a.jsonPath > b.jsonPath ? -1 : 0),
  );
}
