#!/usr/bin/env node
// The main job: release the project to the `local` stack with the policy pack as the gate, then
// say what was released and where. Safe to run again: a second run changes nothing.
//
//   npm run release:local                                  # the manifest the stack's config names
//   npm run release:local -- releases/sample-app/v2.yaml   # set the stack's manifest, then release it
import { join } from "node:path";
import { buildIfStale } from "./lib/build.mjs";
import { root } from "./lib/engine.mjs";
import { runPulumi } from "./lib/run-pulumi.mjs";

const stack = process.env.SHIPGATE_STACK ?? "local";

function step(message) {
  process.stderr.write(`\n==> ${message}\n`);
}

async function pulumi(args, options) {
  const result = await runPulumi(args, options);
  if (result.code !== 0) {
    process.stderr.write(
      `\nrelease stopped: \`pulumi ${args.join(" ")}\` failed (exit ${result.code}). ` +
        `Read the policy results and diagnostics above; nothing past the failing step changed.\n`,
    );
    process.exit(result.code);
  }
  return result.stdout;
}

buildIfStale();
step(`selecting stack ${stack} (created on first use, state in .pulumi-state/)`);
await pulumi(["stack", "select", stack, "--create"]);

const manifest = process.argv[2];
if (manifest) {
  step(`setting the release manifest of stack ${stack} to ${manifest}`);
  await pulumi(["config", "set", "shipgate:manifest", manifest, "--stack", stack]);
}

// --refresh first reads what really runs (processes, the router's colour), so an interrupted or
// rolled-back release is seen as it is before anything changes.
step(`pulumi up --refresh --stack ${stack} with the policy pack in policies/`);
await pulumi(["up", "--refresh", "--stack", stack, "--yes", "--policy-pack", join(root, "policies")]);

const outputs = JSON.parse(await pulumi(["stack", "output", "--stack", stack, "--json"], { capture: true }));
step(`released to stack ${stack}`);
for (const [key, value] of Object.entries(outputs)) {
  process.stdout.write(`  ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}\n`);
}
