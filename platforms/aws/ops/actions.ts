// What a listener rule's actions mean for a service's two colours, as pure functions: no SDK client
// is loaded here (only its types), so the program can use them at plan time.
import type { Action } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Color } from "../names";

export type { Color };
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
