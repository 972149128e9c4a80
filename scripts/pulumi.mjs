#!/usr/bin/env node
// `npm run pulumi -- <args>`: the Pulumi engine the set-up chose, run in the project with its file
// backend, its Pulumi home and the development passphrase for the local stack. Exits with the
// engine's exit code.
import { buildIfStale } from "./lib/build.mjs";
import { runPulumi } from "./lib/run-pulumi.mjs";

try {
  // The engine runs the compiled program: compile what changed first.
  buildIfStale();
  const { code } = await runPulumi(process.argv.slice(2));
  process.exit(code);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
