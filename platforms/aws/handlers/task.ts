// A one-off ECS task of a release (migration, smoke test): started, waited for until it stops, and
// failed unless every essential container exited with 0.
import { type AwsFailingInputs, withAwsFailureRecord } from "../ops/failure";
import type { StepHandlers } from "../provider";
import { ecsClient, type AwsTarget } from "../ops/clients";
import { startTask, waitForTask, type TaskRunArgs } from "../ops/task";

export interface TaskInputs extends AwsFailingInputs {
  readonly aws: AwsTarget;
  readonly service: string;
  readonly purpose: string;
  /** The build the task runs and the migrations it applies (for the record and the policies). */
  readonly digest: string;
  readonly migrations: readonly string[];
  /** The build and the migrations it runs: the task runs again when they change. */
  readonly runKey: string;
  readonly run: TaskRunArgs;
  readonly timeoutMs: number;
}

export interface TaskOutputs extends TaskInputs {
  readonly taskArn: string;
  readonly summary: string;
  readonly stoppedAt: string;
}

async function run(inputs: TaskInputs): Promise<TaskOutputs> {
  const ecs = ecsClient(inputs.aws);
  const started = await startTask(ecs, inputs.run);
  console.log(`${inputs.purpose} of ${inputs.service}: task ${started.taskArn} started`);
  const outcome = await waitForTask(
    ecs,
    { cluster: inputs.run.cluster, taskArn: started.taskArn, essential: started.essential },
    {
      timeoutMs: inputs.timeoutMs,
      pollMs: 5_000,
      onProgress: (status) => console.log(`${inputs.purpose} of ${inputs.service}: task is ${status}`),
    },
  );
  if (!outcome.ok) {
    throw new Error(
      `${inputs.purpose} of ${inputs.service} (${inputs.runKey}) failed: ${outcome.summary} (task ${outcome.taskArn}` +
        `${outcome.stoppedReason ? `, ${outcome.stoppedReason}` : ""}). Nothing was switched; read the task's logs, ` +
        `fix it and release again.`,
    );
  }
  return {
    ...inputs,
    taskArn: outcome.taskArn,
    summary: outcome.summary,
    stoppedAt: new Date().toISOString(),
  };
}

export const handlers: StepHandlers<TaskInputs, TaskOutputs> = withAwsFailureRecord("migration", {
  async diff(_projectDir, _id, olds, news) {
    const changes = olds.runKey !== news.runKey || JSON.stringify(olds.run) !== JSON.stringify(news.run);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(_projectDir, inputs) {
    return { id: `${inputs.service}-${inputs.purpose}`, outs: await run(inputs) };
  },
  async update(_projectDir, _id, _olds, news) {
    return { outs: await run(news) };
  },
});
