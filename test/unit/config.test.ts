import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../config";

describe("parseStackConfig", () => {
  it("defaults to the local platform and a working folder per stack", () => {
    expect(parseStackConfig({}, "dev")).toEqual({ platform: "local", workDir: ".shipgate/dev" });
  });

  it("keeps valid values", () => {
    expect(parseStackConfig({ platform: "kubernetes", workDir: "var/work" }, "staging")).toEqual({
      platform: "kubernetes",
      workDir: "var/work",
    });
  });

  it("reports every invalid key at once, naming it and what was expected", () => {
    expect(() => parseStackConfig({ platform: "mainframe", workDir: "../elsewhere" }, "dev")).toThrow(
      [
        'Invalid stack config for stack "dev":',
        '  - shipgate:platform: Invalid option: expected one of "local"|"kubernetes"|"aws"',
        "  - shipgate:workDir: expected a path relative to the project folder, without `..`",
        "Fix it with `npm run pulumi -- config set <key> <value> --stack dev` or in stacks/Pulumi.dev.yaml.",
      ].join("\n"),
    );
  });
});
