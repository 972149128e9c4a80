// The production listener rule of a service: its forward weights are the traffic switch, its
// fixed-response is the maintenance window, and its tags note when users last moved and whether a
// failed verification sent them back. Plain functions over the ELBv2 API, no Pulumi imports.
import {
  AddTagsCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  ModifyRuleCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";

import {
  routeOf,
  ruleTags,
  forwardAction,
  maintenanceAction,
  type Color,
  type Route,
  type TargetGroups,
} from "./actions";

export * from "./actions";

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
