// Notifications and deployment records on AWS: an SNS message per release stage, and each record as
// a JSON object (for tools) and a Markdown object (for people) in the records bucket.
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

export interface StageEvent {
  readonly stage: string;
  readonly message: string;
  readonly severity: "info" | "warning" | "critical";
  readonly audience: readonly string[];
  readonly release: { readonly changeId: string; readonly version: string };
  readonly service?: string;
  readonly at: string;
}

/** Publishes the event as JSON; subscribers filter on the severity, stage and audience attributes. */
export async function publishEvent(
  sns: SNSClient,
  args: { topicArn: string; event: StageEvent },
): Promise<{ messageId: string }> {
  const { event } = args;
  const answer = await sns.send(
    new PublishCommand({
      TopicArn: args.topicArn,
      // SNS subjects: at most 100 printable ASCII characters, no line breaks.
      Subject: `[shipgate] ${event.release.changeId}@${event.release.version} ${event.stage}`
        .replace(/[^\x20-\x7e]/g, "?")
        .slice(0, 100),
      Message: JSON.stringify(event),
      MessageAttributes: {
        severity: { DataType: "String", StringValue: event.severity },
        stage: { DataType: "String", StringValue: event.stage },
        audience: { DataType: "String.Array", StringValue: JSON.stringify(event.audience) },
      },
    }),
  );
  return { messageId: answer.MessageId ?? "" };
}

export interface StoredObjects {
  readonly jsonKey: string;
  readonly markdownKey: string;
  readonly location: string;
}

/** Writes the record's two objects under `<prefix><stem>.json|.md` and returns where they are. */
export async function putRecord(
  s3: S3Client,
  args: { bucket: string; prefix: string; stem: string; json: unknown; markdown: string },
): Promise<StoredObjects> {
  const jsonKey = `${args.prefix}${args.stem}.json`;
  const markdownKey = `${args.prefix}${args.stem}.md`;
  await s3.send(
    new PutObjectCommand({
      Bucket: args.bucket,
      Key: jsonKey,
      Body: `${JSON.stringify(args.json, null, 2)}\n`,
      ContentType: "application/json",
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: args.bucket,
      Key: markdownKey,
      Body: args.markdown,
      ContentType: "text/markdown; charset=utf-8",
    }),
  );
  return { jsonKey, markdownKey, location: `s3://${args.bucket}/${markdownKey}` };
}

/** An object's text, for reading a record back. */
export async function getText(s3: S3Client, args: { bucket: string; key: string }): Promise<string> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: args.bucket, Key: args.key }));
  return (await answer.Body?.transformToString("utf8")) ?? "";
}
