import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { awsConfigSchema } from "./platforms/aws/config";
import { kubernetesConfigSchema } from "./platforms/kubernetes/config";

/** The platforms a stack can target. `local` runs real processes on this machine, no cloud account. */
export const platforms = ["local", "kubernetes", "aws"] as const;
export type Platform = (typeof platforms)[number];

const relativePath = z
  .string()
  .min(1, "expected a non-empty path")
  .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), {
    message: "expected a path relative to the project folder, without `..`",
  });

const port = z.number().int().min(1024, "expected a port from 1024 to 65532").max(65532);

const checkSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(["technical", "business"]).default("business"),
  method: z.string().optional(),
  path: z.string().startsWith("/", "expected a path starting with /"),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  expect: z
    .strictObject({
      status: z.union([z.number().int(), z.array(z.number().int())]).optional(),
      bodyContains: z.string().optional(),
      bodyMatches: z.string().optional(),
      jsonPath: z.string().optional(),
      equals: z.unknown().optional(),
      version: z.string().optional(),
      maxLatencyMs: z.number().positive().optional(),
    })
    .default({}),
});

/** How a service runs and is checked on this stack. Defaults apply here, nowhere else. */
const serviceSchema = z.strictObject({
  /** Where users are served: the router listens here; the colours use port+1 (blue) and port+2 (green). */
  port,
  /** The command that serves HTTP on $PORT with its data in $DATA_DIR, run inside the build. */
  command: z.array(z.string().min(1)).min(1).default(["node", "server.mjs"]),
  healthPath: z.string().startsWith("/", "expected a path starting with /").default("/health"),
  /** Local platform: the folder holding one sub-folder per build version. */
  artifacts: relativePath.optional(),
  /** Whether the service keeps data (then every release backs it up first). */
  stateful: z.boolean().default(true),
  maxLatencyMs: z.number().positive().default(1000),
  gate: z
    .strictObject({
      consecutiveSuccesses: z.number().int().min(1).default(3),
      failureThreshold: z.number().int().min(1).default(3),
      intervalMs: z.number().int().min(10).default(500),
      timeoutMs: z.number().int().min(100).default(30_000),
    })
    .default({ consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 500, timeoutMs: 30_000 }),
  verification: z
    .strictObject({
      bakeTimeMs: z.number().int().min(0).default(10_000),
      intervalMs: z.number().int().min(10).default(250),
      maxErrorRate: z.number().min(0).max(1).default(0.01),
      maxP95LatencyMs: z.number().positive().default(1000),
    })
    .default({ bakeTimeMs: 10_000, intervalMs: 250, maxErrorRate: 0.01, maxP95LatencyMs: 1000 }),
  /** Business checks (smoke requests) run by the gate and by post-promotion verification. */
  smoke: z.array(checkSchema).default([]),
  /** How long the previous colour stays warm after a switch, so rollback is a routing change. */
  warmWindowMinutes: z.number().int().min(0).default(60),
  /** Backups kept per service (older ones are removed after a new verified backup). */
  keepBackups: z.number().int().min(1).default(5),
});

/** The stack settings the program reads, under the `shipgate:` namespace of the stack's config. */
export const stackConfigSchema = z.strictObject({
  platform: z.enum(platforms).default("local"),
  workDir: relativePath.optional(),
  /** The release manifest this stack releases (a path relative to the project). */
  manifest: relativePath.optional(),
  services: z
    .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lowercase service name"), serviceSchema)
    .default({}),
  notifications: z.strictObject({ webhookUrl: z.url().optional() }).default({}),
  /** Rollback with data restore: the backup id to restore before the switch. */
  restoreBackup: z.string().min(1).optional(),
  /** The kubernetes platform's settings (namespace, runner image, per-service pods): docs/kubernetes.md. */
  kubernetes: kubernetesConfigSchema.optional(),
  /** The aws platform's settings (region, network, cluster, roles, per-service tasks): docs/aws.md. */
  aws: awsConfigSchema.optional(),
});

const stackConfigRules = stackConfigSchema.superRefine((config, ctx) => {
  if (config.platform === "kubernetes" && !config.kubernetes) {
    ctx.addIssue({
      code: "custom",
      path: ["kubernetes"],
      message:
        "expected the kubernetes platform's settings (at least namespace and runnerImage) when shipgate:platform is kubernetes",
    });
  }
  if (config.platform === "aws" && !config.aws) {
    ctx.addIssue({
      code: "custom",
      path: ["aws"],
      message:
        "expected the aws platform's settings (at least region, namePrefix, network, cluster and roles) when shipgate:platform is aws",
    });
  }
  if (config.platform === "aws" && config.notifications.webhookUrl) {
    ctx.addIssue({
      code: "custom",
      path: ["notifications", "webhookUrl"],
      message:
        "expected no webhook on the aws platform: it notifies through the stack's SNS topic; subscribe the webhook to the topic (an HTTPS subscription) and remove this key",
    });
  }
  if (config.platform === "aws" && config.aws) {
    for (const [service, settings] of Object.entries(config.services)) {
      if (settings.stateful && !config.aws.services[service]?.database) {
        ctx.addIssue({
          code: "custom",
          path: ["aws", "services", service, "database"],
          message: `expected the RDS database to snapshot before each release, since shipgate:services.${service}.stateful is true (or set it to false)`,
        });
      }
    }
  }
});

export type ServiceSettings = z.infer<typeof serviceSchema>;
export type StackConfig = Omit<z.infer<typeof stackConfigSchema>, "workDir"> & { workDir: string };

/** Raw `shipgate:*` values as `pulumi config` stores them: strings, or objects for structured keys. */
export type RawStackConfig = Record<string, unknown>;

/** Keys whose values are structured (set with `pulumi config set --path` or as YAML objects). */
const structuredKeys = new Set(["services", "notifications", "kubernetes", "aws"]);

/**
 * Validates the stack's raw `shipgate:*` config. Every problem is reported at once, each naming the
 * config key and what was expected.
 */
export function parseStackConfig(raw: RawStackConfig, stack: string): StackConfig {
  const result = stackConfigRules.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.length > 0 ? `shipgate:${issue.path.map(String).join(".")}` : "shipgate";
      return `  - ${key}: ${issue.message}`;
    });
    throw new Error(
      `Invalid stack config for stack "${stack}":\n${problems.join("\n")}\n` +
        `Fix it with \`npm run pulumi -- config set <key> <value> --stack ${stack}\` or in stacks/Pulumi.${stack}.yaml.`,
    );
  }
  return { ...result.data, workDir: result.data.workDir ?? `.shipgate/${stack}` };
}

/** Reads and validates the current stack's `shipgate:*` config. The only module that reads pulumi.Config. */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config("shipgate");
  const raw: RawStackConfig = {};
  for (const key of Object.keys(stackConfigSchema.shape)) {
    const value = structuredKeys.has(key) ? config.getObject<unknown>(key) : config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseStackConfig(raw, pulumi.getStack());
}
