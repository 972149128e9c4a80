// What a colour runs on ECS: its task definition (with its secrets as SSM parameters of its own) and
// its ECS service behind the colour's target group; and the task definition a data migration runs
// as a one-off task in the release's image. Both task definitions share one shape (Fargate, the
// stack's roles, the service's size, logs to the service's log group), written once here.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ArtifactRef, Color, SlotSpec } from "../../../components/platform";
import type { AwsConfig, AwsServiceConfig } from "../config";
import { awsNames, slotSpecLabel } from "../names";
import type { ServiceRouter, SharedObjects } from "../router";

interface ContainerSecret {
  readonly name: string;
  readonly valueFrom: pulumi.Input<string>;
}

interface TaskDefinitionArgs {
  readonly config: AwsConfig;
  readonly service: string;
  readonly family: string;
  readonly tags: Record<string, string>;
  readonly settings: AwsServiceConfig;
  readonly router: ServiceRouter;
  /** The container's own fields besides its name, secrets and logs. */
  readonly container: Record<string, unknown>;
  /** Docker labels of the container, if any. */
  readonly labels?: Record<string, string>;
  readonly secrets: readonly ContainerSecret[];
  readonly logPrefix: string;
}

function declareTaskDefinition(
  name: string,
  args: TaskDefinitionArgs,
  opts: pulumi.CustomResourceOptions,
): aws.ecs.TaskDefinition {
  const { config, service, settings } = args;
  return new aws.ecs.TaskDefinition(
    name,
    {
      family: args.family,
      tags: args.tags,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(settings.cpu),
      memory: String(settings.memory),
      executionRoleArn: config.roles.executionRoleArn,
      ...(config.roles.taskRoleArn ? { taskRoleArn: config.roles.taskRoleArn } : {}),
      containerDefinitions: pulumi.jsonStringify([
        {
          name: service,
          ...args.container,
          secrets: [
            ...Object.entries(settings.secrets).map(([key, valueFrom]) => ({ name: key, valueFrom })),
            ...args.secrets,
          ],
          ...(args.labels ? { dockerLabels: args.labels } : {}),
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": args.router.logGroup.name,
              "awslogs-region": config.region,
              "awslogs-stream-prefix": args.logPrefix,
            },
          },
        },
      ]),
    },
    opts,
  );
}

export interface ColorServiceArgs {
  readonly name: string;
  readonly service: string;
  readonly color: Color;
  readonly spec: SlotSpec;
  readonly secrets: pulumi.Input<Readonly<Record<string, string>>> | undefined;
  readonly settings: AwsServiceConfig;
  readonly config: AwsConfig;
  readonly router: ServiceRouter;
  readonly shared: SharedObjects;
  readonly names: ReturnType<typeof awsNames>;
  /** Options of the colour's aws resources. */
  readonly opts: pulumi.CustomResourceOptions;
  /** Options of its ECS service (which waits for the test listener rule as well). */
  readonly serviceOpts: pulumi.CustomResourceOptions;
}

/** The colour's task definition and ECS service; the service is ready when every task is healthy. */
export function declareColorService(args: ColorServiceArgs): aws.ecs.Service {
  const { name, service, color, spec, settings, config, router, names } = args;
  // A secret variable's value goes into an SSM SecureString parameter of the colour's own (a Pulumi
  // secret, so state holds ciphertext), which the task reads as a container secret: the task
  // definition names the parameter, never the value. A variable without a value (a kept colour
  // whose secret was rotated) fails the declaration rather than run the build with another value.
  const secretParameters = Object.keys(spec.secretEnv ?? {})
    .sort()
    .map((variable) => {
      const value = pulumi.output(args.secrets ?? {}).apply((values) => {
        const found = values[variable];
        if (found === undefined) {
          throw new Error(
            `the ${color} colour of ${service} (${spec.version}) runs with a value of ${variable} that the ` +
              `stack's secrets no longer hold (rotated since it was released); release the current manifest`,
          );
        }
        return found;
      });
      const parameter = new aws.ssm.Parameter(
        `${name}-secret-${variable}`,
        {
          name: names.secretParameter(color, variable),
          type: "SecureString",
          value: pulumi.secret(value),
          tags: { "shipgate:service": service, "shipgate:color": color },
        },
        args.opts,
      );
      return { name: variable, valueFrom: parameter.arn };
    });
  const environment = [
    ...Object.keys(spec.env)
      .sort()
      .map((key) => ({ name: key, value: spec.env[key] as string })),
    { name: "SHIPGATE_COLOR", value: color },
    { name: "SHIPGATE_VERSION", value: spec.version },
    { name: "PORT", value: String(settings.containerPort) },
  ];
  const taskDefinition = declareTaskDefinition(
    `${name}-task`,
    {
      config,
      service,
      family: names.family(color),
      tags: { "shipgate:service": service, "shipgate:color": color, "shipgate:version": spec.version },
      settings,
      router,
      container: {
        // Pinned by digest, never a tag: the build the gate checked is the build users get.
        image: `${spec.artifact.source}@${spec.artifact.digest}`,
        essential: true,
        ...(settings.command ? { command: settings.command } : {}),
        portMappings: [{ containerPort: settings.containerPort, protocol: "tcp" }],
        environment,
      },
      // The slot spec rides along, so observe() reads what this colour runs from AWS itself.
      labels: { [slotSpecLabel]: JSON.stringify(spec) },
      secrets: secretParameters,
      logPrefix: color,
    },
    args.opts,
  );
  return new aws.ecs.Service(
    name,
    {
      name: names.ecsService(color),
      cluster: config.cluster,
      taskDefinition: taskDefinition.arn,
      desiredCount: settings.desiredCount,
      launchType: "FARGATE",
      networkConfiguration: {
        subnets: config.network.subnetIds,
        securityGroups: [args.shared.tasksSecurityGroup.id],
        assignPublicIp: config.network.assignPublicIp,
      },
      loadBalancers: [
        {
          targetGroupArn: router.targetGroups[color].arn,
          containerName: service,
          containerPort: settings.containerPort,
        },
      ],
      // The slot is ready when every task is healthy in its target group; a build that never gets
      // there is rolled back by ECS and fails the update before any gate.
      waitForSteadyState: true,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriodSeconds: 30,
      propagateTags: "SERVICE",
      tags: { "shipgate:service": service, "shipgate:color": color, "shipgate:version": spec.version },
    },
    {
      ...args.serviceOpts,
      customTimeouts: {
        create: `${config.deployTimeoutMinutes}m`,
        update: `${config.deployTimeoutMinutes}m`,
      },
    },
  );
}

export interface MigrationTaskArgs {
  readonly config: AwsConfig;
  readonly service: string;
  readonly artifact: ArtifactRef;
  readonly router: ServiceRouter;
  readonly settings: AwsServiceConfig;
  readonly opts: pulumi.CustomResourceOptions;
}

/** The task definition a data migration runs as a one-off ECS task, in the release's image. */
export function declareMigrationTask(name: string, args: MigrationTaskArgs): aws.ecs.TaskDefinition {
  return declareTaskDefinition(
    name,
    {
      config: args.config,
      service: args.service,
      family: awsNames(args.config.namePrefix, args.service).taskFamily("migrate"),
      tags: { "shipgate:service": args.service, "shipgate:purpose": "migration" },
      settings: args.settings,
      router: args.router,
      container: { image: `${args.artifact.source}@${args.artifact.digest}`, essential: true },
      secrets: [],
      logPrefix: "migrate",
    },
    args.opts,
  );
}
