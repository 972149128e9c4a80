// The resource policies of the quality gates, on single steps of a release.
import { describe, expect, it } from "vitest";
import { artifactsImmutable } from "../../../policies/rules/artifacts-immutable";
import { gateThresholdsWithinBounds } from "../../../policies/rules/gate-thresholds-within-bounds";
import { statefulResourcesProtected } from "../../../policies/rules/stateful-resources-protected";
import { evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";
import { DIGEST, checks, gatePolicy, verificationSpec } from "./plan";

const local = (kind: string) => `pulumi-nodejs:dynamic/shipgate/local:${kind}`;
const gate = (policy: Record<string, unknown>, gateChecks: unknown[] = checks) => ({
  type: local("Gate"),
  name: "sample-app-gate-checks",
  props: { service: "sample-app", digest: DIGEST, policy, checks: gateChecks },
});
const verification = (spec: Record<string, unknown>, fastTrack?: boolean) => ({
  type: local("Verification"),
  name: "sample-app-verify-bake",
  props: { service: "sample-app", spec, checks, ...(fastTrack === undefined ? {} : { fastTrack }) },
});

describe("gate-thresholds-within-bounds", () => {
  it("is named, described and mandatory by default", () => {
    expect(gateThresholdsWithinBounds.name).toBe("gate-thresholds-within-bounds");
    expect(gateThresholdsWithinBounds.enforcementLevel).toBe("mandatory");
    expect(gateThresholdsWithinBounds.description).toMatch(/^Pre-promotion .+\.$/);
  });

  it("passes the local stack's gate and verification", async () => {
    expect(await runResourcePolicy(gateThresholdsWithinBounds, gate(gatePolicy))).toEqual({ violations: [] });
    expect(await runResourcePolicy(gateThresholdsWithinBounds, verification(verificationSpec))).toEqual({
      violations: [],
    });
  });

  it("reports every gate threshold out of bounds, and a gate without technical checks", async () => {
    const loose = { consecutiveSuccesses: 1, failureThreshold: 10, intervalMs: 200, timeoutMs: 3_600_000 };
    const smokeOnly = checks.filter((check) => check.kind === "business");
    expect(await runResourcePolicy(gateThresholdsWithinBounds, gate(loose, smokeOnly))).toEqual({
      violations: [
        "Raise consecutiveSuccesses of gate sample-app-gate-checks to at least 2 (it is 1), in shipgate:services.<service>.gate of the stack's config.",
        "Lower failureThreshold of gate sample-app-gate-checks to at most 5 (it is 10), in shipgate:services.<service>.gate of the stack's config.",
        "Lower timeoutMs of gate sample-app-gate-checks to at most 600000 (it is 3600000), in shipgate:services.<service>.gate of the stack's config.",
        "Add the technical checks (up, healthy, right version, fast enough) to gate sample-app-gate-checks.",
      ],
    });
  });

  it("reports verification thresholds out of the configured bounds, and missing business checks where required", async () => {
    const lax = { bakeTimeMs: 0, intervalMs: 100, maxErrorRate: 0.5, maxP95LatencyMs: 500 };
    const config = { maxP95LatencyMs: 400, requireBusinessCheck: true };
    expect(await runResourcePolicy(gateThresholdsWithinBounds, verification(lax), { config })).toEqual({
      violations: [
        "Raise bakeTimeMs of verification sample-app-verify-bake to at least 5000 (it is 0), in shipgate:services.<service>.verification of the stack's config.",
        "Lower maxErrorRate of verification sample-app-verify-bake to at most 0.05 (it is 0.5), in shipgate:services.<service>.verification of the stack's config.",
        "Lower maxP95LatencyMs of verification sample-app-verify-bake to at most 400 (it is 500), in shipgate:services.<service>.verification of the stack's config.",
      ],
    });
    const technicalOnly = gate(
      gatePolicy,
      checks.filter((check) => check.kind === "technical"),
    );
    expect(await runResourcePolicy(gateThresholdsWithinBounds, technicalOnly, { config })).toEqual({
      violations: [
        "Add a business check (a smoke request) to gate sample-app-gate-checks, in shipgate:services.<service>.smoke of the stack's config.",
      ],
    });
  });

  it("bounds a fast-tracked rollback's short bake by minRollbackBakeTimeMs (none by default) instead of minBakeTimeMs", async () => {
    // The step carries the service's policy; a fast-tracked one bakes the judge's short bake of it
    // (one interval, 100 ms, unless rollbackBakeTimeMs says otherwise).
    const short = { ...verificationSpec, bakeTimeMs: 100 };
    expect(await runResourcePolicy(gateThresholdsWithinBounds, verification(verificationSpec, true))).toEqual(
      {
        violations: [],
      },
    );
    for (const fastTrack of [false, undefined]) {
      expect(await runResourcePolicy(gateThresholdsWithinBounds, verification(short, fastTrack))).toEqual({
        violations: [
          "Raise bakeTimeMs of verification sample-app-verify-bake to at least 5000 (it is 100), in shipgate:services.<service>.verification of the stack's config.",
        ],
      });
    }
    const config = { minRollbackBakeTimeMs: 1000 };
    const raise = (it: number) =>
      `Raise rollbackBakeTimeMs of verification sample-app-verify-bake to at least 1000 (it is ${it}), in shipgate:services.<service>.verification of the stack's config.`;
    expect(
      await runResourcePolicy(gateThresholdsWithinBounds, verification(verificationSpec, true), { config }),
    ).toEqual({ violations: [raise(100)] });
    const longer = { ...verificationSpec, rollbackBakeTimeMs: 1500 };
    expect(
      await runResourcePolicy(gateThresholdsWithinBounds, verification(longer, true), { config }),
    ).toEqual({
      violations: [],
    });
  });

  it("matches a gate step of another platform by its HealthGate parent", async () => {
    const kubernetesGate = {
      ...gate({ consecutiveSuccesses: 1, failureThreshold: 3, timeoutMs: 1000 }),
      type: "kubernetes:batch/v1:Job",
      urn: "urn:pulumi:staging::shipgate::shipgate:release:Release$shipgate:gate:HealthGate$kubernetes:batch/v1:Job::smoke",
    };
    expect((await runResourcePolicy(gateThresholdsWithinBounds, kubernetesGate)).violations).toHaveLength(1);
  });
});

describe("artifacts-immutable", () => {
  const slot = (spec: Record<string, unknown>) => ({
    type: local("Slot"),
    name: "sample-app-blue",
    props: { service: "sample-app", spec },
  });
  const pinned = { version: "2.0.0", artifact: { source: "x", version: "2.0.0", digest: DIGEST } };

  it("is named, described and mandatory by default", () => {
    expect(artifactsImmutable.name).toBe("artifacts-immutable");
    expect(artifactsImmutable.enforcementLevel).toBe("mandatory");
    expect(artifactsImmutable.description).toMatch(/^Every .+\.$/);
  });

  it("passes digest-pinned manifests and steps", async () => {
    expect(
      await runResourcePolicy(artifactsImmutable, evidence(exampleManifest("releases/sample-app/v2.yaml"))),
    ).toEqual({
      violations: [],
    });
    expect(await runResourcePolicy(artifactsImmutable, slot(pinned))).toEqual({ violations: [] });
    expect(await runResourcePolicy(artifactsImmutable, gate(gatePolicy))).toEqual({ violations: [] });
  });

  it("reports a manifest component pinned by version only, unless the config allows it", async () => {
    const versionOnly = exampleManifest("releases/examples/hot-fix.yaml"); // shop-api 2.4.1, no digest
    expect(await runResourcePolicy(artifactsImmutable, evidence(versionOnly))).toEqual({
      violations: [
        "Pin component shop-api of HF-311@2.4.1 (release-anchor-evidence) by its content digest " +
          "(artifact.digest: sha256:<64 hex>), not only its version.",
      ],
    });
    const config = { requireDigest: false };
    expect(await runResourcePolicy(artifactsImmutable, evidence(versionOnly), { config })).toEqual({
      violations: [],
    });
  });

  it("reports steps that deploy, migrate or gate an unpinned artifact", async () => {
    const floating = { version: "latest", artifact: { source: "x", version: "latest" } };
    expect(await runResourcePolicy(artifactsImmutable, slot(floating))).toEqual({
      violations: [
        'Deploy sample-app-blue from an artifact pinned by a sha256 digest and a fixed version (it names digest none, version "latest").',
      ],
    });
    const migration = { type: local("Migration"), name: "sample-app-migrate", props: { digest: "main" } };
    expect(await runResourcePolicy(artifactsImmutable, migration)).toEqual({
      violations: [
        'Pin the artifact migration sample-app-migrate uses by its sha256 digest (it names "main").',
      ],
    });
  });
});

describe("stateful-resources-protected", () => {
  const backup = (stack: string, protect: boolean) => ({
    type: local("Backup"),
    name: "sample-app-backup-data",
    props: { service: "sample-app" },
    urn: `urn:pulumi:${stack}::shipgate::shipgate:release:Release$shipgate:backup:Backup$${local("Backup")}::sample-app-backup-data`,
    protect,
  });

  it("is named, described and mandatory by default", () => {
    expect(statefulResourcesProtected.name).toBe("stateful-resources-protected");
    expect(statefulResourcesProtected.enforcementLevel).toBe("mandatory");
    expect(statefulResourcesProtected.description).toMatch(/^On .+\.$/);
  });

  it("passes protected backups in production and any backup elsewhere", async () => {
    expect(await runResourcePolicy(statefulResourcesProtected, backup("production", true))).toEqual({
      violations: [],
    });
    expect(await runResourcePolicy(statefulResourcesProtected, backup("local", false))).toEqual({
      violations: [],
    });
  });

  it("reports an unprotected backup on a stack the config names", async () => {
    const violation = {
      violations: [
        "Protect backup sample-app-backup-data on stack production: set protect: true so a destroy or rename cannot delete the data it holds.",
      ],
    };
    expect(await runResourcePolicy(statefulResourcesProtected, backup("production", false))).toEqual(
      violation,
    );
    const staging = { config: { stacks: ["staging"] } };
    expect(
      (await runResourcePolicy(statefulResourcesProtected, backup("staging", false), staging)).violations,
    ).toHaveLength(1);
  });
});
