// observe() runs at program time and must answer synchronously, while the AWS SDK is asynchronous: the
// reader runs ops/observe.ts in a child Node.js process (observe-main.ts, compiled to dist/) and reads
// its JSON answer. The child makes read-only calls with the default credential chain.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { AwsTarget } from "./ops/clients";
import type { ObserveArgs, ObservedAwsService } from "./ops/observe";

export type AwsObserveRequest = ObserveArgs & { readonly aws: AwsTarget };

/** Reads a service's route and slots from AWS. */
export type AwsObserveReader = (request: AwsObserveRequest) => ObservedAwsService;

export function awsObserveReader(projectDir: string): AwsObserveReader {
  const script = join(projectDir, "dist/platforms/aws/observe-main.js");
  return (request) => {
    try {
      const out = execFileSync(process.execPath, [script], {
        input: JSON.stringify(request),
        encoding: "utf8",
        stdio: ["pipe", "pipe", "pipe"],
        timeout: 60_000,
      });
      return JSON.parse(out) as ObservedAwsService;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(
        `observe: reading ${request.service} from AWS (${request.aws.region}) failed${stderr ? `: ${stderr}` : ""}. ` +
          `shipgate reads which colour is live before planning a release; check the AWS credentials of this shell ` +
          `(AWS_PROFILE or the default chain), the region, and that \`npm run build\` has compiled the program.`,
        { cause: error },
      );
    }
  };
}
