// Entry point of the router process: `node dist/platforms/local/router/main.js <router-state.json>`.
// Started detached by the local platform; stops cleanly on SIGTERM or SIGINT.
import { resolve } from "node:path";
import { startRouter } from "./server";

async function main(): Promise<void> {
  const stateFile = process.argv[2];
  if (stateFile === undefined || stateFile === "") {
    process.stderr.write("usage: node dist/platforms/local/router/main.js <path-to-router-state.json>\n");
    process.exit(2);
  }
  const router = await startRouter(resolve(stateFile));
  const stop = (signal: string) => {
    process.stdout.write(`${new Date().toISOString()} shipgate-router received ${signal}\n`);
    router.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shipgate-router: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`shipgate-router: ${(error as Error).message}\n`);
  process.exit(1);
});
