// The import directions of docs/architecture.md are enforced by eslint: each broken direction below
// is caught by the project's own eslint.config.mjs, and a legal import beside it is not.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === "no-restricted-imports" || m.ruleId === "no-restricted-syntax")
    .map((m) => m.message);
}

describe("the layers", () => {
  it.each([
    ["release/x.ts", 'import "../contract";', "the release model imports nothing of the program"],
    ["contract/x.ts", 'import "../components/platform";', "the contract imports only the release model"],
    ["contract/x.ts", 'import "../config";', "the contract imports only the release model"],
    ["components/x.ts", 'import "../config";', "never config.ts or a platform"],
    ["components/x.ts", 'import "../platforms/local";', "never config.ts or a platform"],
    ["platforms/local/handlers/x.ts", 'import "../../kubernetes/labels";', "never another platform"],
    ["platforms/kubernetes/steps/x.ts", 'import "../../../config";', "never another platform or the program"],
    ["config.ts", 'import "./platforms/kubernetes/config";', "knows no platform"],
    ["policies/rules/x.ts", 'import "../../components/platform";', "nothing of the program"],
    ["index.ts", 'import "./platforms/local/directory";', "not its internals"],
  ])("%s: %s is refused", async (file, code, why) => {
    const messages = await restricted(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(why);
  });

  it.each([
    ["platforms/kubernetes/steps/x.ts", 'import "../config";'],
    ["platforms/local/handlers/x.ts", 'import "../../../contract";'],
    ["platforms/local/x.ts", 'import "../../components/platform";'],
    ["components/x.ts", 'import "../contract";'],
    ["contract/x.ts", 'import "../release/schema";'],
    ["index.ts", 'import "./platforms/local";'],
  ])("%s: %s is allowed", async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });

  it("refuses a pulumi.Config in the policy pack", async () => {
    expect(
      await restricted(
        "policies/rules/x.ts",
        'import * as pulumi from "@pulumi/pulumi";\nnew pulumi.Config("shipgate");',
      ),
    ).toEqual(["the policy pack reads no pulumi.Config"]);
  });
});
