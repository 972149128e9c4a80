// The aws platform under Pulumi mocks, driven by the real Release component with the production
// stack's config and manifests: the exact @pulumi/aws resources and aws steps of a first release, a
// second release, a failed gate and a rollback.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { Release } from "../../../../components/release";
import type { Color, SlotSpec } from "../../../../components/platform";
import { parseStackConfig } from "../../../../config";
import { AwsPlatform, awsConfigSchema, type AwsConfig } from "../../../../platforms/aws";
import type { AwsObserveReader } from "../../../../platforms/aws/observe-reader";
import { loadManifestFile } from "../../../../release";
import { installAwsMocks, stepTime } from "./aws-mocks";

const root = join(__dirname, "..", "..", "..", "..");
const stackYaml = parse(readFileSync(join(root, "stacks/Pulumi.production.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};
const settings = parseStackConfig(
  { platform: "aws", services: stackYaml.config["shipgate:services"], aws: stackYaml.config["shipgate:aws"] },
  "production",
  { aws: awsConfigSchema },
);
const awsConfig = settings.platformSettings as AwsConfig;
const repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sample-app";
const digests: Record<string, string> = {
  "1.0.0": `sha256:${"3f".repeat(32)}`,
  "1.1.0": `sha256:${"4e".repeat(32)}`,
};

function spec(version: string): SlotSpec {
  return { version, artifact: { source: repository, version, digest: digests[version] ?? "" }, env: {} };
}

/** What AWS answers for a stack where `active` is live and each colour runs a version. */
function live(
  active: Color | null,
  versions: Partial<Record<Color, string>>,
  rolledBackAt: string | null = null,
): AwsObserveReader {
  return () => ({
    active,
    slots: Object.fromEntries(Object.entries(versions).map(([color, version]) => [color, spec(version)])),
    switchedAt: active ? "2026-12-01T08:00:00.000Z" : null,
    rolledBackAt,
    maintenance: false,
  });
}

async function release(version: string, reader: AwsObserveReader, fail?: (name: string) => boolean) {
  const mocks = await installAwsMocks("production", fail);
  const manifestPath = `releases/production/sample-app-${version}.yaml`;
  const check = loadManifestFile(join(root, manifestPath));
  if (!check.ok) throw new Error(`${manifestPath} is not valid`);
  new Release("release", {
    platform: new AwsPlatform({ projectDir: root, config: awsConfig, services: settings.services, reader }),
    manifest: check.manifest,
    digest: check.digest,
    manifestPath,
    stack: "production",
    services: settings.services,
  });
  await mocks.settle();
  return mocks;
}

const tgArn = (color: Color) =>
  `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shipgate-prod-sample-app-${color}/73e2d6bc24d8a067`;
const ruleArn = (name: string) =>
  `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shipgate-prod/50dc6c495c0c9188/${name}`;
const target = { region: "eu-west-1", endpoint: null };

/** Every resource of a release of the stateful sample app, with the colours whose slot it declares. */
function releaseResources(colors: Color[], migrates: boolean): string[] {
  const step = (kind: string, name: string) => `pulumi-nodejs:dynamic/shipgate/aws:${kind} ${name}`;
  return [
    "pulumi:providers:aws aws",
    "aws:s3/bucket:Bucket records",
    "aws:s3/bucketVersioning:BucketVersioning records-versioning",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock records-private",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration records-encryption",
    "aws:sns/topic:Topic notifications",
    "aws:ec2/securityGroup:SecurityGroup alb",
    "aws:lb/loadBalancer:LoadBalancer alb",
    "aws:ec2/securityGroup:SecurityGroup tasks",
    "aws:lb/targetGroup:TargetGroup sample-app-tg-blue",
    "aws:lb/targetGroup:TargetGroup sample-app-tg-green",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule sample-app-production-ingress",
    "aws:lb/listener:Listener sample-app-production-listener",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule sample-app-test-ingress",
    "aws:lb/listener:Listener sample-app-test-listener",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule sample-app-tasks-ingress",
    "aws:lb/listenerRule:ListenerRule sample-app-production-rule",
    "aws:lb/listenerRule:ListenerRule sample-app-test-rule",
    "aws:cloudwatch/logGroup:LogGroup sample-app-logs",
    "aws:cloudwatch/metricAlarm:MetricAlarm sample-app-blue-5xx-rate",
    "aws:cloudwatch/metricAlarm:MetricAlarm sample-app-blue-p95-latency",
    "aws:cloudwatch/metricAlarm:MetricAlarm sample-app-green-5xx-rate",
    "aws:cloudwatch/metricAlarm:MetricAlarm sample-app-green-p95-latency",
    step("Notification", "release-announce-send"),
    step("Backup", "sample-app-backup-data"),
    ...(migrates
      ? ["aws:ecs/taskDefinition:TaskDefinition sample-app-migrate-task", step("Task", "sample-app-migrate")]
      : []),
    ...colors.flatMap((c) => [
      `aws:ecs/taskDefinition:TaskDefinition sample-app-${c}-task`,
      `aws:ecs/service:Service sample-app-${c}`,
    ]),
    step("Gate", "sample-app-gate-checks"),
    step("Switch", "sample-app-switch-route"),
    step("Verification", "sample-app-verify-bake"),
    step("Record", "release-record-write"),
    step("Notification", "release-complete-send"),
  ].sort();
}

function containers(inputs: Record<string, unknown>): Record<string, unknown>[] {
  return JSON.parse(String(inputs["containerDefinitions"])) as Record<string, unknown>[];
}

// The first release imports @pulumi/aws (thousands of modules): seconds on a busy two-core machine.
describe("the aws platform's releases", { timeout: 60_000 }, () => {
  it("first release: blue gets 1.0.0 behind a 503 rule, is gated on the test listener, then gets the weights", async () => {
    const mocks = await release("1.0.0", live(null, {}));
    expect(mocks.resources().sort()).toEqual(releaseResources(["blue"], false));

    expect(mocks.byName("sample-app-tg-blue").inputs).toEqual({
      name: "shipgate-prod-sample-app-blue",
      vpcId: "vpc-0a1b2c3d4e5f60718",
      targetType: "ip",
      protocol: "HTTP",
      port: 8080,
      deregistrationDelay: 30,
      healthCheck: {
        path: "/health",
        matcher: "200",
        interval: 10,
        timeout: 2,
        healthyThreshold: 3,
        unhealthyThreshold: 3,
      },
      tags: { "managed-by": "shipgate", "shipgate:service": "sample-app", "shipgate:color": "blue" },
    });
    const production = mocks.byName("sample-app-production-rule");
    expect(production.inputs).toMatchObject({
      priority: 100,
      conditions: [{ pathPattern: { values: ["/*"] } }],
      actions: [
        {
          type: "fixed-response",
          fixedResponse: { statusCode: "503", messageBody: "sample-app is not released yet." },
        },
      ],
      tags: { "shipgate:service": "sample-app", "shipgate:role": "production" },
    });
    // The switch owns the rule's actions after the first release: Pulumi never sets them back.
    expect(production.ignoreChanges).toEqual(["actions"]);
    expect(mocks.byName("sample-app-test-rule").inputs["actions"]).toEqual([
      {
        type: "forward",
        forward: {
          targetGroups: [
            { arn: tgArn("blue"), weight: 100 },
            { arn: tgArn("green"), weight: 0 },
          ],
          stickiness: { enabled: false, duration: 1 },
        },
      },
    ]);

    const task = mocks.byName("sample-app-blue-task").inputs;
    expect(task).toMatchObject({
      family: "shipgate-prod-sample-app-blue",
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "256",
      memory: "512",
      executionRoleArn: "arn:aws:iam::123456789012:role/shipgate-prod-task-execution",
      taskRoleArn: "arn:aws:iam::123456789012:role/shipgate-prod-sample-app",
    });
    expect(containers(task)).toEqual([
      {
        name: "sample-app",
        image: `${repository}@${digests["1.0.0"]}`,
        essential: true,
        portMappings: [{ containerPort: 8080, protocol: "tcp" }],
        environment: [
          { name: "SHIPGATE_COLOR", value: "blue" },
          { name: "SHIPGATE_VERSION", value: "1.0.0" },
          { name: "PORT", value: "8080" },
        ],
        secrets: [
          {
            name: "DATABASE_URL",
            valueFrom:
              "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shipgate-prod/sample-app/database-AbCdEf",
          },
        ],
        dockerLabels: { "shipgate.slot-spec": JSON.stringify(spec("1.0.0")) },
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": "/shipgate/shipgate-prod/sample-app",
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": "blue",
          },
        },
      },
    ]);
    expect(mocks.byName("sample-app-blue").inputs).toMatchObject({
      name: "shipgate-prod-sample-app-blue",
      cluster: "production",
      taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/shipgate-prod-sample-app-blue:7",
      desiredCount: 2,
      launchType: "FARGATE",
      loadBalancers: [{ targetGroupArn: tgArn("blue"), containerName: "sample-app", containerPort: 8080 }],
      waitForSteadyState: true,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    });

    expect(mocks.byName("sample-app-backup-data")).toMatchObject({
      inputs: {
        aws: target,
        releaseKey: "CHG-300@1.0.0",
        database: { kind: "instance", identifier: "sample-app-prod" },
        timeoutMs: 3_600_000,
      },
      retainOnDelete: true,
    });
    const gate = mocks.byName("sample-app-gate-checks");
    expect(gate.inputs).toMatchObject({
      aws: target,
      testRuleArn: ruleArn("sample-app-test-rule"),
      targetGroups: { blue: tgArn("blue"), green: tgArn("green") },
      target: "http://shipgate-prod-1234.eu-west-1.elb.amazonaws.com:9000",
      candidate: "blue",
      digest: digests["1.0.0"],
      policy: { consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 2000, timeoutMs: 120000 },
      rolledBackAt: null,
    });
    expect((gate.inputs["checks"] as { name: string }[]).map((c) => c.name)).toEqual([
      "health",
      "version",
      "items can be listed",
    ]);
    expect(gate.dependsOn).toContain("sample-app-blue");
    const route = mocks.byName("sample-app-switch-route");
    expect(route.inputs).toMatchObject({
      ruleArn: ruleArn("sample-app-production-rule"),
      color: "blue",
      rolledBackAt: null,
    });
    expect(route.dependsOn).toContain("sample-app-gate-checks");
    expect(mocks.byName("sample-app-verify-bake").inputs).toMatchObject({
      url: "http://shipgate-prod-1234.eu-west-1.elb.amazonaws.com:80",
      promoted: "blue",
      rollbackTo: null,
      alarms: [
        { name: "shipgate-prod-sample-app-blue-5xx-rate", measures: "errors" },
        { name: "shipgate-prod-sample-app-blue-p95-latency", measures: "performance" },
      ],
      bucket: "shipgate-prod-records-20261201",
      topicArn: "arn:aws:sns:eu-west-1:123456789012:shipgate-prod-releases",
    });
    expect(mocks.byName("sample-app-blue-p95-latency").inputs).toMatchObject({
      extendedStatistic: "p95",
      threshold: 0.5,
      evaluationPeriods: 2,
      treatMissingData: "notBreaching",
      dimensions: {
        LoadBalancer: "app/shipgate-prod/50dc6c495c0c9188",
        TargetGroup: "targetgroup/shipgate-prod-sample-app-blue/73e2d6bc24d8a067",
      },
    });
    expect(mocks.byName("sample-app-blue-5xx-rate").inputs).toMatchObject({ threshold: 0.01 });
    const record = mocks.byName("release-record-write");
    expect(record.retainOnDelete).toBe(true);
    expect(
      (record.inputs["record"] as { results: Record<string, unknown> }).results["sample-app"],
    ).toMatchObject({
      gate: { verdict: "passed", rounds: 3, at: stepTime },
      verification: { verdict: "passed", errorRate: 0, p95LatencyMs: 42, at: stepTime },
    });
  });

  it("second release: green gets 1.1.0 after the snapshot and the migration task, blue unchanged, then the weights", async () => {
    const first = await release("1.0.0", live(null, {}));
    const blueBefore = {
      task: first.byName("sample-app-blue-task").inputs,
      service: first.byName("sample-app-blue").inputs,
    };
    const mocks = await release("1.1.0", live("blue", { blue: "1.0.0" }));
    expect(mocks.resources().sort()).toEqual(releaseResources(["blue", "green"], true));
    expect(mocks.byName("sample-app-blue-task").inputs).toEqual(blueBefore.task);
    expect(mocks.byName("sample-app-blue").inputs).toEqual(blueBefore.service);
    expect(containers(mocks.byName("sample-app-green-task").inputs)[0]).toMatchObject({
      image: `${repository}@${digests["1.1.0"]}`,
      dockerLabels: { "shipgate.slot-spec": JSON.stringify(spec("1.1.0")) },
    });
    expect(containers(mocks.byName("sample-app-migrate-task").inputs)[0]).toMatchObject({
      image: `${repository}@${digests["1.1.0"]}`,
    });
    const migrate = mocks.byName("sample-app-migrate");
    expect(migrate.inputs).toMatchObject({
      purpose: "migration",
      run: {
        cluster: "production",
        taskDefinition:
          "arn:aws:ecs:eu-west-1:123456789012:task-definition/shipgate-prod-sample-app-migrate:7",
        subnets: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
        securityGroups: ["tasks-id"],
        assignPublicIp: false,
        container: {
          name: "sample-app",
          command: ["node", "migrate-all.mjs"],
          environment: {
            MIGRATIONS: "0002_add_created_at",
            BACKUP_ID: "sample-app-chg-301-1-1-0-20261201t090000",
          },
        },
      },
    });
    expect(migrate.dependsOn).toContain("sample-app-backup-data");
    expect(mocks.byName("sample-app-green").dependsOn).toContain("sample-app-migrate");
    expect(mocks.byName("sample-app-gate-checks").inputs).toMatchObject({
      candidate: "green",
      digest: digests["1.1.0"],
    });
    expect(mocks.byName("sample-app-switch-route").inputs).toMatchObject({ color: "green" });
    expect(mocks.byName("sample-app-verify-bake").inputs).toMatchObject({
      promoted: "green",
      rollbackTo: "blue",
      alarms: [
        { name: "shipgate-prod-sample-app-green-5xx-rate", measures: "errors" },
        { name: "shipgate-prod-sample-app-green-p95-latency", measures: "performance" },
      ],
    });
  });

  it("failed gate: the gate step fails, so the weights are never touched and blue keeps serving", async () => {
    const mocks = await release(
      "1.1.0",
      live("blue", { blue: "1.0.0" }),
      (name) => name === "sample-app-gate-checks",
    );
    const resources = mocks.resources();
    expect(resources).toContain("pulumi-nodejs:dynamic/shipgate/aws:Gate sample-app-gate-checks");
    expect(resources).not.toContain("pulumi-nodejs:dynamic/shipgate/aws:Switch sample-app-switch-route");
    expect(resources).not.toContain("pulumi-nodejs:dynamic/shipgate/aws:Verification sample-app-verify-bake");
    expect(resources).not.toContain("pulumi-nodejs:dynamic/shipgate/aws:Record release-record-write");
    // The production rule is declared with its first-release action and ignores changes to it: the
    // failed release leaves the weights the last switch set.
    expect(mocks.byName("sample-app-production-rule").ignoreChanges).toEqual(["actions"]);
  });

  it("rollback: releasing 1.0.0 while green runs 1.1.0 sets the weights back to blue and changes nothing else", async () => {
    const forward = await release("1.1.0", live("blue", { blue: "1.0.0" }));
    const back = await release("1.0.0", live("green", { blue: "1.0.0", green: "1.1.0" }));
    for (const name of [
      "sample-app-blue-task",
      "sample-app-blue",
      "sample-app-green-task",
      "sample-app-green",
    ]) {
      expect(back.byName(name).inputs).toEqual(forward.byName(name).inputs);
    }
    expect(back.resources()).not.toContain("pulumi-nodejs:dynamic/shipgate/aws:Task sample-app-migrate");
    expect(back.byName("sample-app-switch-route").inputs).toEqual({
      ...forward.byName("sample-app-switch-route").inputs,
      releaseKey: "CHG-300@1.0.0",
      color: "blue",
      // What the switch records if it fails: this release, and green 1.1.0 still serving users.
      failure: {
        ...(forward.byName("sample-app-switch-route").inputs["failure"] as Record<string, unknown>),
        release: { changeId: "CHG-300", version: "1.0.0", key: "CHG-300@1.0.0" },
        record: back.byName("sample-app-verify-bake").inputs["record"],
        served: { version: "1.1.0", color: "green" },
      },
    });
    expect(forward.byName("sample-app-switch-route").inputs["failure"]).toMatchObject({
      service: "sample-app",
      served: { version: "1.0.0", color: "blue" },
      recordsPrefix: "records/",
    });
    expect(back.byName("sample-app-gate-checks").inputs).toMatchObject({ candidate: "blue" });
    expect(back.byName("sample-app-verify-bake").inputs).toMatchObject({
      promoted: "blue",
      rollbackTo: "green",
    });
  });

  it("after an automatic switch back, the same release gates, switches and verifies again", async () => {
    const at = "2026-12-01T09:20:00.000Z";
    const mocks = await release("1.1.0", live("blue", { blue: "1.0.0", green: "1.1.0" }, at));
    for (const step of ["sample-app-gate-checks", "sample-app-switch-route", "sample-app-verify-bake"]) {
      expect(mocks.byName(step).inputs).toMatchObject({ rolledBackAt: at });
    }
    expect(mocks.byName("sample-app-switch-route").inputs).toMatchObject({ color: "green" });
  });

  it("refuses rollback with data restore, naming what to do instead", () => {
    const platform = new AwsPlatform({
      projectDir: root,
      config: awsConfig,
      services: settings.services,
      reader: live(null, {}),
    });
    expect(() =>
      platform.restore("r", { service: "sample-app", backupId: "snap-1" }, { parent: undefined as never }),
    ).toThrow(
      "sample-app: rollback with data restore (snapshot snap-1) is not supported on the aws platform",
    );
  });
});
