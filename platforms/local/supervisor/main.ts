// Entry point of a service's supervisor: `node dist/platforms/local/supervisor/main.js <router-dir>`.
// Started detached by the router's resource, in its own process group, so it outlives the engine;
// the router's delete stops it with SIGTERM (it finishes a restart in progress, then exits).
import { resolve } from "node:path";
import { actOnOwnAuthority } from "../engine-watch";
import { supervise } from "./supervise";

// It acts between engine runs: the engine-run guards of the platform's modules do not apply to it.
actOnOwnAuthority();

const routerDir = process.argv[2];
if (routerDir === undefined || routerDir === "") {
  process.stderr.write(
    "usage: node dist/platforms/local/supervisor/main.js <services/<service>/router folder>\n",
  );
  process.exit(2);
}
const supervisor = supervise({ routerDir: resolve(routerDir), onGone: () => process.exit(0) });
const stop = (signal: string) => {
  process.stdout.write(`${new Date().toISOString()} shipgate-supervisor received ${signal}\n`);
  supervisor.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGTERM", () => stop("SIGTERM"));
process.once("SIGINT", () => stop("SIGINT"));
