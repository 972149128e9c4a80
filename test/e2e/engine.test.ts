// The real engine end to end: preview, up, an up that changes nothing, the policy pack stopping a
// plan, and destroy, on a throwaway stack with the program's Node.js dynamic resource.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root, sdkVersion } from "../../scripts/lib/engine.mjs";
import { createThrowawayStack, policyPackPath, type ThrowawayStack } from "./harness";

describe("the real Pulumi engine on a throwaway stack", () => {
  let throwaway: ThrowawayStack;
  let workDir: string;

  beforeAll(async () => {
    throwaway = await createThrowawayStack();
    workDir = `.shipgate/${throwaway.name}`;
    await throwaway.stack.setConfig("shipgate:workDir", { value: workDir });
    // No release here, on purpose: the program refuses a stack that names no manifest unless it says
    // it takes its services down, and this stack has none. What is left is the working folder.
    await throwaway.stack.setConfig("shipgate:retire", { value: "true" });
  });

  afterAll(async () => {
    await throwaway?.dispose();
  });

  it("is the engine version that @pulumi/pulumi pins", async () => {
    const version = await throwaway.stack.workspace.pulumiVersion;
    expect(version).toBe(sdkVersion());
  });

  it("previews the program with the policy pack loaded", async () => {
    const preview = await throwaway.stack.preview({ policyPacks: [policyPackPath] });
    expect(preview.changeSummary).toEqual({ create: 2 });
    expect(preview.stdout).toContain("shipgate@v0.1.0");
    expect(existsSync(join(root, workDir))).toBe(false);
  });

  it("creates the dynamic resource on up", async () => {
    const up = await throwaway.stack.up({ policyPacks: [policyPackPath] });
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ create: 2 });
    expect(up.outputs["workDirPath"]?.value).toBe(join(root, workDir));
    expect(statSync(join(root, workDir)).isDirectory()).toBe(true);
  });

  it("changes nothing on a second up", async () => {
    const up = await throwaway.stack.up({ policyPacks: [policyPackPath] });
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ same: 2 });
  });

  it("stops a plan that breaks a mandatory policy before anything changes", async () => {
    const outside = `e2e-outside-${throwaway.name}`;
    await throwaway.stack.setConfig("shipgate:workDir", { value: outside });
    try {
      const failure = await throwaway.stack.up({ policyPacks: [policyPackPath] }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      const message = String((failure as Error).message);
      expect(message).toContain("local-files-in-named-folders");
      expect(message).toContain(`("${outside}")`);
      expect(existsSync(join(root, outside))).toBe(false);
      expect(statSync(join(root, workDir)).isDirectory()).toBe(true);
    } finally {
      await throwaway.stack.setConfig("shipgate:workDir", { value: workDir });
    }
  });

  it("removes what it created on destroy", async () => {
    const destroy = await throwaway.stack.destroy();
    expect(destroy.summary.result).toBe("succeeded");
    expect(destroy.summary.resourceChanges).toEqual({ delete: 2 });
    expect(existsSync(join(root, workDir))).toBe(false);
    const state = await throwaway.stack.exportStack();
    expect(state.deployment.resources ?? []).toEqual([]);
  });
});
