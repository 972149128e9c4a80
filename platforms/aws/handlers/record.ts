// The deployment record on AWS: the release's draft completed with what happened, stored as a JSON and
// a Markdown object in the records bucket (versioned, kept when the stack moves on). Deleting the
// resource keeps the objects: records are documentation.
import type { Color } from "../names";
import { type DeploymentRecord, type ServiceResult, succeededRecord } from "../../../contract";
import type { AwsTarget } from "../ops/clients";
import { storeRecord } from "../ops/record";
import type { StepHandlers } from "../provider";

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

/** The record of a release whose every step passed (the contract's, as on every platform). */
export function succeededOn(inputs: Pick<RecordInputs, "record">, date: string): DeploymentRecord {
  const { results = {}, colors = {}, ...draft } = inputs.record;
  return succeededRecord(draft, { results, colors, date });
}

async function write(inputs: RecordInputs): Promise<RecordOutputs> {
  const stored = await storeRecord(
    { aws: inputs.aws, bucket: inputs.bucket, prefix: inputs.prefix },
    succeededOn(inputs, new Date().toISOString()),
  );
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
