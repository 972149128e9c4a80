// The deployment record on AWS: the release's draft (known at program time) with what happened, as a
// JSON document for tools and a Markdown page for people, both stored in the records bucket.
import type { Color } from "../names";

export type RecordOutcome = "succeeded" | "failed-gate" | "rolled-back";

export interface RecordFacts {
  readonly outcome: RecordOutcome;
  readonly rollback: { readonly trigger: string; readonly reason: string; readonly at: string } | null;
  readonly activeColor: Color | null;
  readonly previousColor: Color | null;
  readonly backup: unknown;
  readonly gates: readonly { readonly name: string; readonly verdict: string; readonly summary: string }[];
  readonly timeline: readonly { readonly stage: string; readonly at: string }[];
  readonly writtenAt: string;
}

export type AwsRecord = Readonly<Record<string, unknown>> & RecordFacts;

export function composeRecord(draft: Readonly<Record<string, unknown>>, facts: RecordFacts): AwsRecord {
  return { ...draft, ...facts };
}

function field(record: Readonly<Record<string, unknown>>, ...path: string[]): string {
  let value: unknown = record;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return value === undefined || value === null ? "-" : String(value);
}

/** `<changeId>-<version>-<UTC time>`: one name per record written. */
export function recordStem(record: AwsRecord): string {
  const at = record.writtenAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${field(record, "issue", "changeId")}-${field(record, "release", "version")}-${at}`.replace(
    /[^A-Za-z0-9._-]/g,
    "_",
  );
}

export function renderRecordMarkdown(record: AwsRecord): string {
  const lines = [
    `# Deployment record: ${field(record, "issue", "changeId")} ${field(record, "release", "version")}`,
    "",
    `- Outcome: **${record.outcome}**`,
    `- Change request: ${field(record, "issue", "changeRequest")}; incident: ${field(record, "issue", "incident")}`,
    `- Stack: ${field(record, "release", "stack")}; manifest digest: ${field(record, "release", "digest")}`,
    `- Type: ${field(record, "deploymentType")}; strategy: ${field(record, "strategy")}`,
    `- Users on: ${record.activeColor ?? "-"}; previous colour: ${record.previousColor ?? "-"}`,
    `- Backup: ${record.backup === null || record.backup === undefined ? "none" : JSON.stringify(record.backup)}`,
    `- Written: ${record.writtenAt}`,
  ];
  if (record.rollback) {
    lines.push(
      "",
      "## Rollback",
      "",
      `- Trigger: ${record.rollback.trigger} at ${record.rollback.at}`,
      `- Reason: ${record.rollback.reason}`,
    );
  }
  lines.push("", "## Verification", "");
  for (const gate of record.gates) lines.push(`- ${gate.name}: ${gate.verdict} (${gate.summary})`);
  lines.push("", "## Timeline", "");
  for (const step of record.timeline) lines.push(`- ${step.at} ${step.stage}`);
  const signOff = Array.isArray(record["signOff"]) ? (record["signOff"] as Record<string, unknown>[]) : [];
  lines.push("", "## Sign-off", "");
  if (signOff.length === 0) lines.push("- none recorded");
  for (const entry of signOff)
    lines.push(`- ${field(entry, "role")}: ${field(entry, "name")} (${field(entry, "date")})`);
  return `${lines.join("\n")}\n`;
}
