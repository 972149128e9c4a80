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
const { accessSync, constants } = require("node:fs");
const { dirname, join } = require("node:path");
const { bundleFile, currentBundle } = require("./bundle.cjs");

const root = join(__dirname, "..");

/**
 * Runs the bundle with a compiled-code cache, so V8 does not compile its 3 MB again on every start.
 * The bundle's own V8 code cache (code-cache.cjs, next to the bundle) works on every Node.js version
 * and holds more of what the pack compiles to start than Node.js's compile cache (NODE_COMPILE_CACHE,
 * Node.js 22.1 and newer) does; it is made once the pack has printed its port, so the engine does not
 * wait for it. The language host stops the pack with SIGKILL, so nothing can be left for exit.
 * Where the bundle's folder is read-only, Node.js's compile cache (in the user's cache folder, where
 * the host points NODE_COMPILE_CACHE) is the fallback; NODE_DISABLE_COMPILE_CACHE turns both off.
 */
function startBundle(file, read) {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) {
    require(file);
    return;
  }
  try {
    accessSync(dirname(file), constants.W_OK);
  } catch {
    require(file);
    // Written now rather than at exit, which a killed pack never reaches.
    require("node:module").flushCompileCache?.();
    return;
  }
  // The pack's first output on stdout is its port (what the host waits for): the cache is made just
  // after it, from everything compiled to get there (by then the bundle has run, even if it printed
  // while it ran).
  let run;
  const write = process.stdout.write;
  process.stdout.write = function writeThenCache(...args) {
    process.stdout.write = write;
    setImmediate(() => run?.saveCache());
    return write.apply(this, args);
  };
  run = require("./code-cache.cjs").runWithCodeCache(file, module, read);
}

const bundle = currentBundle(root);
if (bundle.current) {
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
  startBundle(bundleFile(root), bundle);
} else {
  const sdk = dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [__dirname] }));
  require(join(sdk, "cmd", "run-policy-pack"));
}
