// The deployment record on AWS: the contract's record (contract/record.ts, the same shape on every
// platform), stored as a JSON object for tools and a Markdown object for people in the records bucket.
import { type DeploymentRecord, recordFileStem, renderRecordMarkdown } from "../../../contract";
import { s3Client, type AwsTarget } from "./clients";
import { putRecord, type StoredObjects } from "./publish";

export interface RecordTarget {
  readonly aws: AwsTarget;
  readonly bucket: string;
  /** The key prefix of the stack's records, ending in `/`. */
  readonly prefix: string;
}

/** Stores a complete record in the bucket under `<prefix><changeId>-<version>-<date>.json|.md`. */
export async function storeRecord(target: RecordTarget, record: DeploymentRecord): Promise<StoredObjects> {
  return putRecord(s3Client(target.aws), {
    bucket: target.bucket,
    prefix: target.prefix,
    stem: recordFileStem(record),
    json: record,
    markdown: renderRecordMarkdown(record),
  });
}
