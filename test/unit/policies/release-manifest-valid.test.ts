import { describe, expect, it } from "vitest";
import { releaseManifestValid } from "../../../policies/rules/release-manifest-valid";
import { manifestDigest } from "../../../release";
import { evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";

const base = exampleManifest("releases/sample-app/v2.yaml");

describe("release-manifest-valid", () => {
  it("is named, described and mandatory by default", () => {
    expect(releaseManifestValid.name).toBe("release-manifest-valid");
    expect(releaseManifestValid.enforcementLevel).toBe("mandatory");
    expect(releaseManifestValid.description).toMatch(/^The .+\.$/);
  });

  it("passes the evidence the program registers for a valid manifest", async () => {
    expect(await runResourcePolicy(releaseManifestValid, evidence(base))).toEqual({ violations: [] });
  });

  it("reports every schema and rule problem of the manifest at once", async () => {
    const manifest = {
      ...base,
      tests: { ...base.tests, failed: 1, total: 13 },
      risk: { ...base.risk, level: "high" },
    };
    delete (manifest.risk as { rollbackPlan?: unknown }).rollbackPlan;
    expect(await runResourcePolicy(releaseManifestValid, evidence(manifest as typeof base))).toEqual({
      violations: [
        "Fix the release manifest releases/test.yaml carried by release-anchor-evidence (check it with " +
          "`npx shipgate validate releases/test.yaml`): risk.rollbackPlan: a high-risk release needs a rollback plan; " +
          "tests.failed: expected no failed tests before release, found 1.",
      ],
    });
  });

  it("reports evidence that disagrees with its manifest, digest included", async () => {
    const wrong = evidence(base, { version: "9.9.9", digest: "sha256:" + "0".repeat(64) });
    expect(await runResourcePolicy(releaseManifestValid, wrong)).toEqual({
      violations: [
        'Register release-anchor-evidence with the manifest\'s version ("2.0.0"), not "9.9.9": the anchor must ' +
          "describe the release it carries.",
        `Register release-anchor-evidence with the manifest's digest ${manifestDigest(base)}, not ` +
          `"sha256:${"0".repeat(64)}": the policies recompute it from the manifest and check approvals against ` +
          `${manifestDigest(base)}.`,
      ],
    });
  });

  it("ignores other resources", async () => {
    const other = { type: "pulumi-nodejs:dynamic/shipgate/local:Gate", name: "g", props: {} };
    expect(await runResourcePolicy(releaseManifestValid, other)).toEqual({ violations: [] });
  });
});
