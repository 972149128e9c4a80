// The production listener rule of a service: its forward weights are the traffic switch, its
// fixed-response is the maintenance window, and its tags note when users last moved and whether a
// failed verification sent them back. Plain functions over the ELBv2 API, no Pulumi imports.
import {
  AddTagsCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";

export type Color = "blue" | "green";
export const COLORS: readonly Color[] = ["blue", "green"];

/** The tags shipgate keeps on a production rule. */
export const ruleTags = {
  service: "shipgate:service",
  role: "shipgate:role",
  switchedAt: "shipgate:switched-at",
  rolledBackAt: "shipgate:rolled-back-at",
  rollbackTrigger: "shipgate:rollback-trigger",
} as const;

export interface TargetGroups {
  readonly blue: string;
  readonly green: string;
}

/** What a production rule does now. */
export interface Route {
  /** The colour with all the weight, or null (maintenance, split or unknown target groups). */
  readonly active: Color | null;
  readonly weights: Readonly<Record<Color, number>>;
  /** The rule answers a fixed response (a maintenance window). */
  readonly maintenance: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/** Every request to `color`, none to the other; stickiness off, so no user is pinned to the old one. */
export function forwardAction(targetGroups: TargetGroups, color: Color): Action {
  return {
    Type: "forward",
    Order: 1,
    ForwardConfig: {
      TargetGroups: COLORS.map((c) => ({ TargetGroupArn: targetGroups[c], Weight: c === color ? 100 : 0 })),
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

/** A fixed 503 with the users' message (the ALB takes at most 1024 characters). */
export function maintenanceAction(message: string): Action {
  return {
    Type: "fixed-response",
    Order: 1,
    FixedResponseConfig: {
      StatusCode: "503",
      ContentType: "text/plain",
      MessageBody: message.slice(0, 1024),
    },
  };
}

/** The route an action list describes, against the service's two target groups. */
export function routeOf(actions: readonly Action[], targetGroups: TargetGroups): Omit<Route, "tags"> {
  const weights: Record<Color, number> = { blue: 0, green: 0 };
  const first = [...actions].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0))[0];
  if (!first || first.Type === "fixed-response") {
    return { active: null, weights, maintenance: first?.Type === "fixed-response" };
  }
  const groups =
    first.ForwardConfig?.TargetGroups ??
    (first.TargetGroupArn ? [{ TargetGroupArn: first.TargetGroupArn, Weight: 1 }] : []);
  let foreign = 0;
  for (const group of groups) {
    const color = COLORS.find((c) => targetGroups[c] === group.TargetGroupArn);
    // A forward with one target group and no weight sends it everything.
    const weight = group.Weight ?? (groups.length === 1 ? 1 : 0);
    if (color) weights[color] += weight;
    else foreign += weight;
  }
  const active =
    foreign === 0 && weights.blue > 0 && weights.green === 0
      ? "blue"
      : foreign === 0 && weights.green > 0 && weights.blue === 0
        ? "green"
        : null;
  return { active, weights, maintenance: false };
}

export async function readTags(
  elb: ElasticLoadBalancingV2Client,
  arns: readonly string[],
): Promise<Map<string, Record<string, string>>> {
  const found = new Map<string, Record<string, string>>();
  // DescribeTags takes at most 20 resources per call.
  for (let i = 0; i < arns.length; i += 20) {
    const answer = await elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const description of answer.TagDescriptions ?? []) {
      if (!description.ResourceArn) continue;
      found.set(
        description.ResourceArn,
        Object.fromEntries((description.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
      );
    }
  }
  return found;
}

export async function readRoute(
  elb: ElasticLoadBalancingV2Client,
  args: { ruleArn: string; targetGroups: TargetGroups },
): Promise<Route> {
  const answer = await elb.send(new DescribeRulesCommand({ RuleArns: [args.ruleArn] }));
  const rule = answer.Rules?.[0];
  if (!rule) throw new Error(`listener rule ${args.ruleArn} was not found`);
  const tags = (await readTags(elb, [args.ruleArn])).get(args.ruleArn) ?? {};
  return { ...routeOf(rule.Actions ?? [], args.targetGroups), tags };
}

/**
 * Sends every user to `color` in one ModifyRule: the ALB applies the new weights to new requests while
 * requests in flight finish on the target that has them. Notes the time on the rule when users move,
 * and returns the route read back from the ALB.
 */
export async function switchTraffic(
  elb: ElasticLoadBalancingV2Client,
  args: { ruleArn: string; targetGroups: TargetGroups; color: Color; extraTags?: Record<string, string> },
): Promise<Route & { previous: Color | null; switchedAt: string }> {
  const before = await readRoute(elb, args);
  await elb.send(
    new ModifyRuleCommand({ RuleArn: args.ruleArn, Actions: [forwardAction(args.targetGroups, args.color)] }),
  );
  const moved = before.active !== args.color;
  const switchedAt = moved
    ? new Date().toISOString()
    : (before.tags[ruleTags.switchedAt] ?? new Date().toISOString());
  const tags = { ...(moved ? { [ruleTags.switchedAt]: switchedAt } : {}), ...args.extraTags };
  if (Object.keys(tags).length > 0) {
    await elb.send(
      new AddTagsCommand({
        ResourceArns: [args.ruleArn],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
  const after = await readRoute(elb, args);
  if (after.active !== args.color) {
    throw new Error(
      `listener rule ${args.ruleArn} was set to send users to ${args.color}, but reads back ` +
        `blue ${after.weights.blue} / green ${after.weights.green}; check the rule in the EC2 console`,
    );
  }
  return { ...after, previous: before.active, switchedAt };
}

/** Users get a fixed 503 with `message`; the colours behind the rule keep running until stopped. */
export async function startMaintenance(
  elb: ElasticLoadBalancingV2Client,
  args: { ruleArn: string; message: string },
): Promise<void> {
  await elb.send(
    new ModifyRuleCommand({ RuleArn: args.ruleArn, Actions: [maintenanceAction(args.message)] }),
  );
}
