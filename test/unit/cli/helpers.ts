import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../cli/program";

/** A fresh directory per test, removed afterwards by the returned cleanup. */
export function scratchDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-cli-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with `args` after the command name, capturing what it writes. */
export async function runCli(...args: string[]): Promise<RunOutcome> {
  let stdout = "";
  let stderr = "";
  const code = await run(["node", "shipgate", ...args], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

export const EXAMPLES = join(__dirname, "..", "..", "..", "releases", "examples");
