// The policy pack's entry for the engine (package.json "main"). The Node.js runner registers
// ts-node with full type-checking, which would re-check the pack and the release model on every
// preview and `up` (about 10 s of a busy machine, while the engine waits to start the program). The
// project's build (`npm run build`, which every script and test runs first) compiles the pack to
// dist/policies/ with the same compiler and settings, so the pack runs from there.
//
// When the build is missing or older than a source of the pack, the pack runs from its TypeScript
// sources instead (slower, never stale) and says so.
"use strict";
const { join } = require("node:path");
const { compiledEntry, compiledIsCurrent } = require("./compiled.cjs");

const root = join(__dirname, "..");
if (compiledIsCurrent(root)) {
  require(compiledEntry(root));
} else {
  process.stderr.write(
    "shipgate policy pack: the compiled pack in dist/ is missing or older than its sources, so it " +
      "runs from TypeScript (slower). Run `npm run build` to make every preview and `up` faster.\n",
  );
  require("./index.ts");
}
