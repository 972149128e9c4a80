// On a stack that is not a development stack, the program itself verifies a release's approvals
// against the trusted keys of the stack's policy config: `up` without `--policy-pack` (what most
// people type) releases an approved manifest, and refuses an unapproved or edited one, changing
// nothing: the same processes, files, state and served version.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "../../scripts/lib/engine.mjs";
import type { Manifest } from "../../release";
import { approve, approvers, exampleManifest, trustedKeys } from "../unit/policies/fixtures";
import {
  createReleaseStack,
  refusedUp,
  type ReleaseStack,
  snapshotStack,
  type StackSnapshot,
  testPort,
} from "./harness";

const port = testPort(21210);
const { tara, bea, carl, sue } = approvers;

describe("the program refuses unapproved releases on a stack that is not a development stack", () => {
  let stack: ReleaseStack;
  let inputsDir: string;
  let keysDir: string;
  let before: StackSnapshot;

  /** Writes a manifest inside the project (JSON is YAML 1.2) and makes it the stack's release. */
  const useManifest = async (manifest: Manifest, file: string) => {
    writeFileSync(join(inputsDir, file), JSON.stringify(manifest, null, 2));
    await stack.stack.setConfig("shipgate:manifest", { value: `.shipgate/${stack.name}-inputs/${file}` });
  };

  beforeAll(async () => {
    stack = await createReleaseStack({ port, prefix: "e2e", service: { stateful: false } });
    expect(stack.name).toMatch(/^e2e-/);
    inputsDir = join(root, ".shipgate", `${stack.name}-inputs`);
    mkdirSync(inputsDir, { recursive: true });
    // The stack's policy config lives outside the project, as a pipeline's protected copy would.
    keysDir = mkdtempSync(join(tmpdir(), "shipgate-e2e-keys-"));
    const policyConfig = join(keysDir, "policy.json");
    writeFileSync(
      policyConfig,
      JSON.stringify({ "approvals-verified": { trustedKeys: trustedKeys([tara, bea, carl]) } }),
    );
    await stack.stack.setConfig("shipgate:policyConfig", { value: policyConfig });
  });

  afterAll(async () => {
    if (inputsDir) rmSync(inputsDir, { recursive: true, force: true });
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
    await stack?.dispose();
  });

  it("releases an approved manifest with a plain `up`, no policy pack", async () => {
    await useManifest(approve(exampleManifest("releases/sample-app/v1.yaml"), [tara, bea, carl]), "v1.json");
    const up = await stack.stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["liveVersion"]?.value).toBe("1.0.0");
    before = await snapshotStack(stack);
    expect(before.served).toBe('{"version":"1.0.0","schema":1}\n');
  });

  it("refuses an unapproved manifest in preview and in up, and changes nothing", async () => {
    await useManifest(exampleManifest("releases/sample-app/v2.yaml"), "v2-unsigned.json");
    await expect(stack.stack.preview()).rejects.toThrow("is not approved for stack");
    const message = await refusedUp(stack);
    expect(message).toContain(
      `Release CHG-101@2.0.0 (.shipgate/${stack.name}-inputs/v2-unsigned.json) is not approved for stack "${stack.name}"`,
    );
    expect(message).toContain("0 valid approver(s) (none), the stack needs 2");
    expect(await snapshotStack(stack)).toEqual(before);
  });

  it("refuses a manifest edited after signing, and one signed by a key the stack does not trust", async () => {
    const v2 = exampleManifest("releases/sample-app/v2.yaml");
    await useManifest({ ...approve(v2, [tara, bea, carl]), title: `${v2.title}  ` }, "v2-padded.json");
    const padded = await refusedUp(stack);
    expect(padded).toContain("approvals[0] (tara as technical) does not count: invalid-signature");
    expect(await snapshotStack(stack)).toEqual(before);

    await useManifest(approve(v2, [tara, bea, carl, sue]), "v2-untrusted.json");
    const untrusted = await refusedUp(stack);
    expect(untrusted).toContain("approvals[3] (sue as support) does not count: unknown-approver");
    expect(await snapshotStack(stack)).toEqual(before);
  });
});
