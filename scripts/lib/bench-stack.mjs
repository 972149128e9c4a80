// What the benchmarks that release to a throwaway stack share: the stack itself (a private file
// backend, its config, its working folder, and removing all of it), running the engine on it, and
// finding free ports for its router and slots.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { parse, stringify } from "yaml";
import { engineEnv, root } from "./engine.mjs";

/**
 * A throwaway development stack `<prefix>-<random>` (dev-*: the benchmarks release the unsigned
 * sample manifests, which the program refuses on any other stack) in a private file backend under the
 * system's temporary folder, with its own working folder `.shipgate/<stack>`. Nothing exists until
 * `init()`; `remove()` destroys the stack and removes it, its config file, its backend and its
 * working folder, reporting what fails and going on, so a failed benchmark leaves nothing running.
 */
export function throwawayStack(engine, prefix, log) {
  const backendDir = mkdtempSync(join(tmpdir(), `shipgate-${prefix}-backend-`));
  const env = engineEnv(engine, { ...process.env, PULUMI_BACKEND_URL: `file://${backendDir}` });
  const stack = `${prefix}-${randomBytes(4).toString("hex")}`;
  const workDir = `.shipgate/${stack}`;
  const stackFile = join(root, "stacks", `Pulumi.${stack}.yaml`);
  const pulumi = stackRunner(engine, stack, env);
  let created = false;
  return {
    stack,
    backendDir,
    workDir,
    stackFile,
    pulumi,
    async init() {
      await pulumi(["stack", "init", "--secrets-provider", "passphrase"]);
      created = true;
    },
    /**
     * The local stack's config for the sample app on `port` (router; the slots and admin follow),
     * releasing `manifest` with a verification bake of `bakeTimeMs`, written next to the encryption
     * salt `pulumi stack init` put in the stack's file.
     */
    writeConfig(port, manifest, bakeTimeMs) {
      const file = existsSync(stackFile) ? (parse(readFileSync(stackFile, "utf8")) ?? {}) : {};
      file.config = {
        "shipgate:platform": "local",
        "shipgate:workDir": workDir,
        "shipgate:manifest": manifest,
        "shipgate:services": {
          "sample-app": {
            port,
            command: ["node", "server.mjs"],
            healthPath: "/health",
            artifacts: ".shipgate/artifacts/sample-app",
            maxLatencyMs: 1000,
            gate: { consecutiveSuccesses: 2, failureThreshold: 3, intervalMs: 100, timeoutMs: 15000 },
            verification: { bakeTimeMs, intervalMs: 100, maxErrorRate: 0.01, maxP95LatencyMs: 1000 },
            warmWindowMinutes: 60,
            keepBackups: 5,
          },
        },
      };
      writeFileSync(stackFile, stringify(file));
    },
    async remove() {
      log("cleaning up: destroy, remove the stack, its backend and its working folder ...");
      for (const args of [
        ["destroy", "--yes", "--skip-preview", "--non-interactive"],
        ["stack", "rm", "--yes", "--force"],
      ]) {
        try {
          if (created) await pulumi(args);
        } catch (error) {
          process.stderr.write(`${error.message}\n`);
        }
      }
      rmSync(stackFile, { force: true });
      rmSync(join(root, workDir), { recursive: true, force: true });
      rmSync(backendDir, { recursive: true, force: true });
    },
  };
}

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
