// Recording mocks for the aws platform's tests: every registration with its inputs and the names of
// the resources it depends on, plausible provider outputs (ARNs, DNS names, the steps' verdicts), and
// a way to stop at one resource as the engine does when its provider fails it: its registration never
// completes, so nothing that depends on it is ever declared.
import * as pulumi from "@pulumi/pulumi";
import { registrationsSettled } from "../../rpcs";

export interface AwsRegistration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly dependsOn: string[];
  readonly ignoreChanges: string[];
  readonly retainOnDelete: boolean;
}

interface RegisterRequest {
  getName(): string;
  getDependenciesList(): string[];
  getIgnorechangesList(): string[];
  getRetainondelete(): boolean;
}

export const account = "123456789012";
export const stepTime = "2026-12-01T09:10:00.000Z";

function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const arn = (kind: string, id: string) => `arn:aws:${kind}:eu-west-1:${account}:${id}`;
  switch (type) {
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        arn: arn("elasticloadbalancing", `loadbalancer/app/${String(inputs["name"])}/50dc6c495c0c9188`),
        dnsName: "shipgate-prod-1234.eu-west-1.elb.amazonaws.com",
      };
    case "aws:lb/targetGroup:TargetGroup":
      return {
        arn: arn("elasticloadbalancing", `targetgroup/${String(inputs["name"])}/73e2d6bc24d8a067`),
        arnSuffix: `targetgroup/${String(inputs["name"])}/73e2d6bc24d8a067`,
      };
    case "aws:lb/listener:Listener":
      return { arn: arn("elasticloadbalancing", `listener/app/shipgate-prod/50dc6c495c0c9188/${name}`) };
    case "aws:lb/listenerRule:ListenerRule":
      return { arn: arn("elasticloadbalancing", `listener-rule/app/shipgate-prod/50dc6c495c0c9188/${name}`) };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { arn: arn("ecs", `task-definition/${String(inputs["family"])}:7`) };
    case "aws:s3/bucket:Bucket":
      return { bucket: "shipgate-prod-records-20261201" };
    case "aws:sns/topic:Topic":
      return { arn: arn("sns", String(inputs["name"])) };
    case "pulumi-nodejs:dynamic/shipgate/aws:Gate":
      return { verdict: "passed", rounds: 3, passedAt: stepTime };
    case "pulumi-nodejs:dynamic/shipgate/aws:Switch":
      return { active: inputs["color"], previous: null, switchedAt: stepTime };
    case "pulumi-nodejs:dynamic/shipgate/aws:Verification":
      return { verdict: "passed", errorRate: 0, p95LatencyMs: 42, verifiedAt: stepTime };
    case "pulumi-nodejs:dynamic/shipgate/aws:Backup":
      return {
        backupId: "sample-app-chg-301-1-1-0-20261201t090000",
        digest: "rds-snapshot:arn",
        createdAt: stepTime,
      };
    case "aws:ssm/parameter:Parameter":
      return { arn: arn("ssm", `parameter${String(inputs["name"])}`) };
    case "pulumi-nodejs:dynamic/shipgate/aws:Record":
      return { location: "s3://shipgate-prod-records-20261201/records/CHG-301.md" };
    default:
      return {};
  }
}

export async function installAwsMocks(stack: string, fail?: (name: string) => boolean) {
  const failing = fail !== undefined;
  const registrations: AwsRegistration[] = [];
  const requests = new Map<
    string,
    { dependsOn: string[]; ignoreChanges: string[]; retainOnDelete: boolean }
  >();
  pulumi.runtime.setAllConfig({});
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { __provider: _serialized, ...inputs } = args.inputs as Record<string, unknown>;
        const request = requests.get(args.name);
        registrations.push({
          type: args.type,
          name: args.name,
          inputs,
          dependsOn: request?.dependsOn ?? [],
          ignoreChanges: request?.ignoreChanges ?? [],
          retainOnDelete: request?.retainOnDelete ?? false,
        });
        if (fail?.(args.name)) return new Promise<never>(() => undefined);
        return { id: `${args.name}-id`, state: { ...inputs, ...outputsFor(args.type, args.name, inputs) } };
      },
      call(args) {
        return args.inputs;
      },
    },
    "shipgate",
    stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (request: RegisterRequest, callback: unknown) => unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    requests.set(request.getName(), {
      dependsOn: request
        .getDependenciesList()
        .map((urn) => urn.slice(urn.lastIndexOf("::") + 2))
        .sort(),
      ignoreChanges: request.getIgnorechangesList(),
      retainOnDelete: request.getRetainondelete(),
    });
    return register(request, callback);
  };
  return {
    registrations,
    /** The AWS resources and aws steps registered (not the components), as `type name`. */
    resources: () =>
      registrations
        .filter(
          (r) =>
            r.type.startsWith("aws:") ||
            r.type.startsWith("pulumi-nodejs:dynamic/shipgate/aws:") ||
            r.type === "pulumi:providers:aws",
        )
        .map((r) => `${r.type} ${r.name}`),
    byName(name: string): AwsRegistration {
      const found = registrations.find((r) => r.name === name);
      if (!found) throw new Error(`no registration named ${name}`);
      return found;
    },
    /**
     * Everything the program declared has registered. With a failed step the runtime never finishes
     * (its dependents wait forever, as the engine's would stop), so then the wait is for the
     * registrations to stop coming: counted in turns of the event loop, not in time.
     */
    async settle(): Promise<void> {
      if (!failing) return registrationsSettled();
      let last = -1;
      for (let quiet = 0; quiet < 50;) {
        await new Promise((resolve) => setImmediate(resolve));
        quiet = registrations.length === last ? quiet + 1 : 0;
        last = registrations.length;
      }
    },
  };
}
