// The nginx the set-up unpacks for the local router (scripts/lib/nginx.mjs), for tests that run the
// router with it.
import { existsSync } from "node:fs";
import { join } from "node:path";

export function requireNginx(): string {
  const binary = join(__dirname, "..", ".tools", "nginx", "nginx");
  if (!existsSync(binary)) {
    throw new Error(
      `no nginx at ${binary}: run \`npm run setup\`, which unpacks Debian's nginx package there`,
    );
  }
  return binary;
}
