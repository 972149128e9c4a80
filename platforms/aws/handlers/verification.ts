// Post-promotion verification on AWS (ops/bake.ts): on failure users are already back on the previous
// colour when this handler writes the record to S3, publishes the rollback on SNS and fails the update
// naming the trigger.
import { RecordedFailure, verificationPolicyFor, type VerificationPolicy } from "../../../contract";
import type { Color } from "../names";
import type { StepHandlers } from "../provider";
import { runBake, type BakeResult } from "../ops/bake";
import { cloudWatchClient, elbClient, type AwsTarget } from "../ops/clients";
import type { ResolvedHttpCheck } from "../ops/contract";
import { dimensionOf } from "../ops/metrics";
import { type AwsFailingInputs, writeAwsFailure } from "../ops/failure";
import type { TargetGroups } from "../ops/traffic";

export interface VerificationInputs extends AwsFailingInputs {
  readonly aws: AwsTarget;
  readonly service: string;
  readonly releaseKey: string;
  readonly url: string;
  readonly checks: readonly ResolvedHttpCheck[];
  readonly spec: VerificationPolicy;
  /** A fast-tracked rollback, whose `spec` holds its short bake; absent in states written before. */
  readonly fastTrack?: boolean;
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
  /** The bake a fast-tracked rollback ran; null after a full bake (absent in states from before). */
  readonly fastTrackBakeMs?: number | null;
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
  const release = releaseOfKey(inputs.releaseKey);
  const where = result.rolledBackTo
    ? `Traffic is back on ${result.rolledBackTo}, the previous version.`
    : `There is no previous version to return to (first release); ${inputs.promoted} keeps serving.`;
  const { backup = null, ...draft } = inputs.record as { backup?: { id: string; digest: string } | null };
  const served = inputs.failure?.served ?? null;
  const active = result.rolledBackTo ?? inputs.promoted;
  const written = await writeAwsFailure(
    inputs.aws,
    { bucket: inputs.bucket, recordsPrefix: inputs.recordsPrefix, topicArn: inputs.topicArn },
    release,
    draft,
    {
      outcome: result.rolledBackTo ? "rolled-back" : "failed",
      service: inputs.service,
      stage: "verification",
      trigger,
      error: `post-promotion verification failed (${trigger}): ${result.message} ${where}`,
      served:
        active !== result.rolledBackTo
          ? { version: release.version, color: active }
          : (served ?? { version: "the previous version", color: active }),
      previousColor: result.rolledBackTo ? inputs.promoted : null,
      backup,
      startedAt: result.startedAt,
      at,
      ...(result.rolledBackTo ? { rollback: { trigger, reason: result.message } } : {}),
    },
  );
  throw new RecordedFailure(
    `post-promotion verification of ${inputs.service} (${inputs.releaseKey}) failed; rollback trigger: ${trigger}. ` +
      `${result.message} ${where} ${written}`,
  );
}

async function verify(inputs: VerificationInputs): Promise<VerificationOutputs> {
  // The judge's policy for this release: a fast-tracked rollback bakes briefly.
  const spec = verificationPolicyFor(inputs.spec, inputs.fastTrack === true);
  const result = await runBake(
    { elb: elbClient(inputs.aws), cloudWatch: cloudWatchClient(inputs.aws) },
    {
      url: inputs.url,
      checks: inputs.checks,
      spec,
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
    // Always set: a preview sees an output the state lacks as unknown, and would show the record
    // that quotes it as changing.
    fastTrackBakeMs: inputs.fastTrack === true ? spec.bakeTimeMs : null,
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
