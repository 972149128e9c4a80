import { describe, expect, it } from "vitest";
import { engineEnv, goModuleVersion, sdkVersion, versionFits } from "../../scripts/lib/engine.mjs";

describe("the engine set-up", () => {
  it.each([
    ["v3.259.0", "3.259.0", true],
    ["v3.260.1", "3.259.0", true],
    ["v3.259.0-dev.0", "3.259.0", true],
    ["v3.258.9", "3.259.0", false],
    ["v4.0.0", "3.259.0", false],
    ["not a version", "3.259.0", false],
  ])("a pulumi reporting %s fits SDK %s: %s", (found, required, fits) => {
    expect(versionFits(found, required)).toBe(fits);
  });

  it("builds the engine at exactly the SDK's version", () => {
    expect(goModuleVersion()).toBe(sdkVersion());
  });

  it("runs the engine with the project's backend, home and PATH, keeping a pipeline's own settings", () => {
    const engine = { source: "built" as const, version: "3.259.0", binDir: "/e/bin" };
    const local = engineEnv(engine, { PATH: "/usr/bin" });
    expect(local["PATH"]?.split(":").slice(0, 1)).toEqual(["/e/bin"]);
    expect(local["PATH"]?.endsWith(":/usr/bin")).toBe(true);
    expect(local["PULUMI_BACKEND_URL"]).toMatch(/^file:\/\/.+\/\.pulumi-state$/);
    expect(local["PULUMI_CONFIG_PASSPHRASE"]).toBe("shipgate-local-development");
    expect(local["PULUMI_SKIP_UPDATE_CHECK"]).toBe("true");

    const pipeline = engineEnv(engine, {
      PATH: "/usr/bin",
      PULUMI_BACKEND_URL: "s3://bucket",
      PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secret",
    });
    expect(pipeline["PULUMI_BACKEND_URL"]).toBe("s3://bucket");
    expect(pipeline["PULUMI_CONFIG_PASSPHRASE"]).toBeUndefined();
  });
});
