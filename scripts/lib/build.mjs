// Compiles the program to dist/ when a source file is newer than the last build. The engine starts
// the compiled JavaScript (see Pulumi.yaml), so every way in builds first.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { root } from "./engine.mjs";

const sources = [
  "index.ts",
  "config.ts",
  "components",
  "platforms",
  "release",
  "cli",
  "policies",
  "tsconfig.json",
  "tsconfig.build.json",
];
const buildInfo = join(root, "dist", ".tsbuildinfo");

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when dist/ is missing or older than a source file. */
export function buildIsStale() {
  if (!existsSync(buildInfo)) return true;
  const built = statSync(buildInfo).mtimeMs;
  return sources.some((source) => newestMtime(join(root, source)) > built);
}

/** Runs `tsc -p tsconfig.build.json` when the build is stale; exits the process when it fails. */
export function buildIfStale(log = (message) => process.stderr.write(`${message}\n`)) {
  if (!buildIsStale()) return;
  const started = Date.now();
  log("build: compiling the program (tsc -p tsconfig.build.json) ...");
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) {
    log("build failed: fix the TypeScript errors above, then run the command again.");
    process.exit(result.status ?? 1);
  }
  // tsc leaves its build info untouched when a newer file changed nothing it emits (a comment in a
  // file it does not compile, say); mark the build as current so the next check is quick again.
  const now = new Date();
  if (existsSync(buildInfo)) utimesSync(buildInfo, now, now);
  log(`build: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}
