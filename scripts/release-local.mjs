#!/usr/bin/env node
// The main job: release the project to the `local` stack with the policy pack as the gate, then
// say what was released and where. Safe to run again: a second run changes nothing.
//
//   npm run release:local                                  # the manifest the stack's config names
//   npm run release:local -- releases/sample-app/v2.yaml   # set the stack's manifest, then release it
//   npm run release:local -- releases/sample-app/v1.yaml --restore-data [--backup <id>]
//                                                          # roll back to v1 and put back the data from
//                                                          # before the live release changed it
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildIfStale } from "./lib/build.mjs";
import { root } from "./lib/engine.mjs";
import { clearStaleLocks } from "./lib/locks.mjs";
import { runPulumi } from "./lib/run-pulumi.mjs";
import { localStatus, printStatus } from "./status.mjs";

const stack = process.env.SHIPGATE_STACK ?? "local";

function step(message) {
  process.stderr.write(`\n==> ${message}\n`);
}

function printLive() {
  try {
    printStatus(localStatus(stack), (line) => process.stderr.write(`  ${line}\n`));
  } catch {
    // no local status to show (another platform, or nothing released yet)
  }
}

async function pulumi(args, options) {
  const result = await runPulumi(args, options);
  if (result.code !== 0) {
    process.stderr.write(
      `\nrelease stopped: \`pulumi ${args.join(" ")}\` failed (exit ${result.code}). The diagnostics above ` +
        `name the step that failed and why; the steps after it did not run. What users get now:\n`,
    );
    printLive();
    process.exit(result.code);
  }
  return result.stdout;
}

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { "restore-data": { type: "boolean", default: false }, backup: { type: "string" } },
});

buildIfStale();
step(`selecting stack ${stack} (created on first use, state in .pulumi-state/)`);
await pulumi(["stack", "select", stack, "--create"]);

const manifest = positionals[0];
if (manifest) {
  step(`setting the release manifest of stack ${stack} to ${manifest}`);
  await pulumi(["config", "set", "shipgate:manifest", manifest, "--stack", stack]);
}
if (options["restore-data"]) {
  // By default the backup the live release took before it changed any data; --backup <id> picks another.
  const backup = options.backup ?? localStatus(stack).restorableBackup;
  if (!backup) {
    process.stderr.write(
      "--restore-data: no deployment record names a backup of the live release; pass --backup <id> " +
        `(the backups are in the stack's backups/ folder).\n`,
    );
    process.exit(2);
  }
  step(`restoring the data of backup ${backup} before the switch`);
  await pulumi(["config", "set", "shipgate:restoreBackup", backup, "--stack", stack]);
} else if (manifest) {
  await runPulumi(["config", "rm", "shipgate:restoreBackup", "--stack", stack], { capture: true });
}

// An engine killed during an earlier release leaves its lock: remove it when that engine is gone.
for (const lock of clearStaleLocks(stack)) {
  step(`removed the lock of an engine that no longer runs (pid ${lock.pid}, since ${lock.timestamp})`);
}

// --refresh first reads what really runs (processes, the router's colour), so an interrupted or
// rolled-back release is seen as it is before anything changes.
step(`pulumi up --refresh --stack ${stack} with the policy pack in policies/`);
// The pack's config for the stack (policies/config/<stack>.json) sets its enforcement levels and
// trusted approver keys; see docs/policies.md.
const policyConfig = join(root, "policies", "config", `${stack}.json`);
await pulumi([
  "up",
  "--refresh",
  "--stack",
  stack,
  "--yes",
  "--policy-pack",
  join(root, "policies"),
  ...(existsSync(policyConfig) ? ["--policy-pack-config", policyConfig] : []),
]);

const outputs = JSON.parse(await pulumi(["stack", "output", "--stack", stack, "--json"], { capture: true }));
step(`released to stack ${stack}`);
for (const [key, value] of Object.entries(outputs)) {
  process.stdout.write(`  ${key}: ${typeof value === "string" ? value : JSON.stringify(value)}\n`);
}
if (outputs.url)
  process.stdout.write(`\nServed at ${outputs.url} (${outputs.liveVersion} on ${outputs.activeColor}).\n`);
