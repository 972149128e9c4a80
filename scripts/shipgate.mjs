#!/usr/bin/env node
// The `shipgate` bin: runs the compiled CLI. The CLI is TypeScript compiled by `npm run build`.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "main.js");

if (!existsSync(entry)) {
  console.error(`shipgate: ${entry} is missing. Build the CLI first: npm run build`);
  process.exit(2);
}

const require = createRequire(import.meta.url);
await require(entry).main(process.argv);
