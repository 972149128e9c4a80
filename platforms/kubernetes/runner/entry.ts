// The runner bundle's entry point: runs the task named on the command line (see main.ts).
import { main } from "./main";

main(process.argv[2]).catch((error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
});
