#!/usr/bin/env node
// Assembles every build of the sample app declared in sample-app/builds.json into
// .shipgate/artifacts/sample-app/<version>/ (server.mjs, data.mjs, migrate.mjs, the build's
// migrations/ and its release.json), then prints version -> tree digest. Deterministic: the same
// sources give the same digests on every machine. Runs after `npm run build` (it uses the digest
// from dist/platforms/local/artifact-ops.js, the one the local platform verifies with).
//
//   node scripts/build-sample-app.mjs [--json] [--out <dir>]
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const appDir = join(root, "sample-app");
const sharedFiles = ["server.mjs", "data.mjs", "migrate.mjs"];
const faults = [null, "unhealthy", "fails-after-requests"];

function fail(message) {
  process.stderr.write(`build-sample-app: ${message}\n`);
  process.exit(1);
}

const { values: options } = parseArgs({
  options: { json: { type: "boolean", default: false }, out: { type: "string" } },
});
const outDir = resolve(root, options.out ?? join(".shipgate", "artifacts", "sample-app"));

const artifactOps = join(root, "dist", "platforms", "local", "artifact-ops.js");
if (!existsSync(artifactOps)) fail(`${relative(root, artifactOps)} is missing: run \`npm run build\` first`);
const { treeDigest } = await import(pathToFileURL(artifactOps).href);

/** Checks one entry of builds.json; every message names the build and the field. */
async function checkBuild(build, index) {
  const where = `sample-app/builds.json builds[${index}]`;
  if (typeof build.version !== "string" || !/^\d+\.\d+\.\d+$/.test(build.version)) {
    fail(`${where}.version: expected "x.y.z", got ${JSON.stringify(build.version)}`);
  }
  if (!Number.isInteger(build.schema) || build.schema < 1) {
    fail(`${where}.schema: expected an integer >= 1, got ${JSON.stringify(build.schema)}`);
  }
  if (!faults.includes(build.fault)) {
    fail(
      `${where}.fault: expected null, "unhealthy" or "fails-after-requests", got ${JSON.stringify(build.fault)}`,
    );
  }
  if (
    build.fault === "fails-after-requests" &&
    !(Number.isInteger(build.failAfterRequests) && build.failAfterRequests > 0)
  ) {
    fail(`${where}.failAfterRequests: expected a positive integer with fault "fails-after-requests"`);
  }
  if (!Array.isArray(build.migrations)) fail(`${where}.migrations: expected an array of migration ids`);
  const migrations = [];
  for (const id of build.migrations) {
    const file = join(appDir, "migrations", `${id}.mjs`);
    if (typeof id !== "string" || !existsSync(file)) {
      fail(`${where}.migrations: ${JSON.stringify(id)} is not a file in sample-app/migrations/`);
    }
    migrations.push(await import(pathToFileURL(file).href));
  }
  const reaches = migrations.at(-1)?.to ?? 1;
  if (reaches !== build.schema) {
    fail(
      `${where}.migrations: expected them to bring the data to schema ${build.schema}, they reach schema ${reaches}`,
    );
  }
  return migrations;
}

/** The build's release.json, with a fixed key order so its bytes (and the digest) never wander. */
function releaseJson(build) {
  const release = { name: "sample-app", version: build.version, schema: build.schema, fault: build.fault };
  if (build.fault === "fails-after-requests") release.failAfterRequests = build.failAfterRequests;
  return `${JSON.stringify(release, null, 2)}\n`;
}

async function assemble(build) {
  const dest = join(outDir, build.version);
  const staging = `${dest}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, "migrations"), { recursive: true });
  for (const file of sharedFiles) await copyFile(join(appDir, file), join(staging, file));
  for (const id of build.migrations) {
    await copyFile(join(appDir, "migrations", `${id}.mjs`), join(staging, "migrations", `${id}.mjs`));
  }
  await writeFile(join(staging, "release.json"), releaseJson(build));
  await rm(dest, { recursive: true, force: true });
  await rename(staging, dest);
  return dest;
}

const declared = JSON.parse(await readFile(join(appDir, "builds.json"), "utf8"));
if (!Array.isArray(declared.builds)) fail('sample-app/builds.json: expected {"builds": [...]}');
const seen = new Set();
const results = [];
await mkdir(outDir, { recursive: true });
for (const [index, build] of declared.builds.entries()) {
  const migrations = await checkBuild(build, index);
  if (seen.has(build.version))
    fail(`sample-app/builds.json builds[${index}].version: ${build.version} is declared twice`);
  seen.add(build.version);
  const path = await assemble(build);
  results.push({
    version: build.version,
    schema: build.schema,
    fault: build.fault,
    migrations: build.migrations,
    // Whether the previous schema's app keeps working on the migrated data (blue-green is possible).
    backwardCompatible: migrations.at(-1)?.backwardCompatible ?? true,
    path,
    digest: await treeDigest(path),
  });
}

if (options.json) {
  process.stdout.write(`${JSON.stringify({ outDir, builds: results }, null, 2)}\n`);
} else {
  const rows = [["version", "schema", "fault", "backward-compatible", "digest"]];
  for (const r of results)
    rows.push([r.version, String(r.schema), r.fault ?? "-", r.backwardCompatible ? "yes" : "no", r.digest]);
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join("  ")
        .trimEnd()}\n`,
    );
  process.stdout.write(`\n${results.length} builds in ${relative(root, outDir) || outDir}\n`);
}
