#!/usr/bin/env node
// Benchmarks of a release on the local platform, each printed as a ratio to a baseline measured in
// the same run (machines are noisy; compare ratios, not milliseconds). Not a test: it asserts
// nothing; it prints a table and writes the figures to .bench/release.json.
//
//   1. Rollback (releasing the previous manifest while its build is still warm) against a no-op
//      `pulumi up` of the same stack.
//   2. Requests through the router against requests straight to the app, under the same load.
//   3. createBackup of a generated data folder against a plain recursive copy (fs.cp) of it.
//   4. A no-change preview with the full policy pack (every policy evaluated, advisory) against the
//      same preview without it: the pack's start-up and checks, which every preview and `up` pays.
//
// It uses a throwaway development stack `dev-bench-<random>` in a private file backend under the system's temporary
// folder, with its own ports and working folder, and destroys and removes all of it at the end.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cp, mkdir, writeFile } from "node:fs/promises";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { freePorts, throwawayStack } from "./lib/bench-stack.mjs";
import { buildIfStale } from "./lib/build.mjs";
import { requireEngine, root } from "./lib/engine.mjs";

const loadClients = 8;
/**
 * Pairs of previews, one without the pack and one with it, back to back. A preview on two shared cores
 * varies by 15% or more from one run to the next (the same preview took 3.0 s to 4.8 s in one series),
 * more than the pack adds, so the figure is the median of each pair's own ratio: both previews of a
 * pair see the same moment of the machine, and a slow moment moves both.
 */
const previewRuns = 11;
/** Rounds of a no-op up followed by a rollback to the warm colour (see 1. below). */
const rollbackRounds = 3;
/** Rounds of load, alternating straight to the app and through the router, so neither side gets the quieter moments. */
const loadRounds = 3;
const loadSeconds = 3;
const backupMegabytes = 200;
const backupFileKilobytes = 100;
/**
 * The service's verification bake after a new build's switch. The rollback measured here is
 * fast-tracked (the same release succeeded before and blue still runs it) and bakes one interval.
 */
const bakeTimeMs = 1000;

const log = (message) => process.stderr.write(`bench: ${message}\n`);

buildIfStale();
const engine = requireEngine();
const throwaway = throwawayStack(engine, "dev-bench", log);
const { stack, backendDir, workDir, pulumi } = throwaway;
const scratch = mkdtempSync(join(tmpdir(), "shipgate-bench-data-"));
const writeStackConfig = (port, manifest) => throwaway.writeConfig(port, manifest, bakeTimeMs);

const up = (...extra) =>
  pulumi(["up", "--yes", "--skip-preview", "--non-interactive", "--diff=false", ...extra]);

/** The stack's outputs, to check that a release did what the figures assume. */
async function outputs() {
  const { output } = await pulumi(["stack", "output", "--json"]);
  return JSON.parse(output);
}

/** The colour the router answered one request with (x-shipgate-color). */
function routedColor(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/version" }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.headers["x-shipgate-color"]));
      })
      .on("error", reject);
  });
}

/**
 * `clients` keep-alive connections, each sending `GET /health` one after another for `seconds`, from
 * autocannon: a load generator that spends little CPU per request. On two cores the load generator
 * shares the CPU with the app and with the router, so a heavy one (Node.js's http client costs about
 * as much per request as the app's answer) makes any extra hop look slower than it is. Latencies are
 * taken from each response at full precision; autocannon's own histogram keeps whole milliseconds.
 */
async function load(port, clients, seconds) {
  const latencies = [];
  let failed = 0;
  const run = autocannon({
    url: `http://127.0.0.1:${port}/health`,
    connections: clients,
    duration: seconds,
    timeout: 5,
  });
  run.on("response", (_client, status, _bytes, ms) => {
    if (status === 200) latencies.push(ms);
    else failed += 1;
  });
  const result = await run;
  return { latencies, failed: failed + result.errors + result.timeouts, seconds };
}

/** The runs of one side taken together: every latency of every round, over all their seconds. */
function pooled(runs) {
  const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? NaN;
  return {
    ok: latencies.length,
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
    mean: latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length,
    p50: at(0.5),
    p95: at(0.95),
    perSecond: latencies.length / seconds,
  };
}

/** A data folder of `megabytes` in files of `kilobytes`, 100 to a sub-folder. */
async function generateData(dir, megabytes, kilobytes) {
  const count = Math.round((megabytes * 1024) / kilobytes);
  for (let i = 0; i < count; i += 1) {
    const sub = join(dir, `part-${String(Math.floor(i / 100)).padStart(3, "0")}`);
    if (i % 100 === 0) await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `item-${i}.bin`), randomBytes(kilobytes * 1024));
  }
  return { files: count, bytes: count * kilobytes * 1024 };
}

async function timed(fn) {
  const started = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

const figures = {};
try {
  const port = await freePorts();
  log(`stack ${stack} in ${backendDir}, router on 127.0.0.1:${port}, working folder ${workDir}`);
  await throwaway.init();

  // 1. Rollback against a no-op up: v1, then v2 (v1 stays warm on blue), then back to v1, which
  // routes users to a colour that still runs its build, which succeeded before. Each round releases
  // v2 (not measured; after the first round a roll-forward with its migration, never a rollback),
  // makes a no-op up and right after it the rollback to v1; the figure is the median of the rounds'
  // own ratios (an up on two shared cores varies by 10% or more from one run to the next, so one
  // pair alone says little).
  writeStackConfig(port, "releases/sample-app/v1.yaml");
  log("release v1 (first release) ...");
  const first = await up();
  let second;
  const rounds = [];
  for (let i = 0; i < rollbackRounds; i += 1) {
    writeStackConfig(port, "releases/sample-app/v2.yaml");
    log(`round ${i + 1} of ${rollbackRounds}: release v2 (green; v1 stays warm on blue) ...`);
    const forward = await up();
    second ??= forward;
    // An up of the release just made changes nothing (--expect-no-changes fails the bench otherwise).
    log(`round ${i + 1} of ${rollbackRounds}: a no-op up of v2, then v1 again while it is warm on blue ...`);
    const noop = await up("--expect-no-changes");
    writeStackConfig(port, "releases/sample-app/v1.yaml");
    const release = await up();
    const after = await outputs();
    if (after.activeColor !== "blue" || after.liveVersion !== "1.0.0") {
      throw new Error(
        `after the rollback users should get 1.0.0 on blue, the stack says ${JSON.stringify(after)}`,
      );
    }
    // The bake the release ran, as its verification step recorded it in the state.
    const state = JSON.parse((await pulumi(["stack", "export"])).output);
    const bake = state.deployment.resources.find((r) => r.urn.endsWith("::sample-app-verify-bake"))?.outputs;
    if (bake?.fastTrack !== true || typeof bake.fastTrackBakeMs !== "number") {
      throw new Error(
        `the rollback should have been fast-tracked, its verification says ${JSON.stringify(bake)}`,
      );
    }
    rounds.push({ noopMs: noop.ms, rollbackMs: release.ms, bakeMs: bake.fastTrackBakeMs });
  }
  const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rollbackMs = middle(rounds.map((r) => r.rollbackMs));
  const noopMs = middle(rounds.map((r) => r.noopMs));
  figures.rollback = {
    rounds,
    rollbackMs,
    noopUpMs: noopMs,
    bakeTimeMs,
    rollbackBakeMs: middle(rounds.map((r) => r.bakeMs)),
    beyondBakeMs: middle(rounds.map((r) => r.rollbackMs - r.noopMs - r.bakeMs)),
    firstReleaseMs: first.ms,
    secondReleaseMs: second.ms,
    ratios: rounds.map((r) => r.rollbackMs / r.noopMs),
    ratio: middle(rounds.map((r) => r.rollbackMs / r.noopMs)),
  };

  // 4. Preview with the policy pack against without, in pairs back to back (see `previewRuns`). The local policy config makes every policy advisory, so the pack runs
  // all of them and the preview succeeds although the sample manifests carry no approvals.
  const preview = (...extra) => pulumi(["preview", "--non-interactive", "--diff=false", ...extra]);
  const withPack = [
    "--policy-pack",
    join(root, "policies"),
    "--policy-pack-config",
    join(root, "policies", "config", "local.json"),
  ];
  log(`previews: ${previewRuns} pairs, one without the policy pack and one with it, back to back ...`);
  // Fills the pack's code cache and Node.js's compile cache, as any earlier run on the machine has.
  await preview(...withPack);
  const previews = { plain: [], pack: [] };
  for (let i = 0; i < previewRuns; i += 1) {
    // Every other pair starts with the pack, so neither side always runs right after the other.
    if (i % 2 === 0) {
      previews.plain.push((await preview()).ms);
      previews.pack.push((await preview(...withPack)).ms);
    } else {
      previews.pack.push((await preview(...withPack)).ms);
      previews.plain.push((await preview()).ms);
    }
  }
  const sorted = (values) => [...values].sort((a, b) => a - b);
  const median = (values) => sorted(values)[Math.floor(values.length / 2)];
  const pairRatios = previews.pack.map((ms, i) => ms / previews.plain[i]);
  const quartile = (values, q) => sorted(values)[Math.round((values.length - 1) * q)];
  figures.preview = {
    runs: previewRuns,
    plainRunsMs: previews.plain,
    packRunsMs: previews.pack,
    plainMs: median(previews.plain),
    packMs: median(previews.pack),
    pairRatios,
    pairRatioQuartiles: [quartile(pairRatios, 0.25), quartile(pairRatios, 0.75)],
    ratioOfMedians: median(previews.pack) / median(previews.plain),
    ratio: median(pairRatios),
  };

  // 2. Through the router against straight to the app (blue, live again after the rollback).
  log(
    `load: ${loadClients} keep-alive clients, ${loadRounds} rounds of ${loadSeconds} s straight to blue, then through the router ...`,
  );
  const color = await routedColor(port);
  if (color !== "blue") throw new Error(`the router answers from ${String(color)}, expected blue`);
  const directRuns = [];
  const routedRuns = [];
  for (let round = 0; round < loadRounds; round += 1) {
    directRuns.push(await load(port + 1, loadClients, loadSeconds));
    routedRuns.push(await load(port, loadClients, loadSeconds));
  }
  const direct = pooled(directRuns);
  const routed = pooled(routedRuns);
  figures.router = {
    clients: loadClients,
    rounds: loadRounds,
    seconds: loadSeconds,
    direct,
    router: routed,
    addedMeanMs: routed.mean - direct.mean,
    addedP50Ms: routed.p50 - direct.p50,
    addedP95Ms: routed.p95 - direct.p95,
    meanRatio: routed.mean / direct.mean,
    p95Ratio: routed.p95 / direct.p95,
    throughputRatio: routed.perSecond / direct.perSecond,
  };

  // 3. createBackup against fs.cp of the same generated data (page cache warm for both).
  log(`backup: generating ${backupMegabytes} MB in ${backupFileKilobytes} KB files ...`);
  const dataDir = join(scratch, "data");
  const size = await generateData(dataDir, backupMegabytes, backupFileKilobytes);
  const { createBackup } = await import(pathToFileURL(join(root, "dist/platforms/local/backup-ops.js")).href);
  const copy = await timed(() => cp(dataDir, join(scratch, "copy"), { recursive: true }));
  const backup = await timed(() =>
    createBackup({ dataDir, backupRoot: join(scratch, "backups"), backupId: "bench" }),
  );
  const mbPerSecond = (ms) => size.bytes / 1024 / 1024 / (ms / 1000);
  figures.backup = {
    files: size.files,
    bytes: size.bytes,
    backupMs: backup.ms,
    copyMs: copy.ms,
    backupMBps: mbPerSecond(backup.ms),
    copyMBps: mbPerSecond(copy.ms),
    ratio: mbPerSecond(backup.ms) / mbPerSecond(copy.ms),
  };
} finally {
  await throwaway.remove();
  rmSync(scratch, { recursive: true, force: true });
}

const ms = (value) => `${value.toFixed(0)} ms`;
const { rollback, router, backup, preview } = figures;
const rows = [
  [
    "rollback (v1 warm on blue)",
    ms(rollback.rollbackMs),
    `no-op up ${ms(rollback.noopUpMs)}`,
    rollback.ratio,
  ],
  [
    "rollback's bake (fast-tracked)",
    ms(rollback.rollbackBakeMs),
    `a release's ${ms(rollback.bakeTimeMs)}`,
    null,
  ],
  ["rollback beyond no-op and its bake", ms(rollback.beyondBakeMs), "", null],
  ["  its rounds' ratios", rollback.ratios.map((ratio) => ratio.toFixed(2)).join(" "), "", null],
  [
    "failed requests, router",
    `${router.router.failed} of ${router.router.ok + router.router.failed}`,
    `direct ${router.direct.failed} of ${router.direct.ok + router.direct.failed}`,
    null,
  ],
  [
    "mean latency, router",
    `${router.router.mean.toFixed(2)} ms`,
    `direct ${router.direct.mean.toFixed(2)} ms`,
    router.meanRatio,
  ],
  [
    "p50 latency, router",
    `${router.router.p50.toFixed(2)} ms`,
    `direct ${router.direct.p50.toFixed(2)} ms`,
    router.router.p50 / router.direct.p50,
  ],
  ["p50 added by router", `${router.addedP50Ms.toFixed(2)} ms`, "target <= 0.30 ms", null],
  [
    "p95 latency, router",
    `${router.router.p95.toFixed(2)} ms`,
    `direct ${router.direct.p95.toFixed(2)} ms`,
    router.p95Ratio,
  ],
  [
    "requests/s, router",
    router.router.perSecond.toFixed(0),
    `direct ${router.direct.perSecond.toFixed(0)}`,
    router.throughputRatio,
  ],
  [
    "backup MB/s (createBackup)",
    backup.backupMBps.toFixed(0),
    `fs.cp ${backup.copyMBps.toFixed(0)}`,
    backup.ratio,
  ],
  ["preview with policy pack", ms(preview.packMs), `without ${ms(preview.plainMs)}`, preview.ratio],
  [
    "  its pairs' middle half",
    `${preview.pairRatioQuartiles[0].toFixed(2)}-${preview.pairRatioQuartiles[1].toFixed(2)}`,
    `medians' ratio ${preview.ratioOfMedians.toFixed(2)}`,
    null,
  ],
];
process.stdout.write(
  `\n${"figure".padEnd(30)}${"measured".padStart(16)}${"baseline".padStart(22)}${"ratio".padStart(8)}\n`,
);
for (const [label, value, baseline, ratio] of rows) {
  const shown = ratio === null ? "-" : ratio.toFixed(2);
  process.stdout.write(
    `${label.padEnd(30)}${value.padStart(16)}${baseline.padStart(22)}${shown.padStart(8)}\n`,
  );
}
process.stdout.write(
  `
What the ratios mean:
- rollback: the time of \`pulumi up\` releasing v1 again while it still runs warm on blue (a routing
  change: backup and gate side by side, switch, a ${ms(rollback.rollbackBakeMs)} bake, record), over a no-op
  \`pulumi up\` of the same stack just before it (the engine's fixed cost); the median of
  ${rollback.rounds.length} such rounds' ratios (each after a release of v2), and the medians of their times.
  1.0 would mean a rollback costs nothing beyond running the engine at all. The bake is
  fast-tracked: v1 succeeded in this stack before and blue still runs it, so it bakes one interval
  instead of the ${ms(rollback.bakeTimeMs)} a new build bakes. "Beyond no-op and its bake" is what the
  rollback's own steps cost.
- router: the same ${router.clients} keep-alive clients, ${router.rounds} rounds of ${router.seconds} s each way,
  alternating straight to the app and through the router, figures over all rounds; failed requests are non-200 answers and errors (both should be 0); a latency
  ratio of 1.0 means the router adds nothing, ${router.addedMeanMs.toFixed(2)} ms is what it adds on
  average; requests/s below 1.0 is the share of the app's throughput left through the router.
- backup: createBackup (copy, per-file consistency check, SHA-256 of every file, manifest) of
  ${(backup.bytes / 1024 / 1024).toFixed(0)} MB in ${backup.files} files, over a plain fs.cp of the same data; 1.0 would mean
  the checksums and checks cost nothing.
- preview: a no-change \`pulumi preview\` with the full policy pack (every policy, advisory) over the
  same preview without it: ${preview.runs} pairs run back to back, the ratio is the median of the
  pairs' own ratios (the middle half of them below it; the times shown are medians); 1.0 would mean
  the pack's start and checks cost nothing. The engine waits for the pack to start before it runs the
  program.
`,
);
mkdirSync(join(root, ".bench"), { recursive: true });
writeFileSync(join(root, ".bench", "release.json"), `${JSON.stringify({ stack, ...figures }, null, 2)}\n`);
process.stdout.write("\nFigures written to .bench/release.json\n");
