// The stack-wide and per-service AWS objects every release of a service stands on, as @pulumi/aws
// resources: the provider, the records bucket, the notification topic, the ALB (or an existing one),
// and per service its target groups, listeners, listener rules, log group and CloudWatch alarms.
// They are declared at the stack's root, not under a release component, so their URNs never change
// with the release that first needs them (a recreate release reaches the router from its maintenance
// window, a blue-green one from its service).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceSettings } from "../../contract";
import type { AwsConfig, AwsServiceConfig } from "./config";
import { awsNames, dimensionOf, type Color } from "./names";
import { forwardAction, maintenanceAction, ruleTags } from "./ops/actions";

export interface SharedObjects {
  readonly provider: aws.Provider;
  readonly bucket: aws.s3.Bucket;
  readonly topic: aws.sns.Topic;
  readonly loadBalancerArn: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  /** The ALB's security group (created, or the existing ALB's). */
  readonly albSecurityGroupId: pulumi.Output<string>;
  readonly tasksSecurityGroup: aws.ec2.SecurityGroup;
  readonly createdLoadBalancer?: aws.lb.LoadBalancer;
  /** What the first step that needed these objects depends on (the release anchor, at least). */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export interface ServiceRouter {
  readonly targetGroups: Readonly<Record<Color, aws.lb.TargetGroup>>;
  readonly productionRule: aws.lb.ListenerRule;
  readonly testRule: aws.lb.ListenerRule;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly alarms: readonly { name: string; color: Color; measures: "errors" | "performance" }[];
  readonly url: pulumi.Output<string>;
  readonly testUrl: pulumi.Output<string>;
}

const tags = (extra: Record<string, string> = {}) => ({ "managed-by": "shipgate", ...extra });

/** The stack's provider, records bucket, topic, ALB and task security group. */
export function declareShared(config: AwsConfig, dependsOn: pulumi.Input<pulumi.Resource>[]): SharedObjects {
  const provider = new aws.Provider("aws", {
    region: config.region as aws.Region,
    defaultTags: { tags: tags({ "shipgate:stack": pulumi.getStack() }) },
    ...(config.endpoint
      ? {
          endpoints: [
            {
              cloudwatch: config.endpoint,
              ec2: config.endpoint,
              ecs: config.endpoint,
              elbv2: config.endpoint,
              iam: config.endpoint,
              logs: config.endpoint,
              rds: config.endpoint,
              s3: config.endpoint,
              sns: config.endpoint,
              sts: config.endpoint,
            },
          ],
          s3UsePathStyle: true,
          skipCredentialsValidation: true,
          skipRequestingAccountId: true,
          skipMetadataApiCheck: true,
        }
      : {}),
  });
  const base = { provider, dependsOn };
  // Records are documentation: the bucket stays when the stack is destroyed, versioned, private, encrypted.
  const bucket = new aws.s3.Bucket(
    "records",
    { bucketPrefix: `${config.namePrefix}-records-`, forceDestroy: false },
    { ...base, retainOnDelete: true },
  );
  new aws.s3.BucketVersioning(
    "records-versioning",
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    { ...base, retainOnDelete: true },
  );
  new aws.s3.BucketPublicAccessBlock(
    "records-private",
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    { ...base, retainOnDelete: true },
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    "records-encryption",
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
    { ...base, retainOnDelete: true },
  );
  const topic = new aws.sns.Topic("notifications", { name: `${config.namePrefix}-releases` }, base);

  let loadBalancerArn: pulumi.Output<string>;
  let dnsName: pulumi.Output<string>;
  let albSecurityGroupId: pulumi.Output<string>;
  let createdLoadBalancer: aws.lb.LoadBalancer | undefined;
  if (config.existingLoadBalancer) {
    loadBalancerArn = pulumi.output(config.existingLoadBalancer.arn);
    dnsName = pulumi.output(config.existingLoadBalancer.dnsName);
    albSecurityGroupId = pulumi.output(config.existingLoadBalancer.securityGroupId);
  } else {
    const albGroup = new aws.ec2.SecurityGroup(
      "alb",
      {
        vpcId: config.network.vpcId,
        description: `shipgate ${config.namePrefix}: the load balancer's listeners`,
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
      },
      base,
    );
    createdLoadBalancer = new aws.lb.LoadBalancer(
      "alb",
      {
        name: config.namePrefix,
        loadBalancerType: "application",
        internal: config.network.internal,
        subnets: config.network.subnetIds,
        securityGroups: [albGroup.id],
        dropInvalidHeaderFields: true,
      },
      base,
    );
    loadBalancerArn = createdLoadBalancer.arn;
    dnsName = createdLoadBalancer.dnsName;
    albSecurityGroupId = albGroup.id;
  }
  const tasksSecurityGroup = new aws.ec2.SecurityGroup(
    "tasks",
    {
      vpcId: config.network.vpcId,
      description: `shipgate ${config.namePrefix}: the services' tasks, reached from the load balancer only`,
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    },
    base,
  );
  return {
    provider,
    bucket,
    topic,
    loadBalancerArn,
    dnsName,
    albSecurityGroupId,
    tasksSecurityGroup,
    dependsOn,
    ...(createdLoadBalancer ? { createdLoadBalancer } : {}),
  };
}

/** A service's target groups, listeners, rules, log group and alarms. */
export function declareServiceRouter(
  config: AwsConfig,
  shared: SharedObjects,
  args: { service: string; settings: ServiceSettings; aws: AwsServiceConfig },
): ServiceRouter {
  const { service, settings } = args;
  const names = awsNames(config.namePrefix, service);
  const base = { provider: shared.provider, dependsOn: shared.dependsOn };
  const name = (suffix: string) => `${service}-${suffix}`;

  const targetGroups = {} as Record<Color, aws.lb.TargetGroup>;
  for (const color of ["blue", "green"] as const) {
    targetGroups[color] = new aws.lb.TargetGroup(
      name(`tg-${color}`),
      {
        name: names.targetGroup(color),
        vpcId: config.network.vpcId,
        targetType: "ip",
        protocol: "HTTP",
        port: args.aws.containerPort,
        deregistrationDelay: args.aws.deregistrationDelaySeconds,
        healthCheck: {
          path: settings.healthPath,
          matcher: "200",
          interval: 10,
          timeout: Math.max(2, Math.min(9, Math.ceil(settings.maxLatencyMs / 1000))),
          healthyThreshold: Math.max(2, Math.min(10, settings.gate.consecutiveSuccesses)),
          unhealthyThreshold: Math.max(2, Math.min(10, settings.gate.failureThreshold)),
        },
        tags: tags({ "shipgate:service": service, "shipgate:color": color }),
      },
      base,
    );
  }

  let productionListenerArn: pulumi.Input<string>;
  let testListenerArn: pulumi.Input<string>;
  if (config.existingLoadBalancer) {
    productionListenerArn = config.existingLoadBalancer.productionListenerArn;
    testListenerArn = config.existingLoadBalancer.testListenerArn;
  } else {
    const notFound = {
      type: "fixed-response",
      fixedResponse: { statusCode: "404", contentType: "text/plain", messageBody: "Not found" },
    };
    const listener = (role: "production" | "test", port: number) => {
      new aws.vpc.SecurityGroupIngressRule(
        name(`${role}-ingress`),
        {
          securityGroupId: shared.albSecurityGroupId,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          // Users reach the production port; the test port is for gates, from inside the VPC when internal.
          cidrIpv4: "0.0.0.0/0",
          description: `${service} ${role} listener`,
        },
        base,
      );
      return new aws.lb.Listener(
        name(`${role}-listener`),
        { loadBalancerArn: shared.loadBalancerArn, port, protocol: "HTTP", defaultActions: [notFound] },
        base,
      ).arn;
    };
    productionListenerArn = listener("production", args.aws.listenerPort);
    testListenerArn = listener("test", args.aws.testListenerPort);
  }
  new aws.vpc.SecurityGroupIngressRule(
    name("tasks-ingress"),
    {
      securityGroupId: shared.tasksSecurityGroup.id,
      referencedSecurityGroupId: shared.albSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: args.aws.containerPort,
      toPort: args.aws.containerPort,
      description: `${service} from the load balancer`,
    },
    base,
  );

  const conditions = [
    { pathPattern: { values: ["/*"] } },
    ...(args.aws.hostHeader ? [{ hostHeader: { values: [args.aws.hostHeader] } }] : []),
  ];
  const arns = pulumi.all([targetGroups.blue.arn, targetGroups.green.arn]);
  // Users get a 503 until the first release's gate has passed and its switch sets the weights. The
  // switch (a dynamic step) owns the actions from then on, so Pulumi never sets them back.
  const productionRule = new aws.lb.ListenerRule(
    name("production-rule"),
    {
      listenerArn: productionListenerArn,
      priority: args.aws.rulePriority,
      conditions,
      actions: [
        {
          type: "fixed-response",
          fixedResponse: {
            statusCode: "503",
            contentType: "text/plain",
            messageBody:
              maintenanceAction(`${service} is not released yet.`).FixedResponseConfig?.MessageBody ?? "",
          },
        },
      ],
      tags: tags({ [ruleTags.service]: service, [ruleTags.role]: "production" }),
    },
    { ...base, ignoreChanges: ["actions"], deleteBeforeReplace: true },
  );
  // The test rule references both target groups, which associates them with the ALB (ECS registers a
  // service only with a target group behind a listener); each gate points it at its candidate.
  const testRule = new aws.lb.ListenerRule(
    name("test-rule"),
    {
      listenerArn: testListenerArn,
      priority: args.aws.rulePriority,
      conditions,
      actions: [
        arns.apply(([blue, green]) => {
          const action = forwardAction({ blue, green }, "blue");
          return {
            type: "forward",
            forward: {
              targetGroups: (action.ForwardConfig?.TargetGroups ?? []).map((g) => ({
                arn: g.TargetGroupArn ?? "",
                weight: g.Weight ?? 0,
              })),
              stickiness: { enabled: false, duration: 1 },
            },
          };
        }),
      ],
      tags: tags({ [ruleTags.service]: service, [ruleTags.role]: "test" }),
    },
    { ...base, ignoreChanges: ["actions"], deleteBeforeReplace: true },
  );

  const logGroup = new aws.cloudwatch.LogGroup(
    name("logs"),
    { name: `/shipgate/${config.namePrefix}/${service}`, retentionInDays: 30 },
    base,
  );

  // Unknown until the ALB exists (a first preview); CloudWatch wants the ARN's `app/...` suffix.
  const loadBalancerDimension = shared.loadBalancerArn.apply((arn) =>
    typeof arn === "string" ? dimensionOf(arn) : "",
  );
  const alarms: ServiceRouter["alarms"][number][] = [];
  for (const color of ["blue", "green"] as const) {
    const dimensions = {
      LoadBalancer: loadBalancerDimension,
      TargetGroup: targetGroups[color].arnSuffix,
    };
    const errors = names.alarm(color, "5xx-rate");
    new aws.cloudwatch.MetricAlarm(
      name(`${color}-5xx-rate`),
      {
        name: errors,
        alarmDescription: `${service} ${color}: target 5xx answers over ${settings.verification.maxErrorRate * 100}% of requests`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: settings.verification.maxErrorRate,
        evaluationPeriods: config.alarms.evaluationPeriods,
        // ALB metrics exist only with traffic: no data is not an alarm.
        treatMissingData: "notBreaching",
        metricQueries: [
          {
            id: "rate",
            expression: "IF(requests > 0, errors / requests, 0)",
            label: "target 5xx rate",
            returnData: true,
          },
          {
            id: "errors",
            metric: {
              namespace: "AWS/ApplicationELB",
              metricName: "HTTPCode_Target_5XX_Count",
              period: 60,
              stat: "Sum",
              dimensions,
            },
          },
          {
            id: "requests",
            metric: {
              namespace: "AWS/ApplicationELB",
              metricName: "RequestCount",
              period: 60,
              stat: "Sum",
              dimensions,
            },
          },
        ],
        alarmActions: [shared.topic.arn],
        okActions: [shared.topic.arn],
      },
      base,
    );
    alarms.push({ name: errors, color, measures: "errors" });
    const latency = names.alarm(color, "p95-latency");
    new aws.cloudwatch.MetricAlarm(
      name(`${color}-p95-latency`),
      {
        name: latency,
        alarmDescription: `${service} ${color}: p95 target response time over ${settings.verification.maxP95LatencyMs} ms`,
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
        extendedStatistic: "p95",
        period: 60,
        dimensions,
        comparisonOperator: "GreaterThanThreshold",
        threshold: settings.verification.maxP95LatencyMs / 1000,
        evaluationPeriods: config.alarms.evaluationPeriods,
        treatMissingData: "notBreaching",
        alarmActions: [shared.topic.arn],
        okActions: [shared.topic.arn],
      },
      base,
    );
    alarms.push({ name: latency, color, measures: "performance" });
  }

  return {
    targetGroups,
    productionRule,
    testRule,
    logGroup,
    alarms,
    // With a host header the rules match only that host, so checks must use it (its DNS points at the ALB).
    url: pulumi.interpolate`http://${args.aws.hostHeader ?? shared.dnsName}:${args.aws.listenerPort}`,
    testUrl: pulumi.interpolate`http://${args.aws.hostHeader ?? shared.dnsName}:${args.aws.testListenerPort}`,
  };
}
