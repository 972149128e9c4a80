/** Entry point of the compiled CLI (dist/cli/main.js), started by scripts/shipgate.mjs. */
import { run } from "./program";

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  process.exitCode = await run(argv, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

if (require.main === module) void main();
