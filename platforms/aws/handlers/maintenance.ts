// A maintenance window on AWS (the recreate strategy): the production rule answers a fixed 503 with
// the users' message; then the colour to replace is scaled to zero and waited for, so requests in
// flight finish (the target group's deregistration delay) and nobody writes to the data any more.
import { type AwsFailingInputs, withAwsFailureRecord } from "../ops/failure";
import type { StepHandlers } from "../provider";
import { ecsClient, elbClient, type AwsTarget } from "../ops/clients";
import { scaleService } from "../ops/scale";
import { startMaintenance } from "../ops/traffic";

export interface MaintenanceInputs extends AwsFailingInputs {
  readonly aws: AwsTarget;
  readonly service: string;
  readonly releaseKey: string;
  readonly ruleArn: string;
  readonly message: string;
  /** The ECS service to stop, or null. */
  readonly stop: { readonly cluster: string; readonly service: string } | null;
  readonly timeoutMs: number;
}

export interface MaintenanceOutputs extends MaintenanceInputs {
  readonly startedAt: string;
}

async function start(inputs: MaintenanceInputs): Promise<MaintenanceOutputs> {
  const startedAt = new Date().toISOString();
  await startMaintenance(elbClient(inputs.aws), { ruleArn: inputs.ruleArn, message: inputs.message });
  if (inputs.stop) {
    await scaleService(ecsClient(inputs.aws), {
      ...inputs.stop,
      desiredCount: 0,
      timeoutMs: inputs.timeoutMs,
      pollMs: 5_000,
    });
  }
  return { ...inputs, startedAt };
}

export const handlers: StepHandlers<MaintenanceInputs, MaintenanceOutputs> = withAwsFailureRecord(
  "maintenance",
  {
    async diff(_projectDir, _id, olds, news) {
      const changes =
        olds.releaseKey !== news.releaseKey ||
        olds.message !== news.message ||
        olds.ruleArn !== news.ruleArn ||
        JSON.stringify(olds.stop) !== JSON.stringify(news.stop);
      return { changes, replaces: [], deleteBeforeReplace: false };
    },
    async create(_projectDir, inputs) {
      return { id: `${inputs.service}-maintenance`, outs: await start(inputs) };
    },
    async update(_projectDir, _id, _olds, news) {
      return { outs: await start(news) };
    },
    // The switch that ends the release lifts the maintenance response; deleting this changes nothing.
  },
);
