// Post-promotion verification on AWS (ops/bake.ts): on failure users are already back on the previous
// colour when this handler writes the record to S3, publishes the rollback on SNS and fails the update
// naming the trigger.
import type { Color, HttpCheckSpec, VerificationSpec } from "../../../components/platform";
import { completeRecord } from "../../local/handlers/record";
import { releaseOfKey } from "../../local/handlers/verification";
import type { LocalHandlers } from "../../local/provider-factory";
import { runBake, type BakeResult } from "../ops/bake";
import { cloudWatchClient, elbClient, snsClient, type AwsTarget } from "../ops/clients";
import type { HttpCheck } from "../ops/contract";
import { dimensionOf } from "../ops/metrics";
import { publishEvent } from "../ops/publish";
import type { TargetGroups } from "../ops/traffic";
import { storeRecord } from "./record";

export interface VerificationInputs {
  readonly aws: AwsTarget;
  readonly service: string;
  readonly releaseKey: string;
  readonly url: string;
  readonly checks: readonly HttpCheckSpec[];
  readonly spec: VerificationSpec;
  readonly promoted: Color;
  readonly rollbackTo: Color | null;
  readonly ruleArn: string;
  readonly targetGroups: TargetGroups;
  readonly loadBalancerArn: string;
  readonly alarms: readonly { readonly name: string; readonly measures: "errors" | "performance" }[];
  readonly record: Readonly<Record<string, unknown>>;
  readonly bucket: string;
  readonly recordsPrefix: string;
  readonly topicArn: string;
  readonly rolledBackAt: string | null;
}

export interface VerificationOutputs extends VerificationInputs {
  readonly verdict: "passed";
  readonly errorRate: number;
  readonly p95LatencyMs: number | null;
  readonly verifiedAt: string;
}

async function rollBack(inputs: VerificationInputs, result: BakeResult): Promise<never> {
  const at = result.rolledBackAt ?? new Date().toISOString();
  const trigger = result.trigger ?? "system-failure";
  const where = result.rolledBackTo
    ? `Traffic is back on ${result.rolledBackTo}, the previous version.`
    : `There is no previous version to return to (first release); ${inputs.promoted} keeps serving.`;
  const { backup = null, ...draft } = inputs.record as { backup?: { id: string; digest: string } | null };
  const stored = await storeRecord(
    { aws: inputs.aws, bucket: inputs.bucket, prefix: inputs.recordsPrefix },
    completeRecord(draft, {
      outcome: result.rolledBackTo ? "rolled-back" : "failed-gate",
      rollback: result.rolledBackTo ? { trigger, reason: result.message, at } : null,
      activeColor: result.rolledBackTo ?? inputs.promoted,
      previousColor: result.rolledBackTo ? inputs.promoted : null,
      backup,
      gates: [
        {
          name: `${inputs.service} post-promotion verification`,
          stage: "post-promotion",
          service: inputs.service,
          verdict: "failed",
          trigger,
          summary: result.message,
        },
      ],
      performance: [
        ...(result.report.totals.p95LatencyMs === null
          ? []
          : [
              {
                metric: `${inputs.service} p95 latency of the probes`,
                value: result.report.totals.p95LatencyMs,
                unit: "ms",
              },
            ]),
        ...(result.reading?.p95LatencyMs == null
          ? []
          : [
              {
                metric: `${inputs.service} p95 target response time (ALB)`,
                value: result.reading.p95LatencyMs,
                unit: "ms",
              },
            ]),
      ],
      system: `${inputs.service} failed post-promotion verification (${trigger}). ${where}`,
      issuesFound: 1,
      timeline: [
        { stage: `${inputs.service}: post-promotion verification started`, at: result.startedAt },
        { stage: `${inputs.service}: rolled back (${trigger})`, at },
      ],
      date: result.startedAt,
    }),
  );
  try {
    await publishEvent(snsClient(inputs.aws), {
      topicArn: inputs.topicArn,
      event: {
        stage: "rollback",
        release: releaseOfKey(inputs.releaseKey),
        service: inputs.service,
        message: `${inputs.service}: post-promotion verification failed (${trigger}). ${where}`,
        severity: "critical",
        audience: ["team", "support", "management"],
        at,
      },
    });
  } catch (error) {
    console.log(
      `the rollback notification was not published: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  throw new Error(
    `post-promotion verification of ${inputs.service} (${inputs.releaseKey}) failed; rollback trigger: ${trigger}. ` +
      `${result.message} ${where} Record: ${stored.location}`,
  );
}

async function verify(inputs: VerificationInputs): Promise<VerificationOutputs> {
  const result = await runBake(
    { elb: elbClient(inputs.aws), cloudWatch: cloudWatchClient(inputs.aws) },
    {
      url: inputs.url,
      checks: inputs.checks as unknown as HttpCheck[],
      spec: inputs.spec,
      metrics: {
        scope: {
          loadBalancer: dimensionOf(inputs.loadBalancerArn),
          targetGroup: dimensionOf(inputs.targetGroups[inputs.promoted]),
        },
        alarms: inputs.alarms,
      },
      route: {
        ruleArn: inputs.ruleArn,
        targetGroups: inputs.targetGroups,
        promoted: inputs.promoted,
        rollbackTo: inputs.rollbackTo,
      },
    },
  );
  if (result.verdict !== "passed") return rollBack(inputs, result);
  return {
    ...inputs,
    verdict: "passed",
    errorRate: result.report.totals.errorRate,
    p95LatencyMs: result.report.totals.p95LatencyMs,
    verifiedAt: new Date().toISOString(),
  };
}

export const handlers: LocalHandlers<VerificationInputs, VerificationOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      olds.releaseKey !== news.releaseKey ||
      olds.promoted !== news.promoted ||
      olds.url !== news.url ||
      olds.rolledBackAt !== news.rolledBackAt ||
      JSON.stringify(olds.checks) !== JSON.stringify(news.checks) ||
      JSON.stringify(olds.spec) !== JSON.stringify(news.spec);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.service}-verification`, outs: await verify(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await verify(news) };
  },
};
