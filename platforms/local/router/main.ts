// Entry point of the router process: `node dist/platforms/local/router/main.js <router-state.json>`.
// Started detached by the local platform; stops cleanly on SIGTERM or SIGINT, and exits when its nginx
// ends unasked.
import { resolve } from "node:path";
import { nginxFromEnv, slotPortsFromEnv } from "./nginx";
import { type RunningRouter, startRouter } from "./server";

async function main(): Promise<void> {
  const stateFile = process.argv[2];
  if (stateFile === undefined || stateFile === "") {
    process.stderr.write("usage: node dist/platforms/local/router/main.js <path-to-router-state.json>\n");
    process.exit(2);
  }
  // SHIPGATE_NGINX names the nginx that carries user traffic; without it the router forwards itself.
  const started: { router?: RunningRouter } = {};
  const router = await startRouter(resolve(stateFile), {
    nginx: nginxFromEnv(),
    slotPorts: slotPortsFromEnv(),
    // Users would meet a closed port: exit, so that the supervisor starts the router (and nginx) again.
    onDataPlaneExit: () => {
      void (started.router?.close() ?? Promise.resolve()).finally(() => process.exit(1));
    },
  });
  started.router = router;
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
