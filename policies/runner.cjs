// Starts the policy pack for shipgate's language host (the `runner` runtime option in
// PulumiPolicy.yaml), with the host's arguments: the engine's address and this folder. It runs the
// pack's bundle (dist/policies/pack.cjs) directly: @pulumi/pulumi's own runner would first load the
// whole SDK and ts-node, most of a second of CPU on every preview and `up` while the engine waits for
// the pack before it starts the program.
//
// When the bundle does not match the pack's sources, this hands over to @pulumi/pulumi's runner,
// which runs the pack from its TypeScript sources through main.cjs (slower, never stale; main.cjs
// says why and what to run).
"use strict";
const { dirname, join } = require("node:path");
const { bundleFile, bundleState } = require("./bundle.cjs");

const root = join(__dirname, "..");

if (bundleState(root).current) {
  // A pack that fails outside a policy check has nothing left to answer the engine with: report and
  // exit non-zero, so the engine fails the run instead of waiting on a broken pack.
  const fail = (error) => {
    process.stderr.write(
      `shipgate policy pack failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  require(bundleFile(root));
  // The language host stops the pack with SIGKILL at the end of the run, so Node.js would never write
  // the bundle's compiled code to its compile cache (NODE_COMPILE_CACHE, which the host sets) and
  // every run would compile the bundle afresh. Writing it now costs a few milliseconds the first time
  // and nothing once the cache holds this bundle.
  require("node:module").flushCompileCache?.();
} else {
  const sdk = dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [__dirname] }));
  require(join(sdk, "cmd", "run-policy-pack"));
}
