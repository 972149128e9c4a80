// The program under Pulumi mocks: the exact resources it registers from the stack's config.
import { describe, expect, it, vi } from "vitest";
import { installMocks } from "./mocks";

describe("the program (index.ts)", () => {
  it("registers the local working directory from the stack's config", async () => {
    vi.resetModules();
    const mocks = await installMocks({ "shipgate:workDir": ".shipgate/unit" }, { stack: "unit" });
    const program = await import("../../index");
    await mocks.settle();

    expect(mocks.registrations.map(({ type, name }) => ({ type, name }))).toEqual([
      { type: "pulumi-nodejs:dynamic/shipgate/local:Directory", name: "workdir" },
    ]);
    const inputs = mocks.registrations[0]?.inputs ?? {};
    expect(inputs["path"]).toBe(".shipgate/unit");
    expect(inputs["removeOnDelete"]).toBe("ifEmpty");
    expect(typeof inputs["__provider"]).toBe("string");
    expect(program.platform).toBe("local");
  });

  it("defaults the working directory to .shipgate/<stack>", async () => {
    vi.resetModules();
    const mocks = await installMocks({}, { stack: "demo" });
    await import("../../index");
    await mocks.settle();
    expect(mocks.registrations.map((r) => r.inputs["path"])).toEqual([".shipgate/demo"]);
  });
});
