// Notifications and records against moto_server: SNS Publish to a topic with an SQS subscriber that
// receives the message, and the record's JSON and Markdown objects put into S3 and read back.
import { beforeAll, describe, expect, it } from "vitest";
import { CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import { s3Client, snsClient } from "../../platforms/aws/ops/clients";
import { getText, publishEvent, putRecord } from "../../platforms/aws/ops/publish";
import { emulatorTarget } from "./aws";

const target = emulatorTarget("sa-east-1");
const sns = snsClient(target);
const s3 = s3Client(target);
let topicArn = "";
let queueUrl = "";

/** SQS through its JSON protocol with fetch: the test's own subscriber, no extra SDK client. */
async function sqs(action: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(target.endpoint ?? "", {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": `AmazonSQS.${action}`,
      authorization: `AWS4-HMAC-SHA256 Credential=shipgate-emulator/20261130/${target.region}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  topicArn = (await sns.send(new CreateTopicCommand({ Name: "shipgate-releases" }))).TopicArn ?? "";
  queueUrl = String((await sqs("CreateQueue", { QueueName: "release-watch" }))["QueueUrl"]);
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: `arn:aws:sqs:${target.region}:123456789012:release-watch`,
      Attributes: { RawMessageDelivery: "true" },
    }),
  );
  await s3.send(
    new CreateBucketCommand({
      Bucket: "shipgate-records",
      CreateBucketConfiguration: { LocationConstraint: "sa-east-1" },
    }),
  );
});

describe("publishEvent", () => {
  it("publishes the stage event as JSON with its severity, stage and audience as attributes", async () => {
    const event = {
      stage: "rollback",
      message: "shop: post-promotion verification failed (errors). Traffic is back on blue.",
      severity: "critical" as const,
      audience: ["team", "support"],
      release: { changeId: "CHG-102", version: "2.1.0" },
      service: "shop",
      at: "2026-11-30T17:00:00.000Z",
    };
    const sent = await publishEvent(sns, { topicArn, event });
    expect(sent.messageId).not.toBe("");
    const received = await sqs("ReceiveMessage", {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 5,
    });
    const messages = received["Messages"] as { Body: string }[];
    expect(messages.map((m) => JSON.parse(m.Body))).toEqual([event]);
  });
});

describe("putRecord", () => {
  it("stores the record as JSON and Markdown objects and says where", async () => {
    const stored = await putRecord(s3, {
      bucket: "shipgate-records",
      prefix: "records/shop/",
      stem: "CHG-102-2.1.0-20261130T170000Z",
      json: { outcome: "rolled-back", release: { version: "2.1.0" } },
      markdown: "# CHG-102 2.1.0\n\nOutcome: rolled-back\n",
    });
    expect(stored).toEqual({
      jsonKey: "records/shop/CHG-102-2.1.0-20261130T170000Z.json",
      markdownKey: "records/shop/CHG-102-2.1.0-20261130T170000Z.md",
      location: "s3://shipgate-records/records/shop/CHG-102-2.1.0-20261130T170000Z.md",
    });
    expect(JSON.parse(await getText(s3, { bucket: "shipgate-records", key: stored.jsonKey }))).toEqual({
      outcome: "rolled-back",
      release: { version: "2.1.0" },
    });
    expect(await getText(s3, { bucket: "shipgate-records", key: stored.markdownKey })).toBe(
      "# CHG-102 2.1.0\n\nOutcome: rolled-back\n",
    );
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: "shipgate-records", Key: stored.markdownKey }),
    );
    expect(head.ContentType).toBe("text/markdown; charset=utf-8");
  });
});
