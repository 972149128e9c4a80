// The judge of what a load balancer measured for a colour after a switch: the aws platform reads
// CloudWatch and hands the figures here, so the verification spec's bounds mean the same thing for
// the load balancer's view as for the probes'.
import { mostSevere, type ProbeTrigger } from "./triggers";

/** What the load balancer measured for the promoted colour over the bake, and its alarms' states. */
export interface AlbObservation {
  readonly requests: number;
  readonly errors5xx: number;
  readonly p95LatencyMs: number | null;
  readonly alarms: readonly {
    readonly name: string;
    readonly measures: "errors" | "performance";
    readonly state: string;
  }[];
}

export interface MetricJudgement {
  readonly trigger?: ProbeTrigger;
  readonly message: string;
}

const percent = (rate: number) => `${Number((rate * 100).toFixed(2))}%`;

/**
 * The verification spec's error budget and latency bound applied to what a load balancer measured
 * (every user's request, not only the probes), plus the colour's alarms, which carry the same bounds:
 * an alarm in ALARM fires the trigger of what it measures. No data (ALB metrics come per minute and
 * only with traffic) judges nothing.
 */
export function judgeAlbMetrics(
  observed: AlbObservation,
  limits: { readonly maxErrorRate: number; readonly maxP95LatencyMs: number },
): MetricJudgement {
  const found: { trigger: ProbeTrigger; reason: string }[] = [];
  const rate = observed.requests > 0 ? observed.errors5xx / observed.requests : 0;
  if (observed.requests > 0 && rate > limits.maxErrorRate) {
    found.push({
      trigger: "errors",
      reason: `the load balancer saw ${observed.errors5xx} target 5xx answers of ${observed.requests} requests (${percent(rate)}, at most ${percent(limits.maxErrorRate)})`,
    });
  }
  if (observed.p95LatencyMs !== null && observed.p95LatencyMs > limits.maxP95LatencyMs) {
    found.push({
      trigger: "performance",
      reason: `the load balancer's p95 target response time was ${observed.p95LatencyMs} ms (at most ${limits.maxP95LatencyMs} ms)`,
    });
  }
  for (const alarm of observed.alarms) {
    if (alarm.state === "ALARM") {
      found.push({ trigger: alarm.measures, reason: `CloudWatch alarm ${alarm.name} is in ALARM` });
    }
  }
  const trigger = mostSevere(found.map((f) => f.trigger));
  const figures =
    observed.requests > 0
      ? `${observed.requests} requests, ${percent(rate)} target 5xx, p95 ${observed.p95LatencyMs ?? "n/a"} ms`
      : "no requests measured yet";
  return trigger === undefined
    ? { message: `Load balancer metrics within bounds (${figures}).` }
    : {
        trigger,
        message: `Load balancer metrics failed with rollback trigger ${trigger}: ${found.map((f) => f.reason).join("; ")}.`,
      };
}
