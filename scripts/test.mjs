#!/usr/bin/env node
// `npm test`: every check the project has, in order, stopping at the first that fails:
// compile, type-check (strict, tests included), lint and format, unit tests, then end-to-end tests
// on the real engine. The set-up has already run (npm test runs it first); the kubernetes tools
// are added to it just before the end-to-end tests.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildIfStale } from "./lib/build.mjs";
import { root } from "./lib/engine.mjs";

const bin = (name) => join(root, "node_modules", ".bin", name);

function step(title, command, args, options = {}) {
  process.stderr.write(`\n==> ${title}\n`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.status !== 0) {
    process.stderr.write(
      `\n${title} failed (exit ${result.status ?? result.signal}). Fix it and run \`npm test\` again.\n`,
    );
    process.exit(result.status ?? 1);
  }
  process.stderr.write(`    ${title}: ok in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}

buildIfStale();
step("type-check", bin("tsc"), ["-p", "tsconfig.json", "--noEmit"]);
step("lint", bin("eslint"), ["."]);
step("format", bin("prettier"), ["--check", "."]);
const gofmt = spawnSync("gofmt", ["-l", "tools/engine/langhost"], { cwd: root, encoding: "utf8" });
if (gofmt.status === 0 && gofmt.stdout.trim()) {
  process.stderr.write(`gofmt: these files need formatting: ${gofmt.stdout}\n`);
  process.exit(1);
}
step("unit tests", bin("vitest"), ["run", "--project", "unit"]);
step("aws step modules against moto_server", bin("vitest"), ["run", "--project", "emulator"]);
// The kubernetes end-to-end tests need a local cluster's programs and the Pulumi Kubernetes
// provider: built once per machine (the set-up says how long), then taken from its cache.
step("kubernetes tools (node scripts/setup.mjs --kubernetes)", process.execPath, [
  join(root, "scripts", "setup.mjs"),
  "--kubernetes",
]);
step("end-to-end tests on the real engine", bin("vitest"), ["run", "--project", "e2e"]);
