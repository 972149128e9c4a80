// What the benchmarks that release to a throwaway stack share: running the engine on that stack and
// finding free ports for its router and slots.
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { delimiter, join } from "node:path";
import { root } from "./engine.mjs";

/**
 * A function that runs the engine (`pulumi` in `engine.binDir`, or in the `binDir` given to the
 * call, whose plugins then come first on PATH) in the project on `stack` with `env`; it resolves
 * with the run's duration in ms and its output, or rejects with its output.
 */
export function stackRunner(engine, stack, env) {
  return (args, binDir = engine.binDir) =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const child = spawn(join(binDir, "pulumi"), [...args, "--stack", stack, "--cwd", root], {
        cwd: root,
        env: binDir === engine.binDir ? env : { ...env, PATH: `${binDir}${delimiter}${env.PATH}` },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("error", reject);
      child.on("close", (code) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (code === 0) resolve({ ms, output });
        else reject(new Error(`pulumi ${args.join(" ")} failed (exit ${code}):\n${output.slice(-4000)}`));
      });
    });
}

function portAccepts(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(300, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Four free consecutive ports for router, blue, green and admin, in 27000-27999: the range kept for
 * benchmarks on a machine where test suites and other checkouts take other ranges. It lies below the
 * kernel's ephemeral range (32768 and up), where any outgoing connection on the machine may hold a
 * port between this check and the listen.
 */
export async function freePorts() {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 27_000 + 4 * Math.floor(Math.random() * 249);
    const taken = await Promise.all([0, 1, 2, 3].map((i) => portAccepts(base + i)));
    if (!taken.some(Boolean)) return base;
  }
  throw new Error("no four free ports in 27000-27999: stop what listens there, or run the benchmark later");
}
