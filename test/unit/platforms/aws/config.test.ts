// The aws platform's settings: defaults, and errors that name the key and what was expected.
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../../../config";
import { awsAdapter, awsConfigSchema, parseAwsConfig } from "../../../../platforms/aws";

const minimal = {
  region: "eu-west-1",
  namePrefix: "shop",
  network: { vpcId: "vpc-0abc", subnetIds: ["subnet-01", "subnet-02"] },
  cluster: "prod",
  roles: { executionRoleArn: "arn:aws:iam::123456789012:role/exec" },
};

describe("parseAwsConfig", () => {
  it("applies the defaults in one place", () => {
    expect(parseAwsConfig({ ...minimal, services: { web: {} } })).toEqual({
      ...minimal,
      network: { ...minimal.network, assignPublicIp: false, internal: false },
      alarms: { evaluationPeriods: 2 },
      deployTimeoutMinutes: 20,
      services: {
        web: {
          containerPort: 8080,
          cpu: 256,
          memory: 512,
          desiredCount: 2,
          listenerPort: 80,
          testListenerPort: 9000,
          rulePriority: 100,
          deregistrationDelaySeconds: 30,
          secrets: {},
        },
      },
    });
  });

  it("names every wrong key and what was expected", () => {
    expect(() =>
      parseAwsConfig({
        ...minimal,
        region: "Ireland",
        network: { vpcId: "vpc-0abc", subnetIds: ["subnet-01"] },
        roles: { executionRoleArn: "exec" },
        services: {
          web: { secrets: { DB: "plain-password" } },
          "a-very-long-service-name": {},
          api: { listenerPort: 80 },
        },
      }),
    ).toThrow(
      [
        "Invalid aws platform config:",
        "  - shipgate:aws.region: expected an AWS region such as eu-west-1",
        "  - shipgate:aws.network.subnetIds: expected at least two subnets in two zones",
        "  - shipgate:aws.roles.executionRoleArn: expected an ARN of iam (arn:aws:iam:...)",
        "  - shipgate:aws.services.web.secrets.DB: expected a Secrets Manager or SSM parameter ARN",
      ].join("\n"),
    );
    expect(() =>
      parseAwsConfig({
        ...minimal,
        services: {
          "a-very-long-service-name": { listenerPort: 81, testListenerPort: 9001 },
          web: {},
          api: { testListenerPort: 9002 },
        },
      }),
    ).toThrow(
      [
        "Invalid aws platform config:",
        '  - shipgate:aws.services.a-very-long-service-name: expected namePrefix and service name to fit a target group name: "shop-a-very-long-service-name-green" is over 32 characters',
        "  - shipgate:aws.services.api.listenerPort: expected a port no other listener uses; 80 is already web.listenerPort",
      ].join("\n"),
    );
  });
});

describe("the aws adapter", () => {
  it("requires the aws settings when the stack's platform is aws", () => {
    expect(() => parseStackConfig({ platform: "aws" }, "production", { aws: awsConfigSchema })).toThrow(
      "  - shipgate:aws: expected the aws platform's settings when shipgate:platform is aws (docs/aws.md lists them)",
    );
  });

  it("requires a database for a stateful service and refuses a webhook, naming the keys, before declaring anything", () => {
    const config = parseStackConfig(
      {
        platform: "aws",
        aws: minimal,
        services: { web: { port: 8080 } },
        notifications: { webhookUrl: "https://hooks.example.com/x" },
      },
      "production",
      { aws: awsConfigSchema },
    );
    expect(() =>
      awsAdapter.create({
        projectDir: "/nowhere",
        stack: "production",
        workDir: ".shipgate/production",
        services: config.services,
        settings: config.platformSettings,
        webhookUrl: "https://hooks.example.com/x",
      }),
    ).toThrow(
      [
        'Invalid aws platform config for stack "production":',
        "  - shipgate:notifications.webhookUrl: expected no webhook on the aws platform: it notifies through the stack's SNS topic; subscribe the webhook to the topic (an HTTPS subscription) and remove this key",
        "  - shipgate:aws.services.web.database: expected the RDS database to snapshot before each release, since shipgate:services.web.stateful is true (or set it to false)",
      ].join("\n"),
    );
  });
});
