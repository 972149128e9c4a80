// What AWS runs now for a service, with read-only calls: the production listener rule (found by its
// tags on the listener of the production port) says which colour users reach and when they last
// moved; each colour's ECS service runs a task definition whose container label carries the slot
// spec. Used at program time (previews included), so it never changes anything.
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { awsNames, slotSpecLabel, type Color } from "../names";
import { COLORS, readTags, routeOf, ruleTags, type TargetGroups } from "./traffic";

export interface ObservedSlot {
  readonly version: string;
  readonly artifact: { readonly source: string; readonly version: string; readonly digest: string };
  readonly env: Readonly<Record<string, string>>;
  /** Secret variables with their values' fingerprints (the values are in SSM), when there are any. */
  readonly secretEnv?: Readonly<Record<string, string>>;
}

export interface ObservedAwsService {
  readonly active: Color | null;
  readonly slots: Readonly<Partial<Record<Color, ObservedSlot>>>;
  readonly switchedAt: string | null;
  /** When a failed verification last sent users back (the rule's tag), or null. */
  readonly rolledBackAt: string | null;
  /** The rule answers the maintenance response now. */
  readonly maintenance: boolean;
}

export interface ObserveArgs {
  readonly prefix: string;
  readonly service: string;
  readonly cluster: string;
  readonly productionPort: number;
}

function asSlot(raw: string | undefined): ObservedSlot | undefined {
  if (raw === undefined) return undefined;
  try {
    const spec = JSON.parse(raw) as Partial<ObservedSlot>;
    const artifact = spec.artifact;
    if (
      typeof spec.version !== "string" ||
      typeof artifact?.source !== "string" ||
      typeof artifact.version !== "string" ||
      typeof artifact.digest !== "string" ||
      typeof spec.env !== "object" ||
      spec.env === null
    ) {
      return undefined;
    }
    const secretEnv =
      typeof spec.secretEnv === "object" && spec.secretEnv !== null ? { ...spec.secretEnv } : {};
    return {
      version: spec.version,
      artifact: { source: artifact.source, version: artifact.version, digest: artifact.digest },
      env: { ...spec.env },
      ...(Object.keys(secretEnv).length > 0 ? { secretEnv } : {}),
    };
  } catch {
    return undefined;
  }
}

async function targetGroupOf(elb: ElasticLoadBalancingV2Client, name: string) {
  try {
    const answer = await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }));
    return answer.TargetGroups?.[0];
  } catch (error) {
    if ((error as { name?: string }).name === "TargetGroupNotFoundException") return undefined;
    throw error;
  }
}

async function observeRoute(elb: ElasticLoadBalancingV2Client, args: ObserveArgs) {
  const names = awsNames(args.prefix, args.service);
  const groups = await Promise.all(COLORS.map((color) => targetGroupOf(elb, names.targetGroup(color))));
  const [blue, green] = groups;
  const none = { active: null, switchedAt: null, rolledBackAt: null, maintenance: false } as const;
  if (!blue?.TargetGroupArn || !green?.TargetGroupArn) return none;
  const targetGroups: TargetGroups = { blue: blue.TargetGroupArn, green: green.TargetGroupArn };
  const balancers = new Set([...(blue.LoadBalancerArns ?? []), ...(green.LoadBalancerArns ?? [])]);
  for (const loadBalancer of balancers) {
    const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancer }));
    for (const listener of listeners.Listeners ?? []) {
      if (listener.Port !== args.productionPort || !listener.ListenerArn) continue;
      const rules =
        (await elb.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))).Rules ?? [];
      const tags = await readTags(
        elb,
        rules.flatMap((r) => (r.RuleArn && !r.IsDefault ? [r.RuleArn] : [])),
      );
      for (const rule of rules) {
        const mine = tags.get(rule.RuleArn ?? "");
        if (mine?.[ruleTags.service] !== args.service || mine[ruleTags.role] !== "production") continue;
        const route = routeOf(rule.Actions ?? [], targetGroups);
        return {
          active: route.active,
          maintenance: route.maintenance,
          switchedAt: mine[ruleTags.switchedAt] ?? null,
          rolledBackAt: mine[ruleTags.rolledBackAt] ?? null,
        };
      }
    }
  }
  return none;
}

async function observeSlots(
  ecs: ECSClient,
  args: ObserveArgs,
): Promise<Partial<Record<Color, ObservedSlot>>> {
  const names = awsNames(args.prefix, args.service);
  let services;
  try {
    services = await ecs.send(
      new DescribeServicesCommand({
        cluster: args.cluster,
        services: COLORS.map((c) => names.ecsService(c)),
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name === "ClusterNotFoundException") return {};
    throw error;
  }
  const slots: Partial<Record<Color, ObservedSlot>> = {};
  for (const color of COLORS) {
    const found = services.services?.find((s) => s.serviceName === names.ecsService(color));
    if (!found?.taskDefinition || found.status !== "ACTIVE") continue;
    const definition = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: found.taskDefinition }),
    );
    const labels = definition.taskDefinition?.containerDefinitions?.[0]?.dockerLabels ?? {};
    const slot = asSlot(labels[slotSpecLabel]);
    if (slot) slots[color] = slot;
  }
  return slots;
}

/** Reads the service's route and slots; a service AWS does not know yet is a first release. */
export async function observeAwsService(
  clients: { elb: ElasticLoadBalancingV2Client; ecs: ECSClient },
  args: ObserveArgs,
): Promise<ObservedAwsService> {
  const [route, slots] = await Promise.all([
    observeRoute(clients.elb, args),
    observeSlots(clients.ecs, args),
  ]);
  return { ...route, slots };
}
