// Starts the program under Pulumi mocks and prints how long after process start the first resource
// registration happened. Mode: js (the compiled dist/index.js), ts-node (type-checked at start), or
// ts-node-transpile (transpile only). Used by scripts/bench.mjs; not a test.
const { join } = require("node:path");

const root = join(__dirname, "..", "..");
const mode = process.argv[2] ?? "js";

if (mode === "ts-node" || mode === "ts-node-transpile") {
  require("ts-node").register({
    project: join(root, "tsconfig.json"),
    transpileOnly: mode === "ts-node-transpile",
    compilerOptions: { module: "commonjs", moduleResolution: "node" },
  });
}

const pulumi = require("@pulumi/pulumi");
pulumi.runtime.setAllConfig({ "shipgate:workDir": ".shipgate/bench" });
let reported = false;
pulumi.runtime
  .setMocks(
    {
      newResource(args) {
        if (!reported) {
          reported = true;
          process.stdout.write(`${JSON.stringify({ firstRegistrationMs: performance.now() })}\n`);
          setImmediate(() => process.exit(0));
        }
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "shipgate",
    "bench",
    true,
  )
  .then(() => {
    require(mode === "js" ? join(root, "dist", "index.js") : join(root, "index.ts"));
  });
