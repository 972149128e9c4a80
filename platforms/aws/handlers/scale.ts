// Brings a colour stopped by a maintenance window back to its size before its gate: the ECS service
// is declared with its desired count, but Pulumi only sends a count that changed in its own state.
import { type AwsFailingInputs, withAwsFailureRecord } from "../ops/failure";
import type { StepHandlers } from "../provider";
import { ecsClient, type AwsTarget } from "../ops/clients";
import { scaleService } from "../ops/scale";

export interface ScaleInputs extends AwsFailingInputs {
  readonly aws: AwsTarget;
  readonly cluster: string;
  readonly service: string;
  readonly desiredCount: number;
  readonly releaseKey: string;
  readonly timeoutMs: number;
}

export interface ScaleOutputs extends ScaleInputs {
  readonly runningCount: number;
}

async function scale(inputs: ScaleInputs): Promise<ScaleOutputs> {
  const result = await scaleService(ecsClient(inputs.aws), { ...inputs, pollMs: 5_000 });
  return { ...inputs, runningCount: result.runningCount };
}

export const handlers: StepHandlers<ScaleInputs, ScaleOutputs> = withAwsFailureRecord("start", {
  async diff(_projectDir, _id, olds, news) {
    const changes =
      olds.releaseKey !== news.releaseKey ||
      olds.desiredCount !== news.desiredCount ||
      olds.service !== news.service;
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.service}-scale`, outs: await scale(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await scale(news) };
  },
});
