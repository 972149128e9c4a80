// The one place the aws platform reaches the judge. Gates and verification bakes judge through the
// release contract's probe loop and nothing else, so the same manifest gets the same verdict here as
// on the local and kubernetes platforms. Every aws module imports the judge from this file only.
import { mostSevere, type ProbeTrigger } from "../../../contract";

export {
  mostSevere,
  runGate,
  runVerification,
  type GateReport,
  type HttpCheck,
  type ResolvedHttpCheck,
  type VerificationReport,
} from "../../../contract";

/** A rollback trigger a probe or a metric can fire. */
export type GateTrigger = ProbeTrigger;

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
  readonly trigger?: GateTrigger;
  readonly message: string;
}

const percent = (rate: number) => `${Number((rate * 100).toFixed(2))}%`;

/**
 * The verification spec's error budget and latency bound applied to what the ALB measured (every
 * user's request, not only the probes), plus the colour's CloudWatch alarms, which carry the same
 * bounds: an alarm in ALARM fires the trigger of what it measures. No data (ALB metrics come per
 * minute and only with traffic) judges nothing.
 *
 * This rule belongs with the probe judge in the release contract; it lives here, next to the
 * contract's import, until the contract judges load-balancer metrics itself.
 */
export function judgeAlbMetrics(
  observed: AlbObservation,
  limits: { readonly maxErrorRate: number; readonly maxP95LatencyMs: number },
): MetricJudgement {
  const found: { trigger: GateTrigger; reason: string }[] = [];
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
