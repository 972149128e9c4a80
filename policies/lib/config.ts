// Policy config with its defaults applied in one place: the engine fills in schema defaults for
// properties the pack config leaves out, and unit tests and older engines may not, so every policy
// reads its config through here.
import type { PolicyConfigSchema } from "@pulumi/policy";

export function withDefaults<T extends object>(defaults: T, config: object): T {
  const given = Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
  return { ...defaults, ...given } as T;
}

/** The JSON schema of a policy's config, with each property's default taken from `defaults`. */
export function configSchema<T extends object>(
  defaults: T,
  properties: Record<keyof T & string, Record<string, unknown>>,
): PolicyConfigSchema {
  return {
    properties: Object.fromEntries(
      Object.entries(properties).map(([key, schema]) => [
        key,
        { ...(schema as object), default: (defaults as Record<string, unknown>)[key] },
      ]),
    ),
  } as PolicyConfigSchema;
}

/** JSON schema of a list of strings. */
export const stringList = { type: "array", items: { type: "string" } } as const;

/** JSON schema of a map from deployment type to a list of strings. */
export const listPerDeploymentType = {
  type: "object",
  additionalProperties: { type: "array", items: { type: "string" } },
} as const;
