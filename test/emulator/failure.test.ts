// A failed step on AWS against moto_server: the step's own error is kept, the contract's failure
// record is stored as JSON and Markdown objects in the records bucket, and the team's notice is
// published on the release topic (read back by an SQS subscriber). A bucket that cannot be written
// hides nothing: the notice still goes out and the error says the record is missing.
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import { beforeAll, describe, expect, it } from "vitest";
import { planColors } from "../../components/colors";
import { buildRecordDraft } from "../../components/record-draft";
import { parseDeploymentRecord, StepFailure } from "../../contract";
import { s3Client, snsClient } from "../../platforms/aws/ops/clients";
import {
  type AwsFailingInputs,
  type AwsFailureContext,
  withAwsFailureRecord,
} from "../../platforms/aws/ops/failure";
import { getText } from "../../platforms/aws/ops/publish";
import type { StepHandlers } from "../../platforms/aws/provider";
import { sampleBuild, sampleManifest } from "../unit/components/fixtures";
import { emulatorTarget } from "./aws";

const target = emulatorTarget("ap-south-1");
const s3 = s3Client(target);
let topicArn = "";
let queueUrl = "";

const v1 = sampleManifest("v1");
const v2 = sampleManifest("v2");
const draft = buildRecordDraft({
  manifest: v2.manifest,
  digest: v2.digest,
  stack: "emulator",
  service: "sample-app",
  plan: planColors({ active: "blue", slots: { blue: sampleBuild(v1) } }, sampleBuild(v2), "blue-green"),
  build: sampleBuild(v2),
});

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

async function received(): Promise<Record<string, unknown>[]> {
  const answer = await sqs("ReceiveMessage", {
    QueueUrl: queueUrl,
    MaxNumberOfMessages: 10,
    WaitTimeSeconds: 5,
  });
  const messages = (answer["Messages"] ?? []) as { Body: string; ReceiptHandle: string }[];
  for (const message of messages)
    await sqs("DeleteMessage", { QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle });
  return messages.map((message) => JSON.parse(message.Body) as Record<string, unknown>);
}

beforeAll(async () => {
  topicArn =
    (await snsClient(target).send(new CreateTopicCommand({ Name: "shipgate-failures" }))).TopicArn ?? "";
  queueUrl = String((await sqs("CreateQueue", { QueueName: "failure-watch" }))["QueueUrl"]);
  await snsClient(target).send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: `arn:aws:sqs:${target.region}:123456789012:failure-watch`,
      Attributes: { RawMessageDelivery: "true" },
    }),
  );
  await s3.send(
    new CreateBucketCommand({
      Bucket: "shipgate-failure-records",
      CreateBucketConfiguration: { LocationConstraint: "ap-south-1" },
    }),
  );
});

function context(bucket = "shipgate-failure-records"): AwsFailureContext {
  return {
    service: "sample-app",
    release: { changeId: "CHG-101", version: "2.0.0", key: "CHG-101@2.0.0" },
    record: draft,
    served: { version: "1.0.0", color: "blue" },
    bucket,
    recordsPrefix: "records/",
    topicArn,
  };
}

function failingStep(error: Error): StepHandlers<AwsFailingInputs, AwsFailingInputs> {
  return {
    async diff() {
      return { changes: true };
    },
    async create() {
      throw error;
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error("the step did not fail"),
    (error: unknown) => error as Error,
  );
}

describe("a failed aws step", () => {
  it("stores the failure record in the bucket and publishes the notice, then fails with its own error", async () => {
    const step = withAwsFailureRecord(
      "gate",
      failingStep(new StepFailure("pre-promotion gate failed: /health answered 500", "errors")),
    );
    const error = await failureOf(step.create("", { aws: target, failure: context() }));
    const location =
      /Record: (s3:\/\/shipgate-failure-records\/(records\/CHG-101-2\.0\.0-\d{8}T\d{9}Z)\.md)\.$/.exec(
        error.message,
      );
    expect(error.message.startsWith("pre-promotion gate failed: /health answered 500 Record: s3://")).toBe(
      true,
    );
    expect(location).not.toBeNull();
    const key = location?.[2] ?? "";
    const parsed = parseDeploymentRecord(
      JSON.parse(await getText(s3, { bucket: "shipgate-failure-records", key: `${key}.json` })),
    );
    if (!parsed.ok) throw new Error(parsed.issues.join("; "));
    expect(parsed.value.outcome).toBe("failed");
    expect(parsed.value.failure).toMatchObject({
      service: "sample-app",
      stage: "gate",
      trigger: "errors",
      error: "pre-promotion gate failed: /health answered 500",
      served: { version: "1.0.0", color: "blue" },
    });
    expect(await getText(s3, { bucket: "shipgate-failure-records", key: `${key}.md` })).toContain(
      "## Failure\n\n- Service: sample-app\n- Stage: gate\n- Trigger: errors",
    );
    expect(await received()).toEqual([
      {
        stage: "failed",
        release: { changeId: "CHG-101", version: "2.0.0" },
        service: "sample-app",
        message:
          "sample-app 2.0.0 failed at the gate step (errors); users are served 1.0.0 on blue. " +
          `pre-promotion gate failed: /health answered 500 Record: ${location?.[1]}`,
        severity: "critical",
        audience: ["team", "support"],
        at: parsed.value.failure?.at,
      },
    ]);
  });

  it("keeps the step's error when the record cannot be stored, and still tells the team", async () => {
    const step = withAwsFailureRecord("backup", failingStep(new Error("snapshot quota exceeded")));
    const error = await failureOf(step.create("", { aws: target, failure: context("no-such-bucket") }));
    expect(error.message).toMatch(
      /^snapshot quota exceeded The failure record could not be stored \(.+\); write it by hand\.$/,
    );
    const [notice] = await received();
    expect(notice).toMatchObject({
      stage: "failed",
      message: expect.stringContaining("at the backup step (backup-failure)"),
    });
  });

  it("passes an error through untouched when the step carries no failure context", async () => {
    const plain = new Error("no context");
    expect(
      await failureOf(withAwsFailureRecord("switch", failingStep(plain)).create("", { aws: target })),
    ).toBe(plain);
  });
});
