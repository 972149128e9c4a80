// Throwaway stacks of the project's program on the real engine, through the Automation API.
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildIfStale } from "../../scripts/lib/build.mjs";
import { chosenEngine, engineEnv, root } from "../../scripts/lib/engine.mjs";

export const policyPackPath = join(root, "policies");

export interface ThrowawayStack {
  readonly stack: Stack;
  readonly name: string;
  /** Removes the stack (and its config file in stacks/) and its private backend folder. */
  dispose(): Promise<void>;
}

/**
 * Creates a stack named `e2e-<random>` of the project's program in a private file backend, so
 * tests never touch the project's own state. Fails (never skips) when the engine is missing.
 */
export async function createThrowawayStack(prefix = "e2e"): Promise<ThrowawayStack> {
  const engine = chosenEngine();
  if (!engine) {
    throw new Error("The Pulumi engine is not set up: run `npm run setup` (npm test runs it for you).");
  }
  buildIfStale();
  const backendDir = mkdtempSync(join(tmpdir(), "shipgate-e2e-backend-"));
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  const envVars = engineEnv(engine, { ...process.env, PULUMI_BACKEND_URL: `file://${backendDir}` });
  const pulumiCommand = await PulumiCommand.get({ root: dirname(engine.binDir) });
  const stack = await LocalWorkspace.createStack(
    { stackName: name, workDir: root },
    { envVars, pulumiCommand },
  );
  return {
    stack,
    name,
    async dispose() {
      try {
        await stack.workspace.removeStack(name, { force: true });
      } finally {
        rmSync(backendDir, { recursive: true, force: true });
      }
    },
  };
}
