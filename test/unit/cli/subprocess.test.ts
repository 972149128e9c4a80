/**
 * The compiled CLI as users run it: a separate node process, real files, real exit codes. The CLI is
 * compiled on its own (release/ and cli/ only) into node_modules/.cache, so these tests neither depend on
 * nor disturb the rest of the program's build in dist/.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { present } from "../release/fixtures";
import { scratchDir } from "./helpers";

const ROOT = join(__dirname, "..", "..", "..");
const COMPILED = join(ROOT, "node_modules", ".cache", "shipgate-cli-test");
const MAIN = join(COMPILED, "cli", "main.js");

let dir: string;
let cleanup: () => void;

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(__dirname, "tsconfig.cli.json")],
    {
      stdio: "pipe",
    },
  );
  ({ dir, cleanup } = scratchDir());
}, 120_000);
afterAll(() => cleanup());

function shipgate(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: "utf8" });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe("the compiled shipgate CLI", () => {
  it("runs the release engineer's and the approvers' workflow end to end", () => {
    expect(
      shipgate(
        "new",
        "standard-partial",
        "--out",
        "CHG-77.yaml",
        "--change-id",
        "CHG-77",
        "--version",
        "1.4.0",
        "--author",
        "omar",
        "--start",
        "2026-12-10T20:00:00Z",
      ).code,
    ).toBe(0);
    const validate = shipgate("validate", "CHG-77.yaml");
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/^CHG-77\.yaml: valid \(sha256:[0-9a-f]{64}\)\n$/);

    const digest = shipgate("digest", "CHG-77.yaml").stdout.trim();
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    for (const [id, role] of [
      ["erin", "technical"],
      ["bea", "business"],
      ["carl", "change-board"],
    ] as const) {
      const keygen = shipgate(
        "keygen",
        "--id",
        id,
        "--role",
        role,
        "--add-to",
        "trusted-keys.yaml",
        "--json",
      );
      expect(keygen.code).toBe(0);
      const privateKeyLine = present(readFileSync(join(dir, `${id}.key`), "utf8").split("\n")[1]);
      expect(keygen.stdout).not.toContain(privateKeyLine);
      const approve = shipgate(
        "approve",
        "CHG-77.yaml",
        "--key",
        `${id}.key`,
        "--id",
        id,
        "--role",
        role,
        "--expect-digest",
        digest,
        "--trusted-keys",
        "trusted-keys.yaml",
      );
      expect(approve.code).toBe(0);
      expect(readFileSync(join(dir, "CHG-77.yaml"), "utf8")).not.toContain(privateKeyLine);
    }

    const verify = shipgate("verify", "CHG-77.yaml", "--trusted-keys", "trusted-keys.yaml", "--json");
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({
      ok: true,
      digest,
      author: "omar",
      requiredRoles: ["technical", "business", "change-board"],
      coveredRoles: ["technical", "business", "change-board"],
      missingRoles: [],
      approvers: ["erin", "bea", "carl"],
      rejected: [],
    });
  });

  // Continues from the workflow above, in the same scratch directory.
  it("fails verify, with exit 1, once the manifest changes after approval", () => {
    const file = join(dir, "CHG-77.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace("title: Release 1.4.0", "title: Release 1.4.0, and more"),
    );
    const verify = shipgate("verify", "CHG-77.yaml", "--trusted-keys", "trusted-keys.yaml");
    expect(verify.code).toBe(1);
    expect(verify.stderr.split("\n").filter((line) => line.includes("invalid-signature"))).toHaveLength(3);
    expect(verify.stderr.trimEnd().split("\n").at(-1)).toBe("NOT APPROVED");
  });

  it("exits 1 with field paths for an invalid manifest and 2 for a usage error", () => {
    writeFileSync(join(dir, "broken.yaml"), "apiVersion: shipgate.dev/v1\nchangeId: [x]\n");
    const invalid = shipgate("validate", "broken.yaml");
    expect(invalid.code).toBe(1);
    expect(invalid.stderr.split("\n").slice(0, 3)).toEqual([
      "broken.yaml: 12 problems",
      "  - changeId: Invalid input: expected string, received array",
      "  - title: required: expected string",
    ]);
    const usage = shipgate("validate");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("error: missing required argument 'manifest'");
  });
});

describe("scripts/shipgate.mjs", () => {
  it("tells the user to build when dist is missing", () => {
    const copy = join(dir, "pkg-unbuilt");
    mkdirSync(join(copy, "scripts"), { recursive: true });
    copyFileSync(join(ROOT, "scripts", "shipgate.mjs"), join(copy, "scripts", "shipgate.mjs"));
    const result = spawnSync(
      process.execPath,
      [join(copy, "scripts", "shipgate.mjs"), "validate", "x.yaml"],
      { encoding: "utf8" },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      `shipgate: ${join(copy, "dist", "cli", "main.js")} is missing. Build the CLI first: npm run build\n`,
    );
  });

  it("runs dist/cli/main.js with the arguments and its exit code", () => {
    const copy = join(dir, "pkg-built");
    mkdirSync(join(copy, "scripts"), { recursive: true });
    mkdirSync(join(copy, "dist", "cli"), { recursive: true });
    copyFileSync(join(ROOT, "scripts", "shipgate.mjs"), join(copy, "scripts", "shipgate.mjs"));
    writeFileSync(
      join(copy, "dist", "cli", "main.js"),
      `module.exports = require(${JSON.stringify(MAIN)});\n`,
    );
    const wrapper = join(copy, "scripts", "shipgate.mjs");
    const ok = spawnSync(
      process.execPath,
      [wrapper, "digest", join(ROOT, "releases", "examples", "hot-fix.yaml")],
      { encoding: "utf8" },
    );
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe("sha256:a073a43839f585fb74c5f6aa41c3a7182eb206239b7d0fba008f10195f019718\n");
    writeFileSync(join(copy, "broken.yaml"), "apiVersion: 1\n");
    const failed = spawnSync(process.execPath, [wrapper, "digest", join(copy, "broken.yaml")], {
      encoding: "utf8",
    });
    expect(failed.status).toBe(1);
  });
});
