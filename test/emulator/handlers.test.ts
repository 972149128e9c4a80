// The aws steps' handlers (what the dynamic providers call) against moto_server: a bake that fails
// switches users back, writes the record to S3 and publishes the rollback on SNS before it fails the
// update naming the trigger; the switch reads the rule back on refresh; observe's synchronous reader
// answers through its child process (dist/, built by `npm run build`).
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";
import { DescribeRulesCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { handlers as maintenanceHandlers } from "../../platforms/aws/handlers/maintenance";
import { scaleService } from "../../platforms/aws/ops/scale";
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import { buildRecordDraft } from "../../components/record-draft";
import { planColors } from "../../components/colors";
import { handlers as switchHandlers } from "../../platforms/aws/handlers/switch";
import {
  handlers as verificationHandlers,
  type VerificationInputs,
} from "../../platforms/aws/handlers/verification";
import { handlers as recordHandlers } from "../../platforms/aws/handlers/record";
import { awsObserveReader } from "../../platforms/aws/observe-reader";
import { ecsClient, elbClient, s3Client, snsClient } from "../../platforms/aws/ops/clients";
import { getText } from "../../platforms/aws/ops/publish";
import { readRoute, ruleTags } from "../../platforms/aws/ops/traffic";
import { loadManifestFile } from "../../release";
import { serviceRoute } from "./alb";
import { emulatorTarget, network } from "./aws";
import { listen } from "./listen";

const root = join(__dirname, "..", "..");
const target = emulatorTarget("ca-central-1");
const elb = elbClient(target);
const s3 = s3Client(target);
let route: Awaited<ReturnType<typeof serviceRoute>>;
let topicArn = "";

const check = loadManifestFile(join(root, "releases/production/sample-app-1.1.0.yaml"));
if (!check.ok) throw new Error("the production manifest is not valid");
const plan = planColors(
  {
    active: "blue",
    slots: {
      blue: { version: "1.0.0", artifact: { source: "r", version: "1.0.0", digest: "sha256:1" }, env: {} },
    },
  },
  { version: "1.1.0", artifact: { source: "r", version: "1.1.0", digest: "sha256:2" }, env: {} },
  "blue-green",
);
const build = { version: "1.1.0", artifact: { source: "r", version: "1.1.0", digest: "sha256:2" }, env: {} };
const draft = buildRecordDraft({
  manifest: check.manifest,
  digest: check.digest,
  stack: "production",
  service: "sample-app",
  plan,
  build,
});

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("the handler returned no outputs");
  return value;
}

beforeAll(async () => {
  const net = await network(target);
  route = await serviceRoute(elb, {
    prefix: "hdl",
    service: "sample-app",
    ...net,
    port: 80,
    initial: "blue",
  });
  await s3.send(
    new CreateBucketCommand({
      Bucket: "hdl-records",
      CreateBucketConfiguration: { LocationConstraint: "ca-central-1" },
    }),
  );
  const sns = snsClient(target);
  topicArn = (await sns.send(new CreateTopicCommand({ Name: "hdl-releases" }))).TopicArn ?? "";
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: "email", Endpoint: "oncall@example.com" }),
  );
  await ecsClient(target).send(new CreateClusterCommand({ clusterName: "hdl" }));
});

describe("the aws steps' handlers", () => {
  it("switch: sets the weights and reads them back on refresh", async () => {
    const inputs = {
      aws: target,
      service: "sample-app",
      releaseKey: "CHG-301@1.1.0",
      ruleArn: route.ruleArn,
      targetGroups: route.targetGroups,
      color: "green" as const,
      rolledBackAt: null,
    };
    const created = await switchHandlers.create(root, inputs);
    const outs = defined(created.outs);
    expect(outs).toMatchObject({ active: "green", previous: "blue" });
    const read = await switchHandlers.read?.(root, created.id, outs);
    expect(read?.props).toMatchObject({ active: "green" });
    const diff = await switchHandlers.diff(root, created.id, { ...outs, active: "blue" }, inputs);
    expect(diff.changes).toBe(true);
  });

  it("verification: a failing bake switches back, writes the record, publishes and fails naming the trigger", async () => {
    const server = await listen((_request, response) => {
      response.writeHead(500);
      response.end("boom");
    });
    try {
      const inputs: VerificationInputs = {
        aws: target,
        service: "sample-app",
        releaseKey: "CHG-301@1.1.0",
        url: server.url,
        checks: [
          { name: "health", kind: "technical", method: "GET", path: "/health", expect: { status: 200 } },
        ],
        spec: {
          bakeTimeMs: 400,
          intervalMs: 100,
          maxErrorRate: 0.01,
          maxP95LatencyMs: 500,
          requestTimeoutMs: 1000,
        },
        promoted: "green",
        rollbackTo: "blue",
        ruleArn: route.ruleArn,
        targetGroups: route.targetGroups,
        loadBalancerArn: route.loadBalancerArn,
        alarms: [],
        record: draft,
        bucket: "hdl-records",
        recordsPrefix: "records/",
        topicArn,
        rolledBackAt: null,
      };
      await expect(verificationHandlers.create(root, inputs)).rejects.toThrow(
        /^post-promotion verification of sample-app \(CHG-301@1\.1\.0\) failed; rollback trigger: errors\. .* Traffic is back on blue, the previous version\. Record: s3:\/\/hdl-records\/records\/CHG-301-1\.1\.0-.*\.md\.$/s,
      );
      const now = await readRoute(elb, route);
      expect(now.active).toBe("blue");
      expect(now.tags[ruleTags.rollbackTrigger]).toBe("errors");
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: "hdl-records", Prefix: "records/" }));
      const jsonKey = listed.Contents?.map((o) => o.Key ?? "").find((k) => k.endsWith(".json")) ?? "";
      const stored = JSON.parse(await getText(s3, { bucket: "hdl-records", key: jsonKey })) as Record<
        string,
        unknown
      >;
      expect(stored).toMatchObject({
        outcome: "rolled-back",
        rollback: { trigger: "errors" },
        activeColor: "blue",
        previousColor: "green",
        failure: { service: "sample-app", stage: "verification", trigger: "errors" },
      });
    } finally {
      await server.close();
    }
  });

  it("record: stores the succeeded release's record as JSON and Markdown", async () => {
    const at = "2026-12-01T09:10:00.000Z";
    const created = await recordHandlers.create(root, {
      aws: target,
      bucket: "hdl-records",
      prefix: "records/",
      releaseKey: "CHG-301@1.1.0",
      record: {
        ...buildRecordDraft({
          manifest: check.manifest,
          digest: check.digest,
          stack: "production",
          plans: { "sample-app": { plan, version: "1.1.0" } },
        }),
        results: {
          "sample-app": {
            backup: { id: "snap", digest: "rds-snapshot:arn", at },
            gate: { verdict: "passed", rounds: 3, at },
            switchedAt: at,
            verification: { verdict: "passed", errorRate: 0, p95LatencyMs: 40, at },
          },
        },
        colors: { "sample-app": { active: "green", previous: "blue" } },
      },
    });
    const outs = defined(created.outs);
    expect(outs.location).toMatch(/^s3:\/\/hdl-records\/records\/CHG-301-1\.1\.0-.*\.md$/);
    const markdown = await getText(s3, { bucket: "hdl-records", key: outs.markdownKey });
    expect(markdown).toContain("CHG-301");
    expect(JSON.parse(await getText(s3, { bucket: "hdl-records", key: outs.jsonKey }))).toMatchObject({
      outcome: "succeeded",
      activeColor: "green",
      backup: { id: "snap" },
    });
  });

  it("maintenance: users get the 503 with the message, then the colour to replace is scaled to zero", async () => {
    const ecs = ecsClient(target);
    const definition = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "hdl-sample-app-blue",
        containerDefinitions: [{ name: "sample-app", image: `r@sha256:${"a".repeat(64)}`, memory: 512 }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: "hdl",
        serviceName: "hdl-sample-app-blue",
        taskDefinition: definition.taskDefinition?.taskDefinitionArn,
        desiredCount: 2,
      }),
    );
    const created = await maintenanceHandlers.create(root, {
      aws: target,
      service: "sample-app",
      releaseKey: "CHG-104@4.0.0",
      ruleArn: route.ruleArn,
      message: "The shop is being upgraded; back at 03:00 UTC.",
      stop: { cluster: "hdl", service: "hdl-sample-app-blue" },
      timeoutMs: 30_000,
    });
    expect(created.id).toBe("sample-app-maintenance");
    const rule = await elb.send(new DescribeRulesCommand({ RuleArns: [route.ruleArn] }));
    expect(rule.Rules?.[0]?.Actions?.[0]).toMatchObject({
      Type: "fixed-response",
      FixedResponseConfig: {
        StatusCode: "503",
        MessageBody: "The shop is being upgraded; back at 03:00 UTC.",
      },
    });
    const stopped = await ecs.send(
      new DescribeServicesCommand({ cluster: "hdl", services: ["hdl-sample-app-blue"] }),
    );
    expect(stopped.services?.[0]).toMatchObject({ desiredCount: 0, runningCount: 0 });
  });

  it("scale: brings the stopped colour back to its size and waits for its tasks", async () => {
    const scaled = await scaleService(ecsClient(target), {
      cluster: "hdl",
      service: "hdl-sample-app-blue",
      desiredCount: 2,
      timeoutMs: 30_000,
      pollMs: 100,
    });
    expect(scaled).toEqual({ runningCount: 2 });
  });

  it("scale: says what to check when a colour does not reach its size in time", async () => {
    await expect(
      scaleService(ecsClient(target), {
        cluster: "hdl",
        service: "no-such-service",
        desiredCount: 2,
        timeoutMs: 300,
        pollMs: 100,
      }),
    ).rejects.toThrow(/no-such-service/);
  });

  it("observe's reader answers synchronously through its child process", () => {
    const observed = awsObserveReader(root)({
      aws: target,
      prefix: "hdl",
      service: "sample-app",
      cluster: "hdl",
      productionPort: 80,
    });
    // The maintenance window above left the rule answering 503: no colour is live, and the blue
    // service (desired 0) still carries no slot spec label.
    expect(observed).toMatchObject({ active: null, slots: {}, maintenance: true });
    expect(observed.rolledBackAt).not.toBeNull();
  });

  it("observe's reader says what to check when AWS cannot be read", () => {
    expect(() =>
      awsObserveReader(root)({
        aws: { region: "ca-central-1", endpoint: "http://127.0.0.1:1" },
        prefix: "hdl",
        service: "sample-app",
        cluster: "hdl",
        productionPort: 80,
      }),
    ).toThrow(/^observe: reading sample-app from AWS \(ca-central-1\) failed: .*check the AWS credentials/s);
  });
});
