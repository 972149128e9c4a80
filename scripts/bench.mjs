#!/usr/bin/env node
// Benchmarks of the engine set-up and program start. Machines are noisy, so every figure is also
// printed as a ratio to a plain `node -e ''` start measured in the same run. Not a test: it asserts
// nothing; it prints, and writes the figures to .bench/engine.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildIfStale } from "./lib/build.mjs";
import { engineEnv, requireEngine, root } from "./lib/engine.mjs";

const runs = Number(process.env.SHIPGATE_BENCH_RUNS ?? 5);

function timeOnce(command, args, options = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8", ...options });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return { ms, stdout: result.stdout };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(label, count, fn) {
  process.stderr.write(`bench: ${label} (${count} runs) ...\n`);
  const samples = [];
  for (let i = 0; i < count; i += 1) samples.push(fn());
  return median(samples);
}

buildIfStale();
const engine = requireEngine();
const env = engineEnv(engine);
const node = process.execPath;
const pulumi = join(engine.binDir, "pulumi");

const baseline = measure("node -e '' (baseline)", runs * 2, () => timeOnce(node, ["-e", ""]).ms);
const setup = measure("engine set-up, cached", runs, () => timeOnce(node, ["scripts/setup.mjs"]).ms);
const engineVersion = measure("pulumi version", runs, () => timeOnce(pulumi, ["version"], { env }).ms);

const programStart = {};
for (const mode of ["js", "ts-node-transpile", "ts-node"]) {
  programStart[mode] = measure(`program start to first registration (${mode})`, runs, () => {
    const { stdout } = timeOnce(node, ["scripts/bench/program-start.cjs", mode], { env });
    return JSON.parse(stdout.trim().split("\n").pop()).firstRegistrationMs;
  });
}
const incrementalBuild = measure("tsc incremental build after a one-file change", Math.min(runs, 3), () => {
  timeOnce("touch", [join(root, "index.ts")]);
  return timeOnce(node, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"])
    .ms;
});

spawnSync(pulumi, ["stack", "select", "local", "--create"], { cwd: root, env, stdio: "ignore" });
timeOnce(pulumi, ["up", "--stack", "local", "--yes", "--skip-preview"], { env });
const preview = measure(
  "no-op pulumi preview of the local stack",
  Math.min(runs, 3),
  () => timeOnce(pulumi, ["preview", "--stack", "local", "--expect-no-changes"], { env }).ms,
);

const rows = [
  ["node -e '' (baseline)", baseline],
  ["engine set-up, cached (npm run setup)", setup],
  ["pulumi version", engineVersion],
  ["program start, compiled JavaScript", programStart["js"]],
  ["program start, ts-node transpile-only", programStart["ts-node-transpile"]],
  ["program start, ts-node type-checked", programStart["ts-node"]],
  ["compiled JavaScript + incremental tsc after a change", programStart["js"] + incrementalBuild],
  ["no-op pulumi preview, local stack", preview],
];
process.stdout.write(`\n${"measurement".padEnd(56)}${"median ms".padStart(12)}${"x node".padStart(10)}\n`);
for (const [label, ms] of rows) {
  process.stdout.write(
    `${label.padEnd(56)}${ms.toFixed(0).padStart(12)}${(ms / baseline).toFixed(1).padStart(10)}\n`,
  );
}
mkdirSync(join(root, ".bench"), { recursive: true });
writeFileSync(
  join(root, ".bench", "engine.json"),
  `${JSON.stringify({ runs, rows: rows.map(([label, ms]) => ({ label, ms, ratioToNode: ms / baseline })) }, null, 2)}\n`,
);
