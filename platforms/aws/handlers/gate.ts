// The pre-promotion gate on AWS: the test listener's rule is pointed at the candidate colour alone,
// then the contract's HTTP checks run against the test listener. A failure fails the resource, so the switch after it never
// runs and users stay on the live colour.
import { type AwsFailingInputs, withAwsFailureRecord } from "../ops/failure";
import type { StepHandlers } from "../provider";
import { StepFailure, type GatePolicy } from "../../../contract";
import { elbClient, type AwsTarget } from "../ops/clients";
import { runGate, type ResolvedHttpCheck } from "../ops/contract";
import { switchTraffic, type Color, type TargetGroups } from "../ops/traffic";

export interface GateInputs extends AwsFailingInputs {
  readonly aws: AwsTarget;
  /** The test listener's rule, pointed at the candidate before the checks. */
  readonly testRuleArn: string;
  readonly targetGroups: TargetGroups;
  readonly service: string;
  readonly releaseKey: string;
  /** The test listener's address. */
  readonly target: string;
  readonly candidate: Color;
  /** The candidate's build: the gate runs again whenever it changes. */
  readonly digest: string;
  readonly checks: readonly ResolvedHttpCheck[];
  readonly policy: GatePolicy;
  /** The last automatic switch back (observed): a release run again after one is gated again. */
  readonly rolledBackAt: string | null;
}

export interface GateOutputs extends GateInputs {
  readonly verdict: "passed";
  readonly rounds: number;
  readonly passedAt: string;
}

async function check(inputs: GateInputs): Promise<GateOutputs> {
  await switchTraffic(elbClient(inputs.aws), {
    ruleArn: inputs.testRuleArn,
    targetGroups: inputs.targetGroups,
    color: inputs.candidate,
  });
  const report = await runGate({
    baseUrl: inputs.target,
    checks: inputs.checks,
    policy: inputs.policy,
  });
  if (report.verdict !== "passed") {
    throw new StepFailure(
      `pre-promotion gate of ${inputs.service} (${inputs.releaseKey}) on ${inputs.candidate} failed: ` +
        `${report.message} No traffic was switched: users stay on the live version. ` +
        `Fix the build and release again.`,
      report.trigger ?? "gate-failure",
    );
  }
  return { ...inputs, verdict: "passed", rounds: report.totals.rounds, passedAt: new Date().toISOString() };
}

const keys = [
  "service",
  "releaseKey",
  "target",
  "candidate",
  "digest",
  "rolledBackAt",
  "testRuleArn",
] as const;

export const handlers: StepHandlers<GateInputs, GateOutputs> = withAwsFailureRecord("gate", {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      keys.some((key) => olds[key] !== news[key]) ||
      JSON.stringify(olds.checks) !== JSON.stringify(news.checks) ||
      JSON.stringify(olds.policy) !== JSON.stringify(news.policy);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.service}-gate`, outs: await check(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await check(news) };
  },
});
