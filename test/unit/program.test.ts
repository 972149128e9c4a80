// The program under Pulumi mocks: the exact resources it registers from the stack's config.
import type * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { installMocks, valueOf } from "./mocks";
import { approve, approvers, exampleManifest, trustedKeys } from "./policies/fixtures";

describe("the program (index.ts)", () => {
  it("registers only the local working directory of a stack retired on purpose", async () => {
    vi.resetModules();
    const mocks = await installMocks(
      { "shipgate:workDir": ".shipgate/unit", "shipgate:retire": "true" },
      { stack: "unit" },
    );
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
    const mocks = await installMocks({ "shipgate:retire": "true" }, { stack: "demo" });
    await import("../../index");
    await mocks.settle();
    expect(mocks.registrations.map((r) => r.inputs["path"])).toEqual([".shipgate/demo"]);
  });
});

describe("the program refuses a stack config that would delete running services (index.ts)", () => {
  it("refuses a stack that names no manifest, registering nothing, and says how to retire on purpose", async () => {
    vi.resetModules();
    const mocks = await installMocks({ "shipgate:workDir": ".shipgate/unit" }, { stack: "unit" });
    await expect(import("../../index")).rejects.toThrow(
      'Stack "unit" names no release manifest (shipgate:manifest is not set), so shipgate refuses to run',
    );
    await mocks.settle();
    expect(mocks.registrations).toEqual([]);
  });

  it("refuses a misspelt shipgate: key, naming it and the key it was probably meant to be", async () => {
    vi.resetModules();
    const mocks = await installMocks(
      { "shipgate:manifst": "releases/sample-app/v1.yaml", "other:manifst": "ignored" },
      { stack: "unit" },
    );
    await expect(import("../../index")).rejects.toThrow(
      "  - shipgate:manifst: unknown key (did you mean shipgate:manifest?)",
    );
    await mocks.settle();
    expect(mocks.registrations).toEqual([]);
  });
});

describe("the program with a release manifest (index.ts)", () => {
  it("releases the manifest on the local platform, the working directory after the anchor, and exports where users are served", async () => {
    vi.resetModules();
    // A working folder that does not exist: observe() finds nothing running, as on a first release.
    const workDir = `.shipgate/unit-${randomBytes(4).toString("hex")}`;
    const mocks = await installMocks(
      {
        "shipgate:workDir": workDir,
        "shipgate:manifest": "releases/sample-app/v1.yaml",
        "shipgate:services": JSON.stringify({
          "sample-app": { port: 32000, artifacts: ".shipgate/artifacts/sample-app", stateful: false },
        }),
      },
      {
        stack: "dev-unit",
        outputs: (r) =>
          r.type.endsWith(":Router") || r.type.endsWith(":Slot")
            ? { url: `http://127.0.0.1:${String(r.inputs["port"])}` }
            : r.type.endsWith(":Switch")
              ? { active: r.inputs["color"] }
              : r.type.endsWith(":Record")
                ? { markdownPath: `${workDir}/records/CHG-100-1.0.0.md` }
                : {},
      },
    );
    const program = await import("../../index");
    await mocks.settle();
    expect(existsSync(join(__dirname, "..", "..", workDir))).toBe(false);

    const local = (kind: string) => `pulumi-nodejs:dynamic/shipgate/local:${kind}`;
    expect(mocks.registrations.map(({ type, name }) => `${type} ${name}`).sort()).toEqual(
      [
        `${local("Directory")} workdir`,
        "shipgate:release:Release release",
        "shipgate:release:ReleaseAnchor release-anchor",
        "pulumi-nodejs:dynamic/shipgate/release:Evidence release-anchor-evidence",
        "shipgate:notify:Notification release-announce",
        `${local("Notification")} release-announce-send`,
        "shipgate:deploy:BlueGreenService sample-app",
        `${local("Router")} sample-app-router`,
        `${local("Slot")} sample-app-blue`,
        "shipgate:gate:HealthGate sample-app-gate",
        `${local("Gate")} sample-app-gate-checks`,
        "shipgate:traffic:TrafficSwitch sample-app-switch",
        `${local("Switch")} sample-app-switch-route`,
        "shipgate:verify:PostPromotionVerification sample-app-verify",
        `${local("Verification")} sample-app-verify-bake`,
        "shipgate:record:DeploymentRecord release-record",
        `${local("Record")} release-record-write`,
        "shipgate:notify:Notification release-complete",
        `${local("Notification")} release-complete-send`,
      ].sort(),
    );
    // An unapproved release changes nothing: even the working folder waits for the anchor.
    const workdir = mocks.registrations.find((r) => r.name === "workdir");
    expect(workdir?.dependsOn).toEqual(["release-anchor-evidence"]);
    expect(mocks.registrations.find((r) => r.name === "release")?.dependsOn).toEqual([]);
    const slot = mocks.registrations.find((r) => r.name === "sample-app-blue");
    expect(slot?.inputs["dir"]).toBe(`${workDir}/services/sample-app/blue`);
    expect(slot?.inputs["port"]).toBe(32001);
    const evidence = mocks.registrations.find((r) => r.name === "release-anchor-evidence");
    expect(evidence?.inputs["manifestPath"]).toBe("releases/sample-app/v1.yaml");
    expect(evidence?.inputs["stack"]).toBe("dev-unit");

    expect(await valueOf(program.url as pulumi.Output<string>)).toBe("http://127.0.0.1:32000");
    expect(await valueOf(program.activeColor as pulumi.Output<string>)).toBe("blue");
    expect(await valueOf(program.liveVersion as pulumi.Output<string | null>)).toBe("1.0.0");
    expect(await valueOf(program.deploymentRecord as pulumi.Output<string>)).toBe(
      `${workDir}/records/CHG-100-1.0.0.md`,
    );
  });
});

describe("the program checks approvals itself on a stack that is not a development stack (index.ts)", () => {
  const dir = `.shipgate/unit-approvals-${randomBytes(4).toString("hex")}`;
  const root = join(__dirname, "..", "..");
  const v1 = exampleManifest("releases/sample-app/v1.yaml");
  const policyConfig = join(root, dir, "policy.json");
  const { tara, bea, carl, sue } = approvers;

  const run = async (manifest: unknown, config: Record<string, string> = {}) => {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, "manifest.json"), JSON.stringify(manifest));
    writeFileSync(
      policyConfig,
      JSON.stringify({ "approvals-verified": { trustedKeys: trustedKeys([tara, bea, carl]) } }),
    );
    vi.resetModules();
    const mocks = await installMocks(
      {
        "shipgate:workDir": `${dir}/work`,
        "shipgate:manifest": `${dir}/manifest.json`,
        "shipgate:policyConfig": policyConfig,
        "shipgate:services": JSON.stringify({
          "sample-app": { port: 32100, artifacts: ".shipgate/artifacts/sample-app", stateful: false },
        }),
        ...config,
      },
      { stack: "prod-unit" },
    );
    const outcome = await import("../../index").then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    await mocks.settle();
    rmSync(join(root, dir), { recursive: true, force: true });
    return { outcome, registrations: mocks.registrations };
  };

  it("refuses an unapproved manifest before registering anything, naming what is missing", async () => {
    const { outcome, registrations } = await run(v1);
    expect(outcome).toContain(
      "Release CHG-100@1.0.0 (" +
        dir +
        '/manifest.json) is not approved for stack "prod-unit", so shipgate refuses to release it:',
    );
    expect(outcome).toContain("  - 0 valid approver(s) (none), the stack needs 2");
    expect(outcome).toContain("  - no valid approval for the role(s) technical, business, change-board");
    expect(registrations).toEqual([]);
  });

  it("refuses approvals by keys the stack does not trust, and a manifest edited after signing", async () => {
    const untrusted = await run(approve(v1, [tara, sue]));
    expect(untrusted.outcome).toContain("approvals[1] (sue as support) does not count: unknown-approver");
    expect(untrusted.registrations).toEqual([]);
    const edited = await run({ ...approve(v1, [tara, bea]), title: `${v1.title} ` });
    expect(edited.outcome).toContain("approvals[0] (tara as technical) does not count: invalid-signature");
    expect(edited.registrations).toEqual([]);
  });

  it("refuses a stack whose policy config is missing, saying where the keys are expected", async () => {
    const { outcome, registrations } = await run(approve(v1, [tara, bea]), {
      "shipgate:policyConfig": join(root, dir, "absent.json"),
    });
    expect(outcome).toContain(
      "Stack \"prod-unit\" is not a development stack, so the program verifies a release's approvals against the trusted keys in the stack's policy config",
    );
    expect(outcome).toContain("and it cannot be read");
    expect(registrations).toEqual([]);
  });

  it("declares an approved release", async () => {
    const { outcome, registrations } = await run(approve(v1, [tara, bea, carl]));
    expect(outcome).toBeUndefined();
    expect(registrations.map((r) => r.name)).toContain("release-anchor-evidence");
  });
});
