import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { PLATFORM_NAMES, type PlatformName, type PlatformSettingsSchemas } from "./components/platform";
import { projectPathSchema, serviceSettingsSchema, type ServiceSettings } from "./contract";

export type { ServiceSettings };

/** The stack settings the program reads, under the `shipgate:` namespace of the stack's config. */
export const stackConfigSchema = z.strictObject({
  platform: z.enum(PLATFORM_NAMES).default("local"),
  workDir: projectPathSchema.optional(),
  /** The release manifest this stack releases (a path relative to the project). */
  manifest: projectPathSchema.optional(),
  services: z
    .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lowercase service name"), serviceSettingsSchema)
    .default({}),
  notifications: z.strictObject({ webhookUrl: z.url().optional() }).default({}),
  /** Rollback with data restore: the backup id to restore before the switch. */
  restoreBackup: z.string().min(1).optional(),
});

export type StackConfig = Omit<z.infer<typeof stackConfigSchema>, "workDir"> & {
  workDir: string;
  /** `shipgate:<platform>` of the stack's platform, validated by that platform's schema (undefined: none). */
  platformSettings: unknown;
};

/** Raw `shipgate:*` values as `pulumi config` stores them: strings, or objects for structured keys. */
export type RawStackConfig = Record<string, unknown>;

/** Keys whose values are structured (set with `pulumi config set --path` or as YAML objects). */
const structuredKeys = new Set<string>(["services", "notifications", ...PLATFORM_NAMES]);

/**
 * Validates the stack's raw `shipgate:*` config. Every problem is reported at once, each naming the
 * config key and what was expected.
 */
export function parseStackConfig(
  raw: RawStackConfig,
  stack: string,
  platformSettings: PlatformSettingsSchemas = {},
): StackConfig {
  // Each platform's own settings live under a key named after it (`shipgate:kubernetes`); its
  // adapter brings their schema, so this module names no platform.
  const registered = Object.entries(platformSettings) as [PlatformName, z.ZodType][];
  const schema = stackConfigSchema
    .extend(Object.fromEntries(registered.map(([name, settings]) => [name, settings.optional()])))
    .superRefine((config: Record<string, unknown>, ctx) => {
      const chosen = config["platform"] as PlatformName;
      if (platformSettings[chosen] && config[chosen] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [chosen],
          message: `expected the ${chosen} platform's settings when shipgate:platform is ${chosen} (docs/${chosen}.md lists them)`,
        });
      }
    });
  const result = schema.safeParse(raw);
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
  const data = result.data as z.infer<typeof stackConfigSchema> & Partial<Record<PlatformName, unknown>>;
  const base = Object.fromEntries(
    Object.entries(data).filter(([key]) => !(PLATFORM_NAMES as readonly string[]).includes(key)),
  ) as z.infer<typeof stackConfigSchema>;
  return { ...base, workDir: data.workDir ?? `.shipgate/${stack}`, platformSettings: data[data.platform] };
}

/** Reads and validates the current stack's `shipgate:*` config. The only module that reads pulumi.Config. */
export function loadStackConfig(platformSettings: PlatformSettingsSchemas): StackConfig {
  const config = new pulumi.Config("shipgate");
  const raw: RawStackConfig = {};
  for (const key of [...Object.keys(stackConfigSchema.shape), ...Object.keys(platformSettings)]) {
    const value = structuredKeys.has(key) ? config.getObject<unknown>(key) : config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseStackConfig(raw, pulumi.getStack(), platformSettings);
}
