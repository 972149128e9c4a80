// Complete validation args for unit-testing resource policies, the way the policy server builds
// them: config defaults from the policy's configSchema, stack tags, notApplicable, type checks.
import type { PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

export interface ResourceUnderTest {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies?: string[];
}

export interface PolicyRun {
  readonly violations: string[];
  /** The reason given to notApplicable(), when the policy called it. */
  readonly notApplicable?: string;
}

class NotApplicable extends Error {}

function configWithDefaults(schema: PolicyConfigSchema | undefined, config: Record<string, unknown>) {
  const defaults: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema?.properties ?? {})) {
    if (typeof property === "object" && property !== null && "default" in property) {
      defaults[key] = property.default;
    }
  }
  return { ...defaults, ...config };
}

export function validationArgs(
  policy: ResourceValidationPolicy,
  resource: ResourceUnderTest,
  options: { config?: Record<string, unknown>; stack?: string; stackTags?: Record<string, string> } = {},
): ResourceValidationArgs {
  const stack = options.stack ?? "local";
  const config = configWithDefaults(policy.configSchema, options.config ?? {});
  return {
    type: resource.type,
    name: resource.name,
    urn: `urn:pulumi:${stack}::shipgate::${resource.type}::${resource.name}`,
    props: resource.props,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
      ...(resource.parent ? { parent: resource.parent } : {}),
    },
    stackTags: new Map(Object.entries(options.stackTags ?? {})),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason ?? "");
    },
  };
}

/** Runs one resource policy on one resource and returns its violations in order. */
export async function runResourcePolicy(
  policy: ResourceValidationPolicy,
  resource: ResourceUnderTest,
  options?: Parameters<typeof validationArgs>[2],
): Promise<PolicyRun> {
  const violations: string[] = [];
  const validate = policy.validateResource;
  const validations = validate === undefined ? [] : Array.isArray(validate) ? validate : [validate];
  try {
    for (const validation of validations) {
      await validation(validationArgs(policy, resource, options), (message) => violations.push(message));
    }
  } catch (error) {
    if (error instanceof NotApplicable) return { violations, notApplicable: error.message };
    throw error;
  }
  return { violations };
}
