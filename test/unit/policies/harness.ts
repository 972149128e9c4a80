// Complete validation args for unit-testing policies, the way the policy server builds them: config
// defaults from the policy's configSchema, stack tags, notApplicable, type checks; for stack policies,
// the resource graph with resolved parents and dependencies.
import type {
  PolicyConfigSchema,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

export interface ResourceUnderTest {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies?: string[];
  /** Set for resources captured from a program (its urn carries the stack and the parent's type). */
  readonly urn?: string;
  readonly protect?: boolean;
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
    urn: resource.urn ?? `urn:pulumi:${stack}::shipgate::${resource.type}::${resource.name}`,
    props: resource.props,
    opts: resourceOptions(resource.protect ?? false, resource.parent),
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

// ---------------------------------------------------------------------------------------------
// Stack policies: a resource graph the way the analyzer builds it for analyzeStack, every resource
// with its parent, dependencies and property dependencies as resolved objects.

/** One resource of a graph under test. `dependencies`, `propertyDependencies` and `parent` name other nodes (by urn or name). */
export interface GraphNode {
  readonly type: string;
  readonly name: string;
  readonly props?: Record<string, unknown>;
  /** Set for nodes captured from a program; built from the parent chain otherwise. */
  readonly urn?: string;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  readonly protect?: boolean;
}

function resourceOptions(protect: boolean, parent?: string) {
  return {
    protect,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(parent ? { parent } : {}),
  };
}

/** The PolicyResources of a graph: urns from the parent chain (as the engine writes them), links resolved. */
export function policyResources(nodes: readonly GraphNode[], stack = "local"): PolicyResource[] {
  const byKey = new Map<string, GraphNode>();
  for (const node of nodes) {
    byKey.set(node.name, node);
    if (node.urn) byKey.set(node.urn, node);
  }
  const urns = new Map<GraphNode, string>();
  const urnOf = (node: GraphNode): string => {
    const known = node.urn ?? urns.get(node);
    if (known) return known;
    const parent = node.parent ? byKey.get(node.parent) : undefined;
    const qualified = parent ? `${urnOf(parent).split("::")[2]}$${node.type}` : node.type;
    const urn = `urn:pulumi:${stack}::shipgate::${qualified}::${node.name}`;
    urns.set(node, urn);
    return urn;
  };
  const resources = new Map<GraphNode, PolicyResource>();
  for (const node of nodes) {
    const parentNode = node.parent ? byKey.get(node.parent) : undefined;
    resources.set(node, {
      type: node.type,
      name: node.name,
      urn: urnOf(node),
      props: node.props ?? {},
      opts: resourceOptions(node.protect ?? false, parentNode ? urnOf(parentNode) : undefined),
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    });
  }
  const resolve = (key: string): PolicyResource => {
    const node = byKey.get(key);
    const resource = node ? resources.get(node) : undefined;
    if (!resource) throw new Error(`the graph has no resource ${key}`);
    return resource;
  };
  for (const node of nodes) {
    const resource = resources.get(node) as PolicyResource;
    if (node.parent) resource.parent = resolve(node.parent);
    resource.dependencies = (node.dependencies ?? []).map(resolve);
    resource.propertyDependencies = Object.fromEntries(
      Object.entries(node.propertyDependencies ?? {}).map(([key, deps]) => [key, deps.map(resolve)]),
    );
  }
  return [...resources.values()];
}

export interface StackViolation {
  readonly message: string;
  /** The name of the resource the violation is about, when the policy named one. */
  readonly resource?: string;
}

export interface StackPolicyRun {
  readonly violations: StackViolation[];
  readonly notApplicable?: string;
}

export function stackValidationArgs(
  policy: StackValidationPolicy,
  resources: PolicyResource[],
  options: { config?: Record<string, unknown>; stackTags?: Record<string, string> } = {},
): StackValidationArgs {
  const config = configWithDefaults(policy.configSchema, options.config ?? {});
  return {
    resources,
    stackTags: new Map(Object.entries(options.stackTags ?? {})),
    getConfig: <T extends object>() => config as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason ?? "");
    },
  };
}

/** Runs one stack policy on a graph and returns its violations in order, each with the resource it names. */
export async function runStackPolicy(
  policy: StackValidationPolicy,
  resources: PolicyResource[],
  options?: Parameters<typeof stackValidationArgs>[2],
): Promise<StackPolicyRun> {
  const violations: StackViolation[] = [];
  const names = new Map(resources.map((resource) => [resource.urn, resource.name]));
  try {
    await policy.validateStack(stackValidationArgs(policy, resources, options), (message, urn) => {
      const resource = urn === undefined ? undefined : (names.get(urn) ?? urn);
      violations.push(resource === undefined ? { message } : { message, resource });
    });
  } catch (error) {
    if (error instanceof NotApplicable) return { violations, notApplicable: error.message };
    throw error;
  }
  return { violations };
}
