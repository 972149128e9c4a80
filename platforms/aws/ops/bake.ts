// Post-promotion verification on AWS: the contract's HTTP bake against the users' address, then what
// the load balancer measured for the promoted colour over the same time (CloudWatch metrics and
// alarms), both judged by the contract. On failure users go back to the previous colour at once, and
// the rule is tagged with when and why, so the next preview reads the truth.
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  judgeAlbMetrics,
  mostSevere,
  runVerification,
  type GateTrigger,
  type HttpCheck,
  type VerificationReport,
} from "./contract";
import { readAlarms, readAlbMetrics, type AlbReading, type AlbScope } from "./metrics";
import { ruleTags, switchTraffic, type Color, type TargetGroups } from "./traffic";

export interface BakeArgs {
  readonly url: string;
  readonly checks: readonly HttpCheck[];
  readonly spec: {
    readonly bakeTimeMs: number;
    readonly intervalMs: number;
    readonly maxErrorRate: number;
    readonly maxP95LatencyMs: number;
  };
  /** The promoted colour's CloudWatch dimensions and alarms; null reads no metrics. */
  readonly metrics: {
    readonly scope: AlbScope;
    readonly alarms: readonly { readonly name: string; readonly measures: "errors" | "performance" }[];
  } | null;
  readonly route: {
    readonly ruleArn: string;
    readonly targetGroups: TargetGroups;
    readonly promoted: Color;
    readonly rollbackTo: Color | null;
  };
}

export interface BakeResult {
  readonly verdict: "passed" | "failed";
  readonly trigger?: GateTrigger;
  /** The probes' and the metrics' verdicts, in one paragraph. */
  readonly message: string;
  readonly report: VerificationReport;
  readonly reading: AlbReading | null;
  readonly startedAt: string;
  /** The colour users were sent back to, or null. */
  readonly rolledBackTo: Color | null;
  readonly rolledBackAt: string | null;
}

export async function runBake(
  clients: { elb: ElasticLoadBalancingV2Client; cloudWatch: CloudWatchClient },
  args: BakeArgs,
): Promise<BakeResult> {
  const started = new Date();
  const report = await runVerification({
    baseUrl: args.url,
    checks: args.checks,
    bakeTimeMs: args.spec.bakeTimeMs,
    intervalMs: args.spec.intervalMs,
    maxErrorRate: args.spec.maxErrorRate,
    maxP95LatencyMs: args.spec.maxP95LatencyMs,
  });
  let reading: AlbReading | null = null;
  let metricTrigger: GateTrigger | undefined;
  let metricMessage = "";
  if (args.metrics) {
    reading = await readAlbMetrics(clients.cloudWatch, {
      scope: args.metrics.scope,
      from: started,
      to: new Date(),
    });
    const states = await readAlarms(
      clients.cloudWatch,
      args.metrics.alarms.map((a) => a.name),
    );
    const judged = judgeAlbMetrics(
      {
        requests: reading.requests,
        errors5xx: reading.errors5xx,
        p95LatencyMs: reading.p95LatencyMs,
        alarms: args.metrics.alarms.map((a, i) => ({ ...a, state: states[i]?.state ?? "MISSING" })),
      },
      args.spec,
    );
    metricTrigger = judged.trigger;
    metricMessage = judged.message;
  }
  const probeTrigger = report.verdict === "passed" ? undefined : (report.trigger ?? "system-failure");
  const trigger = mostSevere([probeTrigger, metricTrigger].filter((t): t is GateTrigger => t !== undefined));
  const message = [report.message, metricMessage].filter(Boolean).join(" ");
  if (trigger === undefined) {
    return {
      verdict: "passed",
      message,
      report,
      reading,
      startedAt: started.toISOString(),
      rolledBackTo: null,
      rolledBackAt: null,
    };
  }
  let rolledBackTo: Color | null = null;
  let rolledBackAt: string | null = null;
  if (args.route.rollbackTo) {
    rolledBackAt = new Date().toISOString();
    await switchTraffic(clients.elb, {
      ruleArn: args.route.ruleArn,
      targetGroups: args.route.targetGroups,
      color: args.route.rollbackTo,
      extraTags: { [ruleTags.rolledBackAt]: rolledBackAt, [ruleTags.rollbackTrigger]: trigger },
    });
    rolledBackTo = args.route.rollbackTo;
  }
  return {
    verdict: "failed",
    trigger,
    message,
    report,
    reading,
    startedAt: started.toISOString(),
    rolledBackTo,
    rolledBackAt,
  };
}
