// One-off ECS tasks (migrations, smoke tests): RunTask of the release's task definition, waited for
// until it stops, then every essential container's exit code is read. A task that does not stop by
// the deadline is stopped, so nothing keeps running after the step has failed.
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type Task,
} from "@aws-sdk/client-ecs";

export interface TaskRunArgs {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly assignPublicIp: boolean;
  /** Overrides of the named container: its command and extra environment. */
  readonly container: {
    readonly name: string;
    readonly command?: readonly string[];
    readonly environment?: Readonly<Record<string, string>>;
  };
  /** Shown in the ECS console as who started the task (at most 36 characters). */
  readonly startedBy: string;
}

export interface ContainerExit {
  readonly name: string;
  readonly essential: boolean;
  readonly exitCode: number | null;
  readonly reason: string | null;
}

export interface TaskOutcome {
  readonly taskArn: string;
  readonly ok: boolean;
  readonly stopCode: string | null;
  readonly stoppedReason: string | null;
  readonly containers: readonly ContainerExit[];
  /** One sentence: which essential containers failed and how. */
  readonly summary: string;
}

/**
 * A stopped task succeeded when it started (it was not stopped before its containers ran) and every
 * essential container exited with 0. A container with no exit code never ran to its end.
 */
export function taskOutcome(task: Task, essential: ReadonlySet<string>): TaskOutcome {
  const containers: ContainerExit[] = (task.containers ?? []).map((c) => ({
    name: c.name ?? "?",
    essential: essential.has(c.name ?? ""),
    exitCode: typeof c.exitCode === "number" ? c.exitCode : null,
    reason: c.reason ?? null,
  }));
  const failed = containers.filter((c) => c.essential && c.exitCode !== 0);
  const missing = [...essential].filter((name) => !containers.some((c) => c.name === name));
  const notStarted = task.stopCode === "TaskFailedToStart";
  const ok = failed.length === 0 && missing.length === 0 && !notStarted && containers.length > 0;
  const parts = [
    ...failed.map(
      (c) =>
        `container ${c.name} ${c.exitCode === null ? `has no exit code${c.reason ? ` (${c.reason})` : ""}` : `exited with ${c.exitCode}`}`,
    ),
    ...missing.map((name) => `essential container ${name} is not in the task`),
    ...(notStarted ? [`the task failed to start: ${task.stoppedReason ?? "no reason given"}`] : []),
  ];
  return {
    taskArn: task.taskArn ?? "",
    ok,
    stopCode: task.stopCode ?? null,
    stoppedReason: task.stoppedReason ?? null,
    containers,
    summary: ok
      ? `every essential container exited with 0 (${containers.map((c) => c.name).join(", ")})`
      : parts.join("; ") || "the task stopped with no container",
  };
}

/** Starts the task; returns its ARN and the names of the task definition's essential containers. */
export async function startTask(
  ecs: ECSClient,
  args: TaskRunArgs,
): Promise<{ taskArn: string; essential: Set<string> }> {
  const definition = await ecs
    .send(new DescribeTaskDefinitionCommand({ taskDefinition: args.taskDefinition }))
    .catch((error: unknown) => {
      throw new Error(
        `task definition ${args.taskDefinition} could not be read (${error instanceof Error ? error.message : String(error)}); ` +
          `nothing was started. Check that it exists in this region and account.`,
        { cause: error },
      );
    });
  // A container is essential unless its definition says otherwise.
  const essential = new Set(
    (definition.taskDefinition?.containerDefinitions ?? [])
      .filter((c) => c.essential !== false)
      .map((c) => c.name ?? ""),
  );
  const answer = await ecs.send(
    new RunTaskCommand({
      cluster: args.cluster,
      taskDefinition: args.taskDefinition,
      launchType: "FARGATE",
      count: 1,
      startedBy: args.startedBy.slice(0, 36),
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...args.subnets],
          securityGroups: [...args.securityGroups],
          assignPublicIp: args.assignPublicIp ? "ENABLED" : "DISABLED",
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: args.container.name,
            ...(args.container.command ? { command: [...args.container.command] } : {}),
            ...(args.container.environment
              ? {
                  environment: Object.entries(args.container.environment).map(([name, value]) => ({
                    name,
                    value,
                  })),
                }
              : {}),
          },
        ],
      },
    }),
  );
  const task = answer.tasks?.[0];
  if (!task?.taskArn) {
    const failures = (answer.failures ?? []).map((f) => `${f.arn ?? ""} ${f.reason ?? ""}`.trim()).join("; ");
    throw new Error(
      `ECS did not start a task of ${args.taskDefinition} in ${args.cluster}: ${failures || "no task and no failure given"}. ` +
        `Check the cluster's capacity and the subnets, then release again.`,
    );
  }
  return { taskArn: task.taskArn, essential };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Polls the task until it is STOPPED; past the deadline it stops the task and throws. */
export async function waitForTask(
  ecs: ECSClient,
  args: { cluster: string; taskArn: string; essential: ReadonlySet<string> },
  wait: { timeoutMs: number; pollMs: number; onProgress?: (status: string) => void },
): Promise<TaskOutcome> {
  const deadline = Date.now() + wait.timeoutMs;
  for (;;) {
    const answer = await ecs.send(new DescribeTasksCommand({ cluster: args.cluster, tasks: [args.taskArn] }));
    const task = answer.tasks?.[0];
    if (task?.lastStatus === "STOPPED") return taskOutcome(task, args.essential);
    wait.onProgress?.(task?.lastStatus ?? "not visible yet");
    if (Date.now() >= deadline) {
      await ecs.send(
        new StopTaskCommand({
          cluster: args.cluster,
          task: args.taskArn,
          reason: `shipgate: no result within ${Math.round(wait.timeoutMs / 1000)} s`,
        }),
      );
      throw new Error(
        `task ${args.taskArn} did not stop within ${Math.round(wait.timeoutMs / 1000)} s (last status: ` +
          `${task?.lastStatus ?? "unknown"}); it was stopped. Read its logs, fix it and release again.`,
      );
    }
    await sleep(wait.pollMs);
  }
}
