// The child process of observe-reader.ts: reads a request (JSON) on stdin, observes the service with
// read-only AWS calls, and prints the observation (JSON) on stdout.
import { ecsClient, elbClient } from "./ops/clients";
import { observeAwsService } from "./ops/observe";
import type { AwsObserveRequest } from "./observe-reader";

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AwsObserveRequest;
  const observed = await observeAwsService(
    { elb: elbClient(request.aws), ecs: ecsClient(request.aws) },
    request,
  );
  process.stdout.write(JSON.stringify(observed));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  process.exit(1);
});
