// The policy pack's bundle: the pack and everything it imports in one file, dist/policies/pack.cjs,
// which the build writes (scripts/lib/bundle-pack.mjs) together with a record of what it was built
// from. A bundle older than its sources would enforce rules that are no longer written, so it is
// used only while the record still matches: the bundle itself, every source file of ours that went
// into it (by content, so a copy that kept old modification times is caught too), the TypeScript
// settings, the bundler script and package-lock.json (which pins the packages it bundled).
"use strict";
const { createHash } = require("node:crypto");
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

/** Files that shape the bundle besides the sources the bundler reads, relative to the project. */
const bundleSettings = [
  "package-lock.json",
  "tsconfig.json",
  "policies/tsconfig.json",
  "scripts/lib/bundle-pack.mjs",
];

/** The bundle under the project folder `root`. */
function bundleFile(root) {
  return join(root, "dist", "policies", "pack.cjs");
}

/** The record of what the bundle under `root` was built from. */
function bundleRecordFile(root) {
  return join(root, "dist", "policies", "pack.sources.json");
}

function sha256(content) {
  return createHash("sha256").update(content).digest("hex");
}

/** The content hash of `path` under `root`, or "missing" when there is no such file. */
function fileHash(root, path) {
  const file = join(root, path);
  return existsSync(file) ? sha256(readFileSync(file)) : "missing";
}

/**
 * The record for a bundle built from `sources` (project-relative path to the content hash the bundler
 * read), to be written next to `bundle` once the bundle is in place.
 */
function bundleRecord(root, bundle, sources) {
  const settings = {};
  for (const path of bundleSettings) settings[path] = fileHash(root, path);
  return { bundle: sha256(bundle), sources, settings };
}

/**
 * Whether the bundle under `root` may run: `{ current: true }`, or `{ current: false, reason }` with
 * what differs (no bundle, or the first source that changed since it was built).
 */
function bundleState(root) {
  const state = currentBundle(root);
  return state.current ? { current: true } : state;
}

/**
 * `bundleState`, with the bundle's content and SHA-256 when it may run (`{ current: true, content,
 * hash }`): the starter runs the very bytes that were checked, read and hashed once.
 */
function currentBundle(root) {
  const recordFile = bundleRecordFile(root);
  if (!existsSync(recordFile) || !existsSync(bundleFile(root))) {
    return { current: false, reason: "the pack has not been bundled yet (dist/policies/pack.cjs)" };
  }
  let record;
  try {
    record = JSON.parse(readFileSync(recordFile, "utf8"));
  } catch {
    return { current: false, reason: "the record of the pack's bundle is unreadable" };
  }
  if (typeof record !== "object" || record === null || !record.sources || !record.settings) {
    return { current: false, reason: "the record of the pack's bundle is incomplete" };
  }
  const content = readFileSync(bundleFile(root));
  const hash = sha256(content);
  if (record.bundle !== hash) {
    return { current: false, reason: "the pack's bundle is not the one its record describes" };
  }
  for (const path of bundleSettings) {
    if (record.settings[path] !== fileHash(root, path)) {
      return { current: false, reason: `${path} changed since the pack was bundled` };
    }
  }
  for (const [path, hash] of Object.entries(record.sources)) {
    if (fileHash(root, path) !== hash) {
      return { current: false, reason: `${path} changed since the pack was bundled` };
    }
  }
  return { current: true, content, hash };
}

module.exports = {
  bundleFile,
  bundleRecord,
  bundleRecordFile,
  bundleSettings,
  bundleState,
  currentBundle,
  sha256,
};
