#!/usr/bin/env node
// Measures how long the policy pack takes to start, the way shipgate's language host starts it:
// `node policies/runner.cjs <engine address> <pack folder>` in the pack's folder, until the pack
// prints the port it serves on (the engine waits for that line before it runs the program). Reports
// the median wall time and CPU time (all the process's threads) from spawn to the port, for each
// variant, alternating the variants run by run so that all see the same machine. Not a test.
//
//   node scripts/bench/pack-start.mjs [runs [baseline runner]]      (runs: default 11)
//
// Variants, on the project's Node.js (node_modules/.bin/node, what the engine runs) and on the
// system's `node` when that is another version: a bare `node -e ''` for scale; the pack with the code
// caches off (NODE_DISABLE_COMPILE_CACHE=1); the pack with them warm (filled by one start before the
// measured ones, which keeps the pack running for a second, as a preview does, so it writes its code
// cache; Node.js's compile cache in a folder of this run); and the baseline runner, if given, warm in
// the same way. Ratios are to the caches-off start on the same Node.js, and of runner.cjs to the
// baseline, all from this run. To compare with an earlier starter, copy it into policies/ (it finds
// the bundle from its own folder):
//
//   git show <commit>:policies/runner.cjs > policies/runner-before.cjs
//   node scripts/bench/pack-start.mjs 15 policies/runner-before.cjs; rm policies/runner-before.cjs
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { root } from "../lib/engine.mjs";

const runs = Number(process.argv[2] ?? "11");
// Another starter to compare with, e.g. an older runner.cjs copied into policies/ (it finds the
// bundle from its own folder).
const baseline = process.argv[3] && resolve(process.argv[3]);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`runs must be a whole number from 1, got ${process.argv[2]}`);

const packDir = join(root, "policies");
const runner = join(packDir, "runner.cjs");
const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** CPU time of process `pid` so far, in ms: every thread's run time (ns) where the kernel shows it. */
function cpuMs(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    }
    return ns / 1e6;
  } catch {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1000;
  }
}

/**
 * Starts `node args` with `env` until it prints a line matching `until` (or exits); its wall and CPU
 * ms. The process is killed then, or `holdMs` later (a preview keeps the pack running for seconds, in
 * which it writes its code cache).
 */
function once(node, args, env, until, holdMs = 0) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(node, args, { cwd: packDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const wall = performance.now() - started;
      const cpu = cpuMs(child.pid);
      setTimeout(() => {
        child.kill("SIGKILL");
        resolve({ wall, cpu });
      }, holdMs);
    };
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (until && until.test(stdout)) finish();
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (done) return;
      if (until) reject(new Error(`${node} ${args.join(" ")} exited (${code}) before serving:\n${stderr}`));
      else {
        done = true;
        // Exited on its own: the CPU figure is the kernel's account of the reaped child.
        resolve({ wall: performance.now() - started, cpu: Number.NaN });
      }
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const version = (node) => execFileSync(node, ["--version"], { encoding: "utf8" }).trim();

const nodes = [join(root, "node_modules", ".bin", "node"), "node"]
  .filter((node, i) => (i === 0 ? existsSync(node) : true))
  .map((node) => ({ node, version: version(node) }))
  .filter((entry, i, all) => all.findIndex((other) => other.version === entry.version) === i);

const cacheRoot = mkdtempSync(join(tmpdir(), "shipgate-pack-start-"));
const base = {
  ...process.env,
  PULUMI_NODEJS_STACK: "local",
  PULUMI_NODEJS_PROJECT: "shipgate",
  PULUMI_NODEJS_ORGANIZATION: "organization",
  PULUMI_NODEJS_DRY_RUN: "true",
  PULUMI_CONFIG: "{}",
  PULUMI_CONFIG_SECRET_KEYS: "[]",
};
delete base.NODE_COMPILE_CACHE;
delete base.NODE_DISABLE_COMPILE_CACHE;

const variants = [];
for (const { node, version: v } of nodes) {
  const warm = { ...base, NODE_COMPILE_CACHE: join(cacheRoot, v, "node-compile-cache") };
  const pack = (kind, name, starter, env) =>
    variants.push({ name, node, version: v, kind, args: [starter, "127.0.0.1:1", packDir], env, pack: true });
  variants.push({ name: `node ${v} -e ''`, node, version: v, kind: "bare", args: ["-e", ""], env: base });
  pack("off", `pack on node ${v}, caches off`, runner, { ...base, NODE_DISABLE_COMPILE_CACHE: "1" });
  if (baseline) pack("baseline", `${basename(baseline)} on node ${v}, caches warm`, baseline, warm);
  pack("warm", `pack on node ${v}, caches warm`, runner, warm);
}

try {
  process.stderr.write(`pack start: ${runs} runs of ${variants.length} variants, alternating ...\n`);
  for (const variant of variants)
    await once(variant.node, variant.args, variant.env, variant.pack && /^\d+\n/, 1000);
  const samples = variants.map(() => ({ wall: [], cpu: [] }));
  for (let i = 0; i < runs; i += 1) {
    for (const [j, variant] of variants.entries()) {
      const { wall, cpu } = await once(variant.node, variant.args, variant.env, variant.pack && /^\d+\n/);
      samples[j].wall.push(wall);
      samples[j].cpu.push(cpu);
    }
    process.stderr.write(`  run ${i + 1}/${runs}\n`);
  }
  const rows = variants.map((variant, j) => ({
    variant: variant.name,
    version: variant.version,
    kind: variant.kind,
    wallMs: median(samples[j].wall),
    cpuMs: median(samples[j].cpu),
  }));
  const row = (version, kind) => rows.find((r) => r.version === version && r.kind === kind);
  const ratio = (a, b) => (a && b && !Number.isNaN(a) && !Number.isNaN(b) ? (a / b).toFixed(2) : "");
  const widths = [50, 9, 9, 11, 11];
  const line = (cells) =>
    `${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("")}\n`;
  process.stdout.write(
    `\n${line(["start to port printed (medians)", "wall ms", "cpu ms", "wall x off", "cpu x off"])}`,
  );
  for (const r of rows) {
    const off = row(r.version, "off");
    const measured = r.kind !== "bare" && r.kind !== "off";
    process.stdout.write(
      line([
        r.variant,
        r.wallMs.toFixed(0),
        Number.isNaN(r.cpuMs) ? "" : r.cpuMs.toFixed(0),
        measured ? ratio(r.wallMs, off?.wallMs) : "",
        measured ? ratio(r.cpuMs, off?.cpuMs) : "",
      ]),
    );
  }
  const comparisons = [];
  if (baseline) {
    for (const { version: v } of nodes) {
      const warm = row(v, "warm");
      const before = row(v, "baseline");
      const comparison = { version: v, wall: warm.wallMs / before.wallMs, cpu: warm.cpuMs / before.cpuMs };
      comparisons.push(comparison);
      process.stdout.write(
        `node ${v}: runner.cjs / ${basename(baseline)}, caches warm: ${comparison.wall.toFixed(2)}x wall, ${comparison.cpu.toFixed(2)}x cpu\n`,
      );
    }
  }
  process.stdout.write(`\n${JSON.stringify({ runs, rows, comparisons })}\n`);
} finally {
  rmSync(cacheRoot, { recursive: true, force: true });
}
