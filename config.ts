import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
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
  /**
   * Take the stack's services down on purpose: the program declares no release, so `up` stops and
   * removes what the last release started (data, backups and records stay). Only with no manifest.
   */
  retire: z.boolean().optional(),
  services: z
    .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lowercase service name"), serviceSchema)
    .default({}),
  notifications: z.strictObject({ webhookUrl: z.url().optional() }).default({}),
  /**
   * The stack's policy pack config (the file a pipeline passes as --policy-pack-config), by default
   * policies/config/<stack>.json; its approvals-verified entry holds the trusted keys the program checks
   * approvals against on stacks that are not development stacks. May lie outside the project.
   */
  policyConfig: z.string().min(1, "expected a path to the stack's policy pack config").optional(),
  /** Rollback with data restore: the backup id to restore before the switch. */
  restoreBackup: z.string().min(1).optional(),
  /** The kubernetes platform's settings (namespace, runner image, per-service pods): docs/kubernetes.md. */
  kubernetes: kubernetesConfigSchema.optional(),
});

const stackConfigRules = stackConfigSchema.superRefine((config, ctx) => {
  if (config.retire === true && config.manifest !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["retire"],
      message:
        "expected either a manifest to release or retire: true to take the services down, not both; unset one of them",
    });
  }
  if (config.platform === "kubernetes" && !config.kubernetes) {
    ctx.addIssue({
      code: "custom",
      path: ["kubernetes"],
      message:
        "expected the kubernetes platform's settings (at least namespace and runnerImage) when shipgate:platform is kubernetes",
    });
  }
});

export type ServiceSettings = z.infer<typeof serviceSchema>;
export type StackConfig = Omit<z.infer<typeof stackConfigSchema>, "workDir"> & { workDir: string };

/** Raw `shipgate:*` values as `pulumi config` stores them: strings, or objects for structured keys. */
export type RawStackConfig = Record<string, unknown>;

/** Keys whose values are structured (set with `pulumi config set --path` or as YAML objects) or booleans. */
const structuredKeys = new Set(["services", "notifications", "kubernetes", "retire"]);

const knownKeys: readonly string[] = Object.keys(stackConfigSchema.shape);

/** Edit distance, to suggest the key a misspelt one was meant to be. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function unknownKeyProblem(key: string): string {
  const closest = [...knownKeys].sort((a, b) => editDistance(key, a) - editDistance(key, b))[0];
  const hint =
    closest !== undefined && editDistance(key.toLowerCase(), closest.toLowerCase()) <= 2
      ? ` (did you mean shipgate:${closest}?)`
      : "";
  return (
    `  - shipgate:${key}: unknown key${hint}; shipgate reads only ` +
    knownKeys.map((known) => `shipgate:${known}`).join(", ") +
    `. Remove it with \`npm run pulumi -- config rm shipgate:${key}\``
  );
}

/**
 * Validates the stack's raw `shipgate:*` config. Every problem is reported at once, each naming the
 * config key and what was expected.
 */
export function parseStackConfig(raw: RawStackConfig, stack: string): StackConfig {
  const result = stackConfigRules.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => {
      if (issue.code === "unrecognized_keys" && issue.path.length === 0)
        return issue.keys.map(unknownKeyProblem);
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

/**
 * Every `shipgate:*` key of a config map (as `pulumi.runtime.allConfig()` returns it: strings, JSON for
 * structured values), so that a key the program does not know is refused instead of ignored.
 */
export function rawStackConfig(all: Readonly<Record<string, string>>): RawStackConfig {
  const raw: RawStackConfig = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith("shipgate:")) continue;
    const key = fullKey.slice("shipgate:".length);
    raw[key] = structuredKeys.has(key) ? parseStructured(text) : text;
  }
  return raw;
}

function parseStructured(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Left as text: the schema then says which shape was expected.
    return text;
  }
}

/** What the stack's config asks the program to do: release a manifest, or take the services down. */
export type ReleaseIntent =
  { readonly kind: "release"; readonly manifest: string } | { readonly kind: "retire" };

/**
 * A stack with no manifest must say so on purpose: a missing or misspelt `shipgate:manifest` would
 * otherwise declare no release, and `up` would delete the running services. Throws unless the config
 * names a manifest or sets `shipgate:retire: true`.
 */
export function releaseIntent(config: StackConfig, stack: string): ReleaseIntent {
  if (config.manifest !== undefined) return { kind: "release", manifest: config.manifest };
  if (config.retire === true) return { kind: "retire" };
  throw new Error(
    `Stack "${stack}" names no release manifest (shipgate:manifest is not set), so shipgate refuses to run: ` +
      `an update without a release would stop and remove the services that run now.\n` +
      `  - to release: \`npm run pulumi -- config set shipgate:manifest releases/<service>/<version>.yaml --stack ${stack}\`\n` +
      `  - to take the services down on purpose: \`npm run pulumi -- config set shipgate:retire true --stack ${stack}\` ` +
      `and run \`up\` (data, backups and records stay), or \`npm run pulumi -- destroy --stack ${stack}\`.`,
  );
}

/**
 * Reads and validates the current stack's `shipgate:*` config, every key of the namespace. The only
 * module that reads the program's config.
 */
export function loadStackConfig(): StackConfig {
  return parseStackConfig(rawStackConfig(pulumi.runtime.allConfig()), pulumi.getStack());
}
