// The traffic switch on AWS: the production listener rule's forward weights (candidate 100, the other
// 0) in one ModifyRule, read back from the ALB. It also ends a maintenance window (the fixed 503).
import type * as pulumi from "@pulumi/pulumi";
import { type AwsFailingInputs, withAwsFailureRecord } from "../ops/failure";
import type { StepHandlers } from "../provider";
import { elbClient, type AwsTarget } from "../ops/clients";
import { readRoute, switchTraffic, type Color, type TargetGroups } from "../ops/traffic";

export interface SwitchInputs extends AwsFailingInputs {
  readonly aws: AwsTarget;
  readonly service: string;
  readonly releaseKey: string;
  readonly ruleArn: string;
  readonly targetGroups: TargetGroups;
  readonly color: Color;
  /** The last automatic switch back (observed): a release run again after one switches again. */
  readonly rolledBackAt: string | null;
}

export interface SwitchOutputs extends SwitchInputs {
  /** The colour the rule really sends users to (a refresh reads it back). */
  readonly active: Color | null;
  readonly previous: Color | null;
  readonly switchedAt: string;
}

async function route(inputs: SwitchInputs): Promise<SwitchOutputs> {
  const result = await switchTraffic(elbClient(inputs.aws), inputs);
  return { ...inputs, active: result.active, previous: result.previous, switchedAt: result.switchedAt };
}

export const handlers: StepHandlers<SwitchInputs, SwitchOutputs> = withAwsFailureRecord("switch", {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      olds.service !== news.service ||
      olds.color !== news.color ||
      olds.releaseKey !== news.releaseKey ||
      olds.ruleArn !== news.ruleArn ||
      olds.rolledBackAt !== news.rolledBackAt ||
      JSON.stringify(olds.targetGroups) !== JSON.stringify(news.targetGroups) ||
      olds.active !== news.color;
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.service}-switch`, outs: await route(inputs) };
  },
  async read(_projectDir, id, props): Promise<pulumi.dynamic.ReadResult<SwitchOutputs>> {
    const now = await readRoute(elbClient(props.aws), props);
    return { id, props: { ...props, active: now.active } };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await route(news) };
  },
  // Deleting the switch leaves the rule as it is: the rule itself is declared (and deleted) apart.
});
