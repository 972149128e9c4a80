// The aws platform's stack settings, under `shipgate:aws` in the stack's config. The program's config
// module reads the raw value and validates it with this schema; the per-service settings shared by
// every platform (health path, gate, verification, smoke, warm window, stateful) stay in
// `shipgate:services`. Secrets are never settings: task secrets are referenced by ARN, and AWS
// credentials come from the default chain of the process that runs the engine.
import { z } from "zod";
import { namesFit } from "./names";

/** An image pinned by digest: `<repository>@sha256:<64 hex>`. Tags move; digests do not. */
const arn = (service: string) =>
  z
    .string()
    .regex(
      new RegExp(`^arn:aws[a-z-]*:${service}:`),
      `expected an ARN of ${service} (arn:aws:${service}:...)`,
    );

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, "expected lowercase letters, digits and -, starting with a letter");

const awsServiceSchema = z.strictObject({
  /** The port the container listens on; target groups send traffic there. */
  containerPort: z.number().int().min(1).max(65535).default(8080),
  /** Fargate task size: CPU units and MiB, as ECS accepts them (256/512, 512/1024, ...). */
  cpu: z.number().int().min(256).default(256),
  memory: z.number().int().min(512).default(512),
  desiredCount: z.number().int().min(1).default(2),
  /** The ALB port users reach (production listener) and the one gates reach (test listener). */
  listenerPort: z.number().int().min(1).max(65535).default(80),
  testListenerPort: z.number().int().min(1).max(65535).default(9000),
  /** The rules' priority on both listeners (unique per listener; 1 to 50000). */
  rulePriority: z.number().int().min(1).max(50_000).default(100),
  /** Route only this host to the service (an ALB shared by services); every host when unset. */
  hostHeader: z.string().min(1).optional(),
  /** Seconds the ALB lets requests in flight finish on a target leaving it (AWS's default 300 s is long). */
  deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(30),
  /** Overrides the image's command in the service's tasks. */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Runs the release's migrations in its image (a one-off ECS task, $MIGRATIONS and $BACKUP_ID set). */
  migrationCommand: z.array(z.string().min(1)).min(1).optional(),
  /** Environment variables from Secrets Manager or SSM by ARN: the task reads them, state never holds them. */
  secrets: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name"),
      z
        .string()
        .regex(/^arn:aws[a-z-]*:(secretsmanager|ssm):/, "expected a Secrets Manager or SSM parameter ARN"),
    )
    .default({}),
  /** The RDS database a stateful service keeps its data in: snapshotted before every release. */
  database: z
    .strictObject({
      kind: z
        .enum(["instance", "cluster"], 'expected "instance" (RDS) or "cluster" (Aurora)')
        .default("instance"),
      identifier: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/, "expected an RDS DB instance or cluster identifier"),
      /** How long a snapshot may take to become available. */
      snapshotTimeoutMinutes: z.number().int().min(1).default(60),
    })
    .optional(),
});

export const awsConfigSchema = z
  .strictObject({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "expected an AWS region such as eu-west-1"),
    /** Names every object of the stack (target groups, services, alarms): at most 32 characters with a service's name. */
    namePrefix: name.max(20, "expected at most 20 characters"),
    /** An API endpoint for an emulator (moto_server); AWS's own endpoints when unset. */
    endpoint: z.url("expected a URL such as http://127.0.0.1:45000").optional(),
    network: z.strictObject({
      vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, "expected a VPC id (vpc-...)"),
      /** The subnets of the ALB (when shipgate creates it) and of the tasks: two zones at least. */
      subnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]+$/, "expected a subnet id (subnet-...)"))
        .min(2, "expected at least two subnets in two zones"),
      /** Tasks in public subnets without a NAT need a public IP to pull images. */
      assignPublicIp: z.boolean().default(false),
      /** An internal ALB is reachable only inside the VPC: the engine must run there to gate it. */
      internal: z.boolean().default(false),
    }),
    /** Use an existing ALB and its listeners instead of creating them (rules are added to them). */
    existingLoadBalancer: z
      .strictObject({
        arn: arn("elasticloadbalancing"),
        dnsName: z.string().min(1),
        securityGroupId: z.string().regex(/^sg-[0-9a-f]+$/, "expected a security group id (sg-...)"),
        productionListenerArn: arn("elasticloadbalancing"),
        testListenerArn: arn("elasticloadbalancing"),
      })
      .optional(),
    /** The ECS cluster the services run in (it must exist). */
    cluster: name,
    roles: z.strictObject({
      /** Lets ECS pull the image, write logs and read the task's secrets. */
      executionRoleArn: arn("iam"),
      /** What the application itself may call; none when unset. */
      taskRoleArn: arn("iam").optional(),
    }),
    /** CloudWatch alarms per colour; their thresholds come from shipgate:services.<name>.verification. */
    alarms: z
      .strictObject({
        /** Minutes of data each alarm evaluates. */
        evaluationPeriods: z.number().int().min(1).max(60).default(2),
      })
      .default({ evaluationPeriods: 2 }),
    /** How long an ECS service may take to become steady (all tasks healthy in its target group). */
    deployTimeoutMinutes: z.number().int().min(1).default(20),
    services: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lowercase service name"), awsServiceSchema)
      .default({}),
  })
  .superRefine((config, ctx) => {
    for (const service of Object.keys(config.services)) {
      if (!namesFit(config.namePrefix, service)) {
        ctx.addIssue({
          code: "custom",
          path: ["services", service],
          message: `expected namePrefix and service name to fit a target group name: "${config.namePrefix}-${service}-green" is over 32 characters`,
        });
      }
    }
    const ports = new Map<number, string>();
    for (const [service, settings] of Object.entries(config.services)) {
      for (const [key, port] of [
        ["listenerPort", settings.listenerPort],
        ["testListenerPort", settings.testListenerPort],
      ] as const) {
        const other = ports.get(port);
        if (other && !config.existingLoadBalancer) {
          ctx.addIssue({
            code: "custom",
            path: ["services", service, key],
            message: `expected a port no other listener uses; ${port} is already ${other}`,
          });
        }
        ports.set(port, `${service}.${key}`);
      }
    }
  });

export type AwsConfig = z.infer<typeof awsConfigSchema>;
export type AwsServiceConfig = z.infer<typeof awsServiceSchema>;

export const defaultAwsService: AwsServiceConfig = awsServiceSchema.parse({});

/** Validates `shipgate:aws`, naming each key that is wrong and what was expected. */
export function parseAwsConfig(raw: unknown): AwsConfig {
  const result = awsConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = ["shipgate:aws", ...issue.path.map(String)].join(".");
      return `  - ${key}: ${issue.message}`;
    });
    throw new Error(`Invalid aws platform config:\n${problems.join("\n")}`);
  }
  return result.data;
}
