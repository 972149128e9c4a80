// Runs the chosen Pulumi engine in the project, as `npm run pulumi` does.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { engineEnv, requireEngine, root, stateDir } from "./engine.mjs";

/**
 * Runs `pulumi <args>`; resolves with the exit code and, when `capture` is set, stdout.
 * Without `capture` the engine's progress goes straight to the terminal.
 */
export function runPulumi(args, { capture = false, env = process.env } = {}) {
  const engine = requireEngine();
  mkdirSync(stateDir, { recursive: true });
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(engine.binDir, "pulumi"), args, {
      cwd: root,
      env: engineEnv(engine, env),
      stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit",
    });
    let stdout = "";
    if (capture) {
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk) => (stdout += chunk));
    }
    const forward = (signal) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolvePromise({ code: code ?? (signal ? 1 : 0), stdout });
    });
  });
}
