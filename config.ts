import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** The platforms a stack can target. `local` runs real processes on this machine, no cloud account. */
export const platforms = ["local", "kubernetes", "aws"] as const;
export type Platform = (typeof platforms)[number];

const relativePath = z
  .string()
  .min(1, "expected a non-empty path")
  .refine((p) => !p.startsWith("/") && !p.split(/[\\/]/).includes(".."), {
    message: "expected a path relative to the project folder, without `..`",
  });

/** The stack settings the program reads, under the `shipgate:` namespace of the stack's config. */
export const stackConfigSchema = z.object({
  platform: z.enum(platforms).default("local"),
  workDir: relativePath.optional(),
});

export type StackConfig = z.infer<typeof stackConfigSchema> & { workDir: string };

/** Raw `shipgate:*` values as `pulumi config` stores them: strings, or objects for structured keys. */
export type RawStackConfig = Record<string, unknown>;

/**
 * Validates the stack's raw `shipgate:*` config. Every problem is reported at once, each naming the
 * config key and what was expected.
 */
export function parseStackConfig(raw: RawStackConfig, stack: string): StackConfig {
  const result = stackConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = `shipgate:${issue.path.map(String).join(".")}`;
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
    const value = config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseStackConfig(raw, pulumi.getStack());
}
