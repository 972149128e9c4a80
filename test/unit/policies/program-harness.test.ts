// The pack on the real program (index.ts) under mocks: what it registers, with the dependencies the
// engine would see, judged by every policy with a stack's policy config.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { policiesForStack } from "../../../policies/pack";
import type { Manifest } from "../../../release";
import { approve, approvers, defined, exampleManifest, trustedKeys } from "./fixtures";
import { evaluatePack, runProgram } from "./program-harness";

const workDir = ".shipgate/unit-policies";
const root = join(__dirname, "../../..");
const { tara, bea, carl } = approvers;
const policyConfig = { "approvals-verified": { trustedKeys: trustedKeys() } };

/** The stack config of a stack releasing `manifest` (written under the git-ignored working folder). */
function stackConfig(manifest: Manifest, file: string, service: Record<string, unknown> = {}) {
  mkdirSync(join(root, workDir), { recursive: true });
  writeFileSync(join(root, workDir, `${file}.yaml`), JSON.stringify(manifest));
  return {
    "shipgate:workDir": workDir,
    "shipgate:manifest": `${workDir}/${file}.yaml`,
    "shipgate:services": JSON.stringify({ "sample-app": { port: 26000, ...service } }),
  };
}

const release = exampleManifest("releases/sample-app/v2.yaml");

describe("the program under mocks, judged by the pack", () => {
  afterAll(() => rmSync(join(root, workDir), { recursive: true, force: true }));

  it("captures every step with the dependencies the engine sees", async () => {
    const { resources, error } = await runProgram(stackConfig(release, "deps"), { stack: "unit-policies" });
    expect(error).toBeUndefined();
    const custom = resources.filter((resource) => resource.custom);
    const byName = new Map(custom.map((resource) => [resource.name, resource]));
    const depsOf = (name: string) => byName.get(name)?.dependencies.map((urn) => urn.split("::")[3]);
    expect(custom.map((resource) => resource.name)).toEqual([
      "release-anchor-evidence",
      "workdir",
      "release-announce-send",
      "sample-app-backup-data",
      "sample-app-router",
      "sample-app-migrate",
      "sample-app-blue",
      "sample-app-gate-checks",
      "sample-app-switch-route",
      "sample-app-verify-bake",
      "release-record-write",
      "release-complete-send",
    ]);
    expect(depsOf("workdir")).toEqual(["release-anchor-evidence"]);
    expect(depsOf("sample-app-switch-route")).toEqual(["sample-app-gate-checks"]);
    expect(depsOf("sample-app-verify-bake")).toEqual(["sample-app-switch-route"]);
    expect(depsOf("sample-app-migrate")).toContain("sample-app-backup-data");
    expect(
      byName.get("sample-app-migrate")?.propertyDependencies["backupId"]?.map((u) => u.split("::")[3]),
    ).toEqual(["sample-app-backup-data"]);
    expect(byName.get("release-anchor-evidence")?.urn).toBe(
      "urn:pulumi:unit-policies::shipgate::shipgate:release:ReleaseAnchor$pulumi-nodejs:dynamic/shipgate/release:Evidence::release-anchor-evidence",
    );
  });

  it("passes an approved release on a production-like stack", async () => {
    const { resources } = await runProgram(stackConfig(approve(release, [tara, bea, carl]), "approved"), {
      stack: "unit-policies",
    });
    expect(await evaluatePack(policiesForStack("unit-policies"), resources, policyConfig)).toEqual([]);
  });

  it("stops an unapproved release whose stack marks its service stateless, naming each policy", async () => {
    const { database: _dropped, ...component } = defined(release.components[0], "the component");
    const config = stackConfig({ ...release, components: [component] }, "stateless", { stateful: false });
    const { resources } = await runProgram(config, { stack: "unit-policies" });
    const violations = await evaluatePack(policiesForStack("unit-policies"), resources, policyConfig);
    expect(violations.map(({ policy, level, resource }) => ({ policy, level, resource }))).toEqual([
      { policy: "approvals-verified", level: "mandatory", resource: "release-anchor-evidence" },
      { policy: "approvals-verified", level: "mandatory", resource: "release-anchor-evidence" },
      { policy: "backup-before-stateful-change", level: "mandatory", resource: "sample-app-blue" },
    ]);
    expect(violations[2]?.message).toMatch(/^Back up sample-app before slot sample-app-blue: /);
  });

  it("only advises on the local stack, and honours a per-stack level from the policy config", async () => {
    const { resources } = await runProgram(stackConfig(release, "local"), { stack: "local" });
    const local = await evaluatePack(policiesForStack("local"), resources, policyConfig);
    expect(local.map(({ policy, level }) => `${level} ${policy}`)).toEqual([
      "advisory approvals-verified",
      "advisory approvals-verified",
    ]);
    const strict = await evaluatePack(policiesForStack("local"), resources, {
      "approvals-verified": { ...policyConfig["approvals-verified"], enforcementLevel: "mandatory" },
    });
    expect(strict.map(({ policy, level }) => `${level} ${policy}`)).toEqual([
      "mandatory approvals-verified",
      "mandatory approvals-verified",
    ]);
  });
});
