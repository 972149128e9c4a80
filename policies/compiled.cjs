// Whether the compiled policy pack in dist/ is current, for policies/main.cjs. A compiled pack older
// than its sources would enforce rules that are no longer written, so it is used only when no source
// of the pack is newer than the last build.
"use strict";
const { existsSync, readdirSync, statSync } = require("node:fs");
const { join } = require("node:path");

/** What the pack is built from, relative to the project folder. */
const packSources = ["policies", "release", "contract", "tsconfig.json", "tsconfig.build.json"];

/** The newest modification time under `path` (0 when it does not exist); skips node_modules. */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules") continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** The compiled entry of the pack under the project folder `root`. */
function compiledEntry(root) {
  return join(root, "dist", "policies", "index.js");
}

/** True when `root`'s build of the pack exists and no source of the pack is newer than it. */
function compiledIsCurrent(root) {
  const buildInfo = join(root, "dist", ".tsbuildinfo");
  if (!existsSync(buildInfo) || !existsSync(compiledEntry(root))) return false;
  const built = statSync(buildInfo).mtimeMs;
  return packSources.every((source) => newestMtime(join(root, source)) <= built);
}

module.exports = { compiledEntry, compiledIsCurrent, packSources };
