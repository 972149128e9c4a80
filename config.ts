import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { PLATFORM_NAMES, type PlatformName, type PlatformSettingsSchemas } from "./components/platform";
import {
  SecretValues,
  projectPathSchema,
  secretNameSchema,
  serviceSettingsSchema,
  type ServiceSettings,
} from "./contract";

export type { ServiceSettings };

/** The stack settings the program reads, under the `shipgate:` namespace of the stack's config. */
export const stackConfigSchema = z.strictObject({
  platform: z.enum(PLATFORM_NAMES).default("local"),
  workDir: projectPathSchema.optional(),
  /** The release manifest this stack releases (a path relative to the project). */
  manifest: projectPathSchema.optional(),
  /**
   * Take the stack's services down on purpose: the program declares no release, so `up` stops and
   * removes what the last release started (data, backups and records stay). Only with no manifest.
   */
  retire: z.boolean().optional(),
  services: z
    .record(z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a lowercase service name"), serviceSettingsSchema)
    .default({}),
  notifications: z.strictObject({ webhookUrl: z.url().optional() }).default({}),
  /**
   * The stack's secrets, by name, each set with `pulumi config set --secret shipgate:secrets.<name>`.
   * A manifest's config change names one (`secret: <name>`) to give its value to a service; the value
   * stays a Pulumi secret from here on and is kept out of JSON and logs by SecretValues.
   */
  secrets: z
    .record(z.string(), z.string().min(1, "expected a non-empty secret value"))
    .superRefine((values, ctx) => {
      for (const name of Object.keys(values)) {
        const named = secretNameSchema.safeParse(name);
        if (!named.success)
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: named.error.issues[0]?.message ?? "bad name",
          });
      }
    })
    .default({})
    .transform((values) => new SecretValues(values)),
  /**
   * The stack's policy pack config (the file a pipeline passes as --policy-pack-config), by default
   * policies/config/<stack>.json; its approvals-verified entry holds the trusted keys the program checks
   * approvals against on stacks that are not development stacks. May lie outside the project.
   */
  policyConfig: z.string().min(1, "expected a path to the stack's policy pack config").optional(),
  /**
   * Promote again a release that was switched back: the id of its newest record (as the refusal
   * prints it). Naming the record, not the release, makes a retry count once.
   */
  retry: z.string().min(1).optional(),
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

/** Keys whose values are structured (set with `pulumi config set --path` or as YAML objects) or booleans. */
const structuredKeys = new Set<string>(["services", "notifications", "retire", ...PLATFORM_NAMES]);

/** `shipgate:secrets.<name>` set without `--path` is a flat key of its own; it joins `shipgate:secrets`. */
const flatSecretPrefix = "secrets.";

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

function unknownKeyProblem(key: string, knownKeys: readonly string[]): string {
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
      if (config["retire"] === true && config["manifest"] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["retire"],
          message:
            "expected either a manifest to release or retire: true to take the services down, not both; unset one of them",
        });
      }
      const chosen = config["platform"] as PlatformName;
      if (platformSettings[chosen] && config[chosen] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [chosen],
          message: `expected the ${chosen} platform's settings when shipgate:platform is ${chosen} (docs/${chosen}.md lists them)`,
        });
      }
    });
  const knownKeys = [...Object.keys(stackConfigSchema.shape), ...registered.map(([name]) => name)];
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => {
      if (issue.code === "unrecognized_keys" && issue.path.length === 0)
        return issue.keys.map((key) => unknownKeyProblem(key, knownKeys));
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

/**
 * Every `shipgate:*` key of a config map (as `pulumi.runtime.allConfig()` returns it: strings, JSON for
 * structured values), so that a key the program does not know is refused instead of ignored.
 */
export function rawStackConfig(all: Readonly<Record<string, string>>): RawStackConfig {
  const raw: RawStackConfig = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith("shipgate:")) continue;
    const key = fullKey.slice("shipgate:".length);
    if (key === "secrets" || key.startsWith(flatSecretPrefix)) {
      // Both forms (`--path` makes one object, a plain set one key each) land in one map.
      const before = raw["secrets"];
      const value =
        key === "secrets" ? parseStructured(text) : { [key.slice(flatSecretPrefix.length)]: text };
      raw["secrets"] =
        typeof before === "object" && before !== null && typeof value === "object" && value !== null
          ? { ...before, ...value }
          : value;
      continue;
    }
    raw[key] = structuredKeys.has(key) ? parseStructured(text) : text;
  }
  return raw;
}

/**
 * Refuses secrets stored in plaintext: every `shipgate:secrets` key must have been set with
 * `--secret`, or its value sits readable in the stack's config file. (With `--path`, the engine marks
 * `shipgate:secrets` secret when any one value under it is; set each with `--secret`.)
 */
export function requireEncryptedSecrets(
  all: Readonly<Record<string, string>>,
  isSecret: (key: string) => boolean,
  stack: string,
): void {
  const plaintext = Object.keys(all)
    .filter((key) => key === "shipgate:secrets" || key.startsWith(`shipgate:${flatSecretPrefix}`))
    .filter((key) => !isSecret(key))
    .sort();
  if (plaintext.length === 0) return;
  throw new Error(
    `Invalid stack config for stack "${stack}":\n` +
      plaintext
        .map(
          (key) =>
            `  - ${key}: stored in plaintext in the stack's config; a secret must be set with --secret: ` +
            `\`npm run pulumi -- config set --secret ${key === "shipgate:secrets" ? "shipgate:secrets.<name>" : key} <value> --stack ${stack}\`` +
            ` (and rotate the value if the file was shared)`,
        )
        .join("\n"),
  );
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
 * Whether the engine holds `key` encrypted. The SDK's own `Config.get` asks `runtime.isConfigSecret`
 * to warn about secrets read as plaintext, but does not type it as public: it is looked up here and,
 * should an SDK upgrade drop it, every secret counts as plaintext, so the program refuses loudly
 * instead of trusting a plaintext secret silently.
 */
function configIsSecret(key: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  return typeof runtime.isConfigSecret === "function" && runtime.isConfigSecret(key);
}

/**
 * Reads and validates the current stack's `shipgate:*` config, every key of the namespace. The only
 * module that reads the program's config.
 */
export function loadStackConfig(platformSettings: PlatformSettingsSchemas): StackConfig {
  const all = pulumi.runtime.allConfig();
  requireEncryptedSecrets(all, configIsSecret, pulumi.getStack());
  return parseStackConfig(rawStackConfig(all), pulumi.getStack(), platformSettings);
}
