#!/usr/bin/env node
// Measures what the policy pack adds to a no-change `pulumi preview` of a released local stack: the
// same preview without the pack, with the project's pack, and with any other pack folders given
// (for instance the pack of an earlier commit, extracted and built elsewhere), run in turns so that
// every variant sees the same machine. Prints medians and their ratios to the preview without the
// pack, and the load average before and after. Not a test: it asserts nothing.
//
//   node scripts/bench/preview-pack.mjs [runs] [name=<pack folder>[@<engine bin folder>] ...]
//
// runs defaults to 7. A variant may also name another engine's bin folder (pulumi and its plugins),
// to compare a change of the language host, which starts the pack and carries its calls.
//
// It releases the sample app's v1 to a throwaway development stack `dev-pvbench-<random>` in a
// private file backend under the system's temporary folder, on four free ports in 27000-27999 (the
// range kept for benchmarks), then previews it; it destroys and removes all of it at the end.
// SHIPGATE_BENCH_KEEP_STACK=1 prints the stack's backend and leaves it (for profiling by hand).
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { freePorts, throwawayStack } from "../lib/bench-stack.mjs";
import { buildIfStale } from "../lib/build.mjs";
import { requireEngine, root } from "../lib/engine.mjs";

const runs = Number(process.argv[2] ?? "7");
if (!Number.isInteger(runs) || runs < 1) {
  throw new Error(`runs must be a whole number from 1, got ${process.argv[2]}`);
}
const packConfig = join(root, "policies", "config", "local.json");
/** Each variant's extra preview arguments: no pack, the project's pack, then those given. */
const variants = [
  { name: "no pack", args: [] },
  { name: "pack", args: ["--policy-pack", join(root, "policies"), "--policy-pack-config", packConfig] },
  ...process.argv.slice(3).map((arg) => {
    const match = /^([^=]+)=([^@]+)(?:@(.+))?$/.exec(arg);
    if (!match) throw new Error(`a variant is name=<pack folder>[@<engine bin folder>], got ${arg}`);
    const [, name, packDir, binDir] = match;
    const dir = resolve(packDir);
    if (!existsSync(join(dir, "PulumiPolicy.yaml"))) throw new Error(`${dir} holds no PulumiPolicy.yaml`);
    if (binDir && !existsSync(join(binDir, "pulumi"))) throw new Error(`${binDir} holds no pulumi`);
    return {
      name,
      args: ["--policy-pack", dir, "--policy-pack-config", packConfig],
      binDir: binDir && resolve(binDir),
    };
  }),
];

const log = (message) => process.stderr.write(`bench: ${message}\n`);

buildIfStale();
const engine = requireEngine();
const throwaway = throwawayStack(engine, "dev-pvbench", log);
const { stack, backendDir, stackFile, pulumi } = throwaway;
const keep = process.env.SHIPGATE_BENCH_KEEP_STACK === "1";

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");

let created = false;
const times = new Map(variants.map((variant) => [variant.name, []]));
const loadBefore = load();
try {
  const port = await freePorts();
  log(`stack ${stack} in ${backendDir}, router on 127.0.0.1:${port}`);
  await throwaway.init();
  created = true;
  throwaway.writeConfig(port, "releases/sample-app/v1.yaml", 200);
  // The second up settles what the first release's record and verification carry over; from then
  // on the stack previews without changes.
  log("releasing v1, then updating once more ...");
  await pulumi(["up", "--yes", "--skip-preview", "--non-interactive", "--diff=false"]);
  await pulumi(["up", "--yes", "--skip-preview", "--non-interactive", "--diff=false"]);
  const preview = (variant) =>
    pulumi(
      ["preview", "--non-interactive", "--diff=false", "--expect-no-changes", ...variant.args],
      variant.binDir,
    );
  // One unmeasured preview per variant fills the packs' code caches, as any earlier run has.
  for (const variant of variants) await preview(variant);
  log(`previews: ${runs} of each of ${variants.map((v) => v.name).join(", ")}, in turns ...`);
  for (let i = 0; i < runs; i += 1) {
    // Each round starts with another variant, so none is always the one after a quiet moment.
    for (let j = 0; j < variants.length; j += 1) {
      const variant = variants[(i + j) % variants.length];
      times.get(variant.name).push((await preview(variant)).ms);
    }
  }
} finally {
  if (keep && created) {
    log(`kept: PULUMI_BACKEND_URL=file://${backendDir} --stack ${stack} (remove ${stackFile} after)`);
  } else {
    await throwaway.remove();
  }
}

const base = median(times.get("no pack"));
process.stdout.write(`\nload average before: ${loadBefore}, after: ${load()}\n\n`);
process.stdout.write(`${"variant".padEnd(16)}${"median".padStart(10)}${"ratio".padStart(8)}  runs (ms)\n`);
for (const [name, values] of times) {
  const m = median(values);
  process.stdout.write(
    `${name.padEnd(16)}${`${m.toFixed(0)} ms`.padStart(10)}${(m / base).toFixed(2).padStart(8)}  ${values
      .map((v) => v.toFixed(0))
      .join(" ")}\n`,
  );
}
