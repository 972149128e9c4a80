// The policy pack's entry for @pulumi/pulumi's runner (package.json "main"): used when the engine's
// language host is Pulumi's own (a `pulumi` found on PATH), and by runner.cjs when the bundle is stale.
// That runner registers ts-node with full type-checking, which would re-check the pack and the
// release model on every preview and `up` (about 10 s of a busy machine, while the engine waits to
// start the program). The build (`npm run build`, which every script and test runs first) bundles the
// pack into dist/policies/pack.cjs, so the pack runs from there.
//
// When the bundle is missing or does not match the pack's sources, the pack runs from its TypeScript
// sources instead (slower, never stale) and says so.
"use strict";
const { join } = require("node:path");
const { bundleFile, bundleState } = require("./bundle.cjs");

const root = join(__dirname, "..");
const state = bundleState(root);
if (state.current) {
  require(bundleFile(root));
} else {
  process.stderr.write(
    `shipgate policy pack: ${state.reason}, so it runs from TypeScript (slower). ` +
      "Run `npm run build` to make every preview and `up` faster.\n",
  );
  require("./index.ts");
}
