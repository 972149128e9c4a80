// The policy pack on the real engine: `preview --policy-pack policies` with a stack's policy config
// (`--policy-pack-config`), on a throwaway stack of the project's program, for an approved release and
// for each way a release must be stopped; and `up` of an unapproved release, which changes nothing.
// Keys are generated and manifests signed here with the release model; trusted keys reach the pack
// only through its config file.
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { readdirSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chosenEngine, engineEnv, root } from "../../scripts/lib/engine.mjs";
import type { Manifest } from "../../release";
import { approve, approvers, defined, exampleManifest, trustedKeys } from "../unit/policies/fixtures";
import { createThrowawayStack, policyPackPath, type ThrowawayStack, testPort } from "./harness";
import { policiesForStack } from "../../policies/pack";

const { tara, bea, carl, riley, sue } = approvers;
const SERVICE_PORT = testPort(25000);
const HOUR = 60 * 60 * 1000;

/** The sample app's 2.0.0 release (standard-partial: technical, business and change-board approvals). */
const release = exampleManifest("releases/sample-app/v2.yaml");
/** The same release without its migration, so a stack may (wrongly) mark the service stateless. */
const { database: _migrations, ...componentWithoutData } = defined(release.components[0], "the component");
const releaseWithoutData: Manifest = { ...release, components: [componentWithoutData] };

/** What a failed preview or up printed (the Automation API's error carries stdout and stderr). */
async function failureOf(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Error);
  return String((error as Error).message);
}

describe("the policy pack on the real engine", () => {
  let throwaway: ThrowawayStack;
  let stack: Stack;
  let files: string;
  let workDir: string;

  /** Writes a manifest under the stack's working folder (git-ignored) and makes it the stack's release. */
  async function release_(manifest: Manifest, file: string): Promise<void> {
    const path = `${workDir}/manifests/${file}.yaml`;
    mkdirSync(join(root, workDir, "manifests"), { recursive: true });
    // JSON is YAML 1.2: the program parses it as the manifest's own YAML.
    writeFileSync(join(root, path), JSON.stringify(manifest, null, 2));
    await stack.setConfig("shipgate:manifest", { value: path });
  }

  /**
   * Writes a policy config file (the pipeline's `--policy-pack-config policies/config/<stack>.json`).
   * The stack is a development stack, so the program lets unapproved manifests through to the pack;
   * the config sets every policy to the level a production stack has by default, as a pipeline's does.
   */
  function policyConfig(file: string, config: Record<string, Record<string, unknown>>): string {
    const levels = Object.fromEntries(
      policiesForStack("production").map((policy) => [
        policy.name,
        { enforcementLevel: policy.enforcementLevel, ...(config[policy.name] ?? {}) },
      ]),
    );
    const path = join(files, `${file}.json`);
    writeFileSync(path, JSON.stringify(levels, null, 2));
    return path;
  }

  const trusted = () => ({
    "approvals-verified": { trustedKeys: trustedKeys([tara, bea, carl, sue, riley]) },
  });

  beforeAll(async () => {
    throwaway = await createThrowawayStack("dev-e2e");
    stack = throwaway.stack;
    workDir = `.shipgate/${throwaway.name}`;
    files = mkdtempSync(join(tmpdir(), "shipgate-e2e-policies-"));
    await stack.setConfig("shipgate:workDir", { value: workDir });
    await stack.setConfig("shipgate:services", {
      value: JSON.stringify({
        "sample-app": { port: SERVICE_PORT, artifacts: ".shipgate/artifacts/sample-app" },
      }),
    });
  });

  afterAll(async () => {
    await throwaway?.dispose();
    if (workDir) rmSync(join(root, workDir), { recursive: true, force: true });
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it("passes an approved release", async () => {
    await release_(approve(release, [tara, bea, carl]), "approved");
    const preview = await stack.preview({
      policyPacks: [policyPackPath],
      policyPackConfigs: [policyConfig("approved", trusted())],
    });
    expect(preview.stdout).toContain("shipgate@v0.1.0");
    expect(preview.stdout).not.toContain("[mandatory]");
    expect(preview.changeSummary["create"]).toBeGreaterThan(10);
  });

  it("stops forged, untrusted, expired, self- and double approvals and a missing role, naming each", async () => {
    const signed = approve(release, [tara, bea]);
    const technical = defined(signed.approvals?.[0], "tara's approval");
    const business = defined(signed.approvals?.[1], "bea's approval");
    const mallory = { ...sue, id: "mallory" }; // a real key, but not in the config
    const expired =
      approve(release, [carl], {
        signedAt: new Date(Date.now() - 100 * HOUR),
        expiresAt: new Date(Date.now() - HOUR),
      }).approvals ?? [];
    const manifest: Manifest = {
      ...release,
      approvals: [
        { ...technical, signature: business.signature }, // forged: tara's claims, bea's signature
        business,
        ...(approve(release, [bea]).approvals ?? []), // bea again, to reach the count
        ...(approve(release, [mallory], { role: "support" }).approvals ?? []),
        ...expired,
        ...(approve(release, [riley]).approvals ?? []), // the change request's author
      ],
    };
    await release_(manifest, "bad-approvals");
    const output = await failureOf(
      stack.preview({ policyPacks: [policyPackPath], policyPackConfigs: [policyConfig("bad", trusted())] }),
    );
    expect(output).toContain("[mandatory]");
    expect(output).toContain("approvals-verified");
    expect(output).toContain("[invalid-signature: the signature does not match");
    expect(output).toContain("[duplicate-approver: bea already approved as business (approvals[1])");
    expect(output).toContain("[unknown-approver: mallory is not in the trusted keys]");
    expect(output).toContain("[expired: expired at");
    expect(output).toContain("for the role(s) technical, change-board");
    expect(output).toContain("change-request-approved");
    expect(output).toContain("Remove approvals[5] (riley as technical)");
  });

  it("stops a manifest edited after it was signed", async () => {
    const edited = { ...approve(release, [tara, bea, carl]), title: "Items get a creation time, and more" };
    await release_(edited, "edited");
    const output = await failureOf(
      stack.preview({
        policyPacks: [policyPackPath],
        policyPackConfigs: [policyConfig("edited", trusted())],
      }),
    );
    expect(output).toContain("approvals-verified");
    for (const approver of ["tara as technical", "bea as business", "carl as change-board"]) {
      expect(output).toMatch(
        new RegExp(`Replace approvals\\[\\d\\] \\(${approver}\\)[^\\n]*invalid-signature`),
      );
    }
  });

  it("stops an unapproved release in a freeze whose plan skips the backup, and its up changes nothing", async () => {
    await release_(releaseWithoutData, "unapproved");
    await stack.setConfig("shipgate:services", {
      value: JSON.stringify({
        "sample-app": { port: SERVICE_PORT, artifacts: ".shipgate/artifacts/sample-app", stateful: false },
      }),
    });
    const freeze = {
      start: new Date(Date.now() - HOUR).toISOString(),
      end: new Date(Date.now() + 24 * HOUR).toISOString(),
      reason: "e2e",
    };
    const config = policyConfig("freeze", {
      ...trusted(),
      "deployment-window-open": { freezes: [freeze] },
    });
    const options = { policyPacks: [policyPackPath], policyPackConfigs: [config] };
    const output = await failureOf(stack.preview(options));
    expect(output).toContain("approvals-verified");
    expect(output).toContain("0 valid (none)");
    expect(output).toContain("deployment-window-open");
    expect(output).toContain(`Move CHG-101@2.0.0 (release-anchor-evidence) out of the e2e freeze`);
    expect(output).toContain("backup-before-stateful-change");
    expect(output).toContain("Back up sample-app before slot sample-app-blue");

    const upOutput = await failureOf(stack.up(options));
    expect(upOutput).toContain("approvals-verified");
    // The approval gates run on the release anchor, which every step and the stack's working folder
    // depend on: nothing was created.
    const state = await stack.exportStack();
    const created = ((state.deployment.resources ?? []) as { type: string }[]).map(
      (resource) => resource.type,
    );
    expect(created.filter((type) => type.startsWith("pulumi-nodejs:dynamic/shipgate/"))).toEqual([]);
    // The test keeps its manifests in the working folder; the platform wrote nothing next to them.
    expect(readdirSync(join(root, workDir))).toEqual(["manifests"]);
  });
});

describe("the policy pack on an edited program", () => {
  // A program that is not shipgate's registers the release's resource types itself: a hot fix whose
  // manifest names no incident, and a switch that waits for no gate. The pack must hold anyway.
  let stack: Stack;
  let projectDir: string;
  let backendDir: string;

  beforeAll(async () => {
    const engine = chosenEngine();
    if (!engine) throw new Error("The Pulumi engine is not set up: run `npm run setup`.");
    backendDir = mkdtempSync(join(tmpdir(), "shipgate-e2e-backend-"));
    // Inside the repository (git-ignored), so Node.js finds @pulumi/pulumi in its node_modules.
    projectDir = mkdtempSync(join(root, ".shipgate", "e2e-edited-"));
    const { incident: _incident, ...hotFix } = exampleManifest("releases/examples/hot-fix.yaml");
    writeFileSync(join(projectDir, "Pulumi.yaml"), "name: edited\nruntime: nodejs\nmain: index.js\n");
    writeFileSync(
      join(projectDir, "manifest.json"),
      JSON.stringify(approve(hotFix as Manifest, [tara, bea])),
    );
    writeFileSync(join(projectDir, "index.js"), EDITED_PROGRAM);
    const envVars = engineEnv(engine, { ...process.env, PULUMI_BACKEND_URL: `file://${backendDir}` });
    const pulumiCommand = await PulumiCommand.get({ root: dirname(engine.binDir) });
    stack = await LocalWorkspace.createStack(
      { stackName: "e2e-edited", workDir: projectDir },
      { envVars, pulumiCommand },
    );
  });

  afterAll(async () => {
    await stack?.workspace.removeStack("e2e-edited", { force: true }).catch(() => undefined);
    if (projectDir) rmSync(projectDir, { recursive: true, force: true });
    if (backendDir) rmSync(backendDir, { recursive: true, force: true });
  });

  it("stops a hot fix without an incident id and a switch without a gate", async () => {
    const output = await failureOf(stack.preview({ policyPacks: [policyPackPath] }));
    expect(output).toContain("fast-lane-incident-referenced");
    expect(output).toContain(
      "Reference the incident that hot-fix HF-311@2.4.1 (release-anchor-evidence) answers",
    );
    expect(output).toContain("release-manifest-valid");
    expect(output).toContain("switch-gated-and-verified");
    expect(output).toContain("Make switch shop-api-switch of shop-api depend on a pre-promotion health gate");
  });
});

const EDITED_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { readFileSync } = require("node:fs");
const provider = { async create(inputs) { return { id: inputs.name || "step", outs: inputs }; } };
class Step extends pulumi.dynamic.Resource {
  constructor(module, kind, name, props, opts) { super(provider, name, props, opts, module, kind); }
}
const manifest = JSON.parse(readFileSync("manifest.json", "utf8"));
const digest = "sha256:" + "ab".repeat(32);
const evidence = new Step("shipgate/release", "Evidence", "release-anchor-evidence", {
  changeId: manifest.changeId, version: manifest.version, deploymentType: manifest.deploymentType,
  digest, manifest, manifestPath: "manifest.json", stack: pulumi.getStack(),
});
const backup = new Step("shipgate/local", "Backup", "shop-api-backup", { service: "shop-api" }, { dependsOn: [evidence] });
const spec = { version: "2.4.1", artifact: { source: "shop", version: "2.4.1", digest }, env: {} };
const slot = new Step("shipgate/local", "Slot", "shop-api-blue", { service: "shop-api", color: "blue", spec }, { dependsOn: [backup] });
const traffic = new Step("shipgate/local", "Switch", "shop-api-switch", { service: "shop-api", color: "blue" }, { dependsOn: [slot] });
new Step("shipgate/local", "Verification", "shop-api-verify", {
  service: "shop-api", rollbackTo: null, checks: [{ name: "health", kind: "technical", path: "/health", expect: {} }],
  spec: { bakeTimeMs: 10000, intervalMs: 250, maxErrorRate: 0.01, maxP95LatencyMs: 1000 },
}, { dependsOn: [traffic] });
`;
