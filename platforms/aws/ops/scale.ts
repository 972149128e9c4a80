// Sets an ECS service's desired count and waits until its running count matches, so a stopped colour
// has no task left serving, and a restarted one has all its tasks before its gate.
import { DescribeServicesCommand, UpdateServiceCommand, type ECSClient } from "@aws-sdk/client-ecs";

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export async function scaleService(
  ecs: ECSClient,
  args: { cluster: string; service: string; desiredCount: number; timeoutMs: number; pollMs: number },
): Promise<{ runningCount: number }> {
  const update = new UpdateServiceCommand({
    cluster: args.cluster,
    service: args.service,
    desiredCount: args.desiredCount,
  });
  await ecs.send(update).catch((error: unknown) => {
    throw new Error(
      `ECS service ${args.service} in ${args.cluster} could not be set to ${args.desiredCount} tasks ` +
        `(${error instanceof Error ? error.message : String(error)}); check that it exists in this region.`,
      { cause: error },
    );
  });
  const deadline = Date.now() + args.timeoutMs;
  for (;;) {
    const answer = await ecs.send(
      new DescribeServicesCommand({ cluster: args.cluster, services: [args.service] }),
    );
    const found = answer.services?.[0];
    const running = found?.runningCount ?? 0;
    if (found && running === args.desiredCount && (found.pendingCount ?? 0) === 0)
      return { runningCount: running };
    if (Date.now() >= deadline) {
      throw new Error(
        `ECS service ${args.service} in ${args.cluster} did not reach ${args.desiredCount} running tasks within ` +
          `${Math.round(args.timeoutMs / 1000)} s (running: ${running}); check its events in the ECS console.`,
      );
    }
    await sleep(args.pollMs);
  }
}
