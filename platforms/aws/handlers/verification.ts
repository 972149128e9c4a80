// Post-promotion verification on AWS (ops/bake.ts): on failure users are already back on the previous
// colour when this handler writes the record to S3, publishes the rollback on SNS and fails the update
// naming the trigger.
import type { VerificationPolicy } from "../../../contract";
import type { Color } from "../names";
import type { StepHandlers } from "../provider";
import { runBake, type BakeResult } from "../ops/bake";
import { cloudWatchClient, elbClient, snsClient, type AwsTarget } from "../ops/clients";
import type { ResolvedHttpCheck } from "../ops/contract";
import { dimensionOf } from "../ops/metrics";
import { publishEvent } from "../ops/publish";
import { composeRecord } from "../ops/record";
import type { TargetGroups } from "../ops/traffic";
import { storeRecord } from "./record";

export interface VerificationInputs {
  readonly aws: AwsTarget;
  readonly service: string;
  readonly releaseKey: string;
  readonly url: string;
  readonly checks: readonly ResolvedHttpCheck[];
  readonly spec: VerificationPolicy;
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

/** The change id and version in a release key `<changeId>@<version>[+restore:<backup>]`. */
function releaseOfKey(key: string): { changeId: string; version: string } {
  const at = key.indexOf("@");
  return { changeId: key.slice(0, at), version: (key.slice(at + 1).split("+restore:")[0] ?? "").trim() };
}

async function rollBack(inputs: VerificationInputs, result: BakeResult): Promise<never> {
  const at = result.rolledBackAt ?? new Date().toISOString();
  const trigger = result.trigger ?? "system-failure";
  const where = result.rolledBackTo
    ? `Traffic is back on ${result.rolledBackTo}, the previous version.`
    : `There is no previous version to return to (first release); ${inputs.promoted} keeps serving.`;
  const { backup = null, ...draft } = inputs.record as { backup?: unknown };
  const stored = await storeRecord(
    { aws: inputs.aws, bucket: inputs.bucket, prefix: inputs.recordsPrefix },
    composeRecord(draft, {
      outcome: result.rolledBackTo ? "rolled-back" : "failed-gate",
      rollback: result.rolledBackTo ? { trigger, reason: result.message, at } : null,
      activeColor: result.rolledBackTo ?? inputs.promoted,
      previousColor: result.rolledBackTo ? inputs.promoted : null,
      backup,
      gates: [
        { name: `${inputs.service} post-promotion verification`, verdict: "failed", summary: result.message },
      ],
      timeline: [
        { stage: `${inputs.service}: post-promotion verification started`, at: result.startedAt },
        { stage: `${inputs.service}: ${result.rolledBackTo ? "rolled back" : "failed"} (${trigger})`, at },
      ],
      writtenAt: at,
    }),
  );
  try {
    await publishEvent(snsClient(inputs.aws), {
      topicArn: inputs.topicArn,
      event: {
        stage: "rolled-back",
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
      checks: inputs.checks,
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

export const handlers: StepHandlers<VerificationInputs, VerificationOutputs> = {
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
