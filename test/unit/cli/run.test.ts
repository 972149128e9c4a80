import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { EXAMPLES, runCli, scratchDir } from "./helpers";

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = scratchDir());
});
afterEach(() => cleanup());

describe("shipgate run", () => {
  it("prints a valid manifest's digest and exits 0", async () => {
    const file = join(EXAMPLES, "standard-full.yaml");
    const outcome = await runCli("digest", file);
    expect(outcome).toEqual({
      code: 0,
      stdout: "sha256:e195a8a9907db4932ab0d681eb75940e2543f03d91275c9590df1cb38274f075\n",
      stderr: "",
    });
  });

  it("prints one JSON object with --json, on failure too", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "apiVersion: shipgate.dev/v2\n");
    const outcome = await runCli("validate", file, "--json");
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toBe("");
    const json = JSON.parse(outcome.stdout) as { ok: boolean; results: { issues: { path: string }[] }[] };
    expect(json.ok).toBe(false);
    expect(json.results[0]?.issues.map((issue) => issue.path)).toEqual([
      "apiVersion",
      "changeId",
      "title",
      "version",
      "deploymentType",
      "window",
      "strategy",
      "components",
      "changeRequest",
      "risk",
      "tests",
      "communication",
      "people",
    ]);
  });

  it("exits 2 with a message for a file it cannot read, in JSON too", async () => {
    const missing = join(dir, "missing.yaml");
    expect(await runCli("digest", missing)).toEqual({
      code: 2,
      stdout: "",
      stderr: `shipgate: cannot read manifest ${missing}: no such file\n`,
    });
    const json = await runCli("digest", missing, "--json");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      error: `cannot read manifest ${missing}: no such file`,
    });
  });

  it.each([
    [
      ["approve", "x.yaml", "--key", "k", "--id", "erin", "--role", "owner"],
      "option '--role <role>' argument 'owner' is invalid. expected one of technical, business, support, change-board",
    ],
    [
      ["approve", "x.yaml", "--key", "k", "--id", "Erin", "--role", "technical"],
      "option '--id <approver>' argument 'Erin' is invalid.",
    ],
    [
      ["approve", "x.yaml", "--id", "erin", "--role", "technical"],
      "required option '--key <file>' not specified",
    ],
    [
      ["verify", "x.yaml", "--trusted-keys", "t", "--at", "tomorrow"],
      "option '--at <timestamp>' argument 'tomorrow' is invalid.",
    ],
    [
      ["approve", "x.yaml", "--key", "k", "--id", "erin", "--role", "technical", "--expires-in", "0m"],
      "option '--expires-in <duration>' argument '0m' is invalid.",
    ],
    [
      ["approve", "x.yaml", "--key", "k", "--id", "erin", "--role", "technical", "--expect-digest", ""],
      "option '--expect-digest <digest>' argument '' is invalid.",
    ],
    [["deploy"], "unknown command 'deploy'"],
  ])("exits 2 on a usage error: %j", async (args, message) => {
    const outcome = await runCli(...args);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe("");
    expect(outcome.stderr).toContain(`error: ${message}`);
  });

  it.each([
    [
      ["verify", "x.yaml"],
      "verify needs either --policy-config <the stack's policy pack config> (every approval gate the pack runs) or --trusted-keys <file> (signatures only), not both",
    ],
    [
      ["verify", "x.yaml", "--policy-config", "p.json", "--trusted-keys", "t"],
      "verify needs either --policy-config",
    ],
    [
      ["verify", "x.yaml", "--policy-config", "p.json", "--at", "2026-12-01T00:00:00Z"],
      "--at and --allow-self-approval apply to --trusted-keys only",
    ],
  ])("exits 2 when verify is not told what to check against: %j", async (args, message) => {
    const outcome = await runCli(...args);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(`shipgate: ${message}`);
  });

  it("exits 0 for help and version, and 2 with help when no command is given", async () => {
    const help = await runCli("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: shipgate [options] [command]");
    for (const command of ["new", "validate", "digest", "keygen", "approve", "verify"]) {
      expect(help.stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
    const version = await runCli("--version");
    expect(version).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
    const none = await runCli();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: shipgate");
  });

  it("takes --version after new as the release version, not the program's", async () => {
    const out = join(dir, "r.yaml");
    const outcome = await runCli(
      "new",
      "standard-partial",
      "--out",
      out,
      "--change-id",
      "C-9",
      "--version",
      "3.1.0",
      "--author",
      "omar",
    );
    expect(outcome.code).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("\nversion: 3.1.0\n");
  });

  it("answers every generated invalid manifest with exit 1 and field-path issues, never a crash (property)", async () => {
    const file = join(dir, "m.yaml");
    copyFileSync(join(EXAMPLES, "hot-fix.yaml"), file);
    const base = readFileSync(file, "utf8");
    const lines = base.split("\n");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // Drop a line: a field goes missing, or the indentation around it breaks.
          fc
            .nat({ max: lines.length - 1 })
            .map((index) => lines.filter((_line, at) => at !== index).join("\n")),
          // Replace a value with something of another shape.
          fc
            .tuple(
              fc.nat({ max: lines.length - 1 }),
              fc.constantFrom("[]", "{}", "~", "-1", "*nope", "'x'", "latest"),
            )
            .map(([index, value]) =>
              lines
                .map((line, at) =>
                  at === index && line.includes(": ")
                    ? `${line.slice(0, line.indexOf(": "))}: ${value}`
                    : line,
                )
                .join("\n"),
            ),
          // Any data at all.
          fc.jsonValue().map((value) => stringify(value)),
        ),
        async (text) => {
          writeFileSync(file, text);
          const outcome = await runCli("validate", file, "--json");
          if (outcome.code === 0) {
            // Some edits keep the manifest valid (a comment line dropped, 'x' for a text): that is fine.
            expect(JSON.parse(outcome.stdout)).toMatchObject({ ok: true });
            return;
          }
          expect(outcome.code).toBe(1);
          const json = JSON.parse(outcome.stdout) as {
            ok: boolean;
            results: { issues: { path: string; message: string }[] }[];
          };
          expect(json.ok).toBe(false);
          const issues = json.results[0]?.issues ?? [];
          expect(issues.length).toBeGreaterThan(0);
          for (const issue of issues) {
            expect(typeof issue.path).toBe("string");
            expect(issue.message.length).toBeGreaterThan(0);
            // Field-path issues, unless the YAML itself could not be read.
            if (issue.path === "") expect(issue.message).toMatch(/^(YAML: |Invalid input: expected object)/);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
