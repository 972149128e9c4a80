// The real program under Pulumi mocks, seen the way the policy analyzer sees it: every registration
// with its urn, parent, dependencies and property dependencies (the SDK computes them before the
// request reaches the monitor, so they are the engine's), and the pack's policies evaluated on it.
import { registrationsSettled } from "../rpcs";
import * as pulumi from "@pulumi/pulumi";
import type { EnforcementLevel, Policies, Policy, StackValidationPolicy } from "@pulumi/policy";
import { vi } from "vitest";
import type { AwsObserveReader } from "../../../platforms/aws/observe-reader";
import type { ClusterReader } from "../../../platforms/kubernetes/observe";
import {
  type GraphNode,
  policyResources,
  runResourcePolicy,
  runStackPolicy,
  type ResourceUnderTest,
} from "./harness";

/** A registration as the monitor received it. */
export interface CapturedResource extends GraphNode {
  readonly urn: string;
  readonly custom: boolean;
  readonly props: Record<string, unknown>;
  readonly dependencies: string[];
  readonly propertyDependencies: Record<string, string[]>;
  readonly protect: boolean;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
}
type Callback = (error: unknown, response?: { getUrn(): string }) => void;
interface Monitor {
  registerResource(request: RegisterRequest, callback: Callback): unknown;
}

export interface ProgramRun {
  readonly resources: CapturedResource[];
  /** The error the program threw, if it did not finish. */
  readonly error?: unknown;
}

export interface ProgramOptions {
  readonly stack?: string;
  readonly project?: string;
  /**
   * What the kubernetes platform's observe() reads from the cluster, in place of its kubectl call
   * (a stack with `shipgate:platform: kubernetes` plans from what is live, and unit tests have no cluster).
   */
  readonly clusterReader?: ClusterReader;
  /** What the aws platform's observe() reads from AWS, in place of its child process. */
  readonly awsReader?: AwsObserveReader;
}

/**
 * Runs the project's program (index.ts) for `stack` with the given stack config (values as
 * `pulumi config` stores them: strings, JSON for objects) and returns what it registered.
 */
export async function runProgram(
  config: Record<string, string>,
  { stack = "local", project = "shipgate", clusterReader, awsReader }: ProgramOptions = {},
): Promise<ProgramRun> {
  vi.resetModules();
  vi.doUnmock("../../../platforms/kubernetes/observe");
  if (clusterReader) {
    vi.doMock("../../../platforms/kubernetes/observe", async (importOriginal) => ({
      ...(await importOriginal<typeof import("../../../platforms/kubernetes/observe")>()),
      kubectlReader: clusterReader,
    }));
  }
  vi.doUnmock("../../../platforms/aws/observe-reader");
  if (awsReader) {
    vi.doMock("../../../platforms/aws/observe-reader", async (importOriginal) => ({
      ...(await importOriginal<typeof import("../../../platforms/aws/observe-reader")>()),
      awsObserveReader: () => awsReader,
    }));
  }
  const inputs = new Map<string, Record<string, unknown>>();
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputs.set(`${args.type}::${args.name}`, { ...args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs } };
      },
      call: (args) => args.inputs,
    },
    project,
    stack,
    false,
  );
  const resources: CapturedResource[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) =>
    register(request, (error, response) => {
      if (response) {
        const propertyDependencies: Record<string, string[]> = {};
        request.getPropertydependenciesMap().forEach((value, key) => {
          propertyDependencies[key] = value.getUrnsList();
        });
        const type = request.getType();
        const name = request.getName();
        resources.push({
          type,
          name,
          urn: response.getUrn(),
          custom: request.getCustom(),
          props: inputs.get(`${type}::${name}`) ?? {},
          ...(request.getParent() ? { parent: request.getParent() } : {}),
          dependencies: request.getDependenciesList(),
          propertyDependencies,
          protect: request.getProtect() === true,
        });
      }
      callback(error, response);
    });
  let error: unknown;
  try {
    await import("../../../index");
  } catch (thrown) {
    error = thrown;
  }
  await registrationsSettled();
  return error === undefined ? { resources } : { resources, error };
}

export interface PackViolation {
  readonly policy: string;
  readonly level: EnforcementLevel;
  /** The resource the violation is about (a resource policy's resource, or the one a stack policy named). */
  readonly resource?: string;
  readonly message: string;
}

const isStackPolicy = (policy: Policy): policy is StackValidationPolicy => "validateStack" in policy;

/**
 * Evaluates policies on a captured program the way the analyzer does: resource policies on every
 * resource, stack policies once on the whole graph; `config` is the pack's config (per policy, with
 * an optional enforcementLevel, as in policies/config/<stack>.json).
 */
export async function evaluatePack(
  policies: Policies,
  resources: readonly CapturedResource[],
  config: Record<string, Record<string, unknown>> = {},
): Promise<PackViolation[]> {
  const violations: PackViolation[] = [];
  const stack = resources[0]?.urn.split("::")[0]?.slice("urn:pulumi:".length) ?? "local";
  const graph = policyResources(resources, stack);
  for (const policy of policies) {
    const { enforcementLevel, ...policyConfig } = config[policy.name] ?? {};
    const level = (enforcementLevel ?? policy.enforcementLevel ?? "advisory") as EnforcementLevel;
    if (level === "disabled") continue;
    if (isStackPolicy(policy)) {
      const run = await runStackPolicy(policy, graph, { config: policyConfig });
      for (const violation of run.violations) violations.push({ policy: policy.name, level, ...violation });
      continue;
    }
    for (const resource of resources) {
      const underTest: ResourceUnderTest = {
        type: resource.type,
        name: resource.name,
        urn: resource.urn,
        props: resource.props,
        protect: resource.protect,
        ...(resource.parent ? { parent: resource.parent } : {}),
      };
      const run = await runResourcePolicy(policy, underTest, { config: policyConfig, stack });
      for (const message of run.violations) {
        violations.push({ policy: policy.name, level, resource: resource.name, message });
      }
    }
  }
  return violations;
}
