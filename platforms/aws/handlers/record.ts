// The deployment record on AWS: the release's draft completed with what happened, stored as a JSON and
// a Markdown object in the records bucket (versioned, kept when the stack moves on). Deleting the
// resource keeps the objects: records are documentation.
import type { Color } from "../names";
import { s3Client, type AwsTarget } from "../ops/clients";
import { putRecord } from "../ops/publish";
import { composeRecord, recordStem, renderRecordMarkdown, type AwsRecord } from "../ops/record";
import type { StepHandlers } from "../provider";

/** What happened to one service during the release (outputs of its steps). */
export interface ServiceResult {
  readonly backup: { readonly id: string; readonly digest: string; readonly at: string } | null;
  readonly gate: { readonly verdict: "passed"; readonly rounds: number | null; readonly at: string };
  readonly switchedAt: string;
  readonly verification: {
    readonly verdict: "passed";
    readonly errorRate: number | null;
    readonly p95LatencyMs: number | null;
    readonly at: string;
  };
}

export interface RecordInputs {
  readonly aws: AwsTarget;
  readonly bucket: string;
  /** The key prefix of the stack's records, ending in `/`. */
  readonly prefix: string;
  readonly releaseKey: string;
  readonly record: Readonly<Record<string, unknown>> & {
    readonly results?: Readonly<Record<string, ServiceResult>>;
    readonly colors?: Readonly<Record<string, { readonly active: Color; readonly previous: Color | null }>>;
  };
}

export interface RecordOutputs extends RecordInputs {
  readonly jsonKey: string;
  readonly markdownKey: string;
  readonly location: string;
}

/** The record of a release whose every step passed. */
export function succeededRecord(inputs: Pick<RecordInputs, "record">, writtenAt: string): AwsRecord {
  const { results = {}, colors = {} } = inputs.record;
  const entries = Object.entries(results);
  const first = entries[0];
  const firstColors = first ? colors[first[0]] : undefined;
  return composeRecord(inputs.record, {
    outcome: "succeeded",
    rollback: null,
    activeColor: firstColors?.active ?? null,
    previousColor: firstColors?.previous ?? null,
    backup: first?.[1].backup ?? null,
    gates: entries.flatMap(([service, r]) => [
      {
        name: `${service} pre-promotion gate`,
        verdict: "passed",
        summary: r.gate.rounds === null ? "passed" : `passed after ${r.gate.rounds} rounds`,
      },
      {
        name: `${service} post-promotion verification`,
        verdict: "passed",
        summary:
          r.verification.errorRate === null
            ? "passed"
            : `passed: error rate ${(r.verification.errorRate * 100).toFixed(2)}%`,
      },
    ]),
    timeline: entries
      .flatMap(([service, r]) => [
        ...(r.backup ? [{ stage: `${service}: snapshot available`, at: r.backup.at }] : []),
        { stage: `${service}: pre-promotion gate passed`, at: r.gate.at },
        { stage: `${service}: traffic switched`, at: r.switchedAt },
        { stage: `${service}: post-promotion verification passed`, at: r.verification.at },
      ])
      .sort((a, b) => a.at.localeCompare(b.at)),
    writtenAt,
  });
}

/** Stores a complete record in the bucket. */
export async function storeRecord(
  target: { aws: AwsTarget; bucket: string; prefix: string },
  record: AwsRecord,
) {
  return putRecord(s3Client(target.aws), {
    bucket: target.bucket,
    prefix: target.prefix,
    stem: recordStem(record),
    json: record,
    markdown: renderRecordMarkdown(record),
  });
}

async function write(inputs: RecordInputs): Promise<RecordOutputs> {
  const stored = await storeRecord(inputs, succeededRecord(inputs, new Date().toISOString()));
  return { ...inputs, ...stored };
}

export const handlers: StepHandlers<RecordInputs, RecordOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    // Written again when the release or what happened changes, not when a later run plans differently.
    const changes =
      olds.releaseKey !== news.releaseKey ||
      olds.bucket !== news.bucket ||
      JSON.stringify(olds.record.results ?? {}) !== JSON.stringify(news.record.results ?? {});
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    return { id: inputs.releaseKey, outs: await write(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await write(news) };
  },
};
