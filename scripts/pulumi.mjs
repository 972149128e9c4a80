#!/usr/bin/env node
// `npm run pulumi -- <args>`: the Pulumi engine the set-up chose, run in the project with its file
// backend, its Pulumi home and the development passphrase for the local stack. Exits with the
// engine's exit code.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chosenEngine, engineEnv, root, stateDir } from "./lib/engine.mjs";

const engine = chosenEngine();
if (!engine) {
  process.stderr.write("The Pulumi engine is not set up yet: run `npm run setup` (it installs or builds it).\n");
  process.exit(1);
}

// The file backend needs its folder to exist.
mkdirSync(stateDir, { recursive: true });

const child = spawn(join(engine.binDir, "pulumi"), process.argv.slice(2), {
  cwd: root,
  env: engineEnv(engine),
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("close", (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
