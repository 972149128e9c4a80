// The quality gates on the kubernetes platform: the real program with the staging stack's config
// (shipgate:platform kubernetes) under mocks, judged by the whole pack as a real stack would be.
// The program cannot register some broken plans (an unpinned image, a switch before its gate Job, a
// migration Job before the backup); those are the program's own objects with one image or one
// dependency changed, judged through the same complete validation args.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import type { ClusterReader } from "../../../platforms/kubernetes/observe";
import { roleOf, serviceOf } from "../../../policies/lib/roles";
import { policiesForStack } from "../../../policies/pack";
import type { Manifest } from "../../../release";
import { approve, approvers, defined, exampleManifest, trustedKeys } from "./fixtures";
import { type CapturedResource, evaluatePack, runProgram } from "./program-harness";

const root = join(__dirname, "../../..");
const workDir = ".shipgate/unit-policies-kubernetes";
const stack = "staging";
const { tara, bea, carl } = approvers;
const pack = policiesForStack(stack);
const policyConfig = { "approvals-verified": { trustedKeys: trustedKeys() } };
const image = "docker.io/hashicorp/http-echo";
const digest = "sha256:fcb75f691c8b0414d670ae570240cbf95502cc18a9ba57e982ecac589760a186";

/** stacks/Pulumi.staging.yaml's config, as `pulumi config` hands it to the program (JSON for objects). */
const staging = (
  parse(readFileSync(join(root, "stacks/Pulumi.staging.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  }
).config;
const stagingServices = staging["shipgate:services"] as Record<string, Record<string, unknown>>;
const stagingKubernetes = staging["shipgate:kubernetes"] as {
  services: Record<string, Record<string, unknown>>;
};

interface StackChanges {
  /** Merged into shipgate:services.sample-app. */
  readonly service?: Record<string, unknown>;
  /** Merged into shipgate:kubernetes.services.sample-app. */
  readonly kubernetes?: Record<string, unknown>;
}

/** The staging stack releasing `manifest` (written under a git-ignored folder), with `changes`. */
function stagingConfig(manifest: Manifest, file: string, changes: StackChanges = {}): Record<string, string> {
  mkdirSync(join(root, workDir), { recursive: true });
  writeFileSync(join(root, workDir, `${file}.yaml`), JSON.stringify(manifest));
  const kubernetes = {
    ...stagingKubernetes,
    services: {
      "sample-app": { ...stagingKubernetes.services["sample-app"], ...changes.kubernetes },
    },
  };
  return {
    "shipgate:platform": "kubernetes",
    "shipgate:manifest": `${workDir}/${file}.yaml`,
    "shipgate:kubernetes": JSON.stringify(kubernetes),
    "shipgate:services": JSON.stringify({
      "sample-app": { ...stagingServices["sample-app"], ...changes.service },
    }),
  };
}

/** What kubectl answers for a cluster where blue is live and runs 1.0.0 (a second release follows). */
const blueLive: ClusterReader = () => ({
  items: [
    {
      kind: "Service",
      metadata: { name: "sample-app" },
      spec: { selector: { "app.kubernetes.io/name": "sample-app", "shipgate.dev/color": "blue" } },
    },
    {
      kind: "Deployment",
      metadata: {
        name: "sample-app-blue",
        annotations: {
          "shipgate.dev/slot-spec": JSON.stringify({
            version: "1.0.0",
            artifact: { source: image, version: "1.0.0", digest },
            env: { SHIPGATE_RESPONSE: '{"service":"sample-app","version":"1.0.0"}' },
          }),
        },
      },
    },
  ],
});

/** Release 1.1.0, approved, with a backward-compatible migration: every role of a blue-green release. */
function release(): Manifest {
  const manifest = exampleManifest("releases/staging/sample-app-1.1.0.yaml");
  const component = defined(manifest.components[0], "the sample app's component");
  const migrations = [
    { id: "0003_add_served_by", description: "Adds servedBy; 1.0.0 ignores it.", backwardCompatible: true },
  ];
  return approve({ ...manifest, components: [{ ...component, database: { name: "items", migrations } }] }, [
    tara,
    bea,
    carl,
  ]);
}

/** A stateful sample app: its claim snapshotted before the release, migrations run by a Job. */
const statefulService: StackChanges = {
  service: { stateful: true },
  kubernetes: {
    backup: { kind: "volumeSnapshot", claim: "sample-app-data", snapshotClass: "csi-snapclass" },
    migrationCommand: "node migrate.mjs",
  },
};

const urnOf = (resources: readonly CapturedResource[], name: string) =>
  defined(
    resources.find((resource) => resource.name === name),
    name,
  ).urn;

/** `resources` with `dependents` no longer waiting for `dependency` (a program that forgot a dependsOn). */
function withoutDependency(
  resources: readonly CapturedResource[],
  dependents: readonly string[],
  dependency: string,
): CapturedResource[] {
  const urn = urnOf(resources, dependency);
  return resources.map((resource) =>
    dependents.includes(resource.name)
      ? {
          ...resource,
          dependencies: resource.dependencies.filter((d) => d !== urn),
          propertyDependencies: Object.fromEntries(
            Object.entries(resource.propertyDependencies).map(([key, deps]) => [
              key,
              deps.filter((d) => d !== urn),
            ]),
          ),
        }
      : resource,
  );
}

/** The approved second release of a stateful sample app, as the program registers it. */
async function goodRelease(): Promise<CapturedResource[]> {
  const run = await runProgram(stagingConfig(release(), "good", statefulService), {
    stack,
    clusterReader: blueLive,
  });
  expect(run.error).toBeUndefined();
  return run.resources;
}

/** `resources` with the first container of `name` running `containerImage`. */
function withImage(resources: readonly CapturedResource[], name: string, containerImage: string) {
  return resources.map((resource) => {
    if (resource.name !== name) return resource;
    const props = structuredClone(resource.props) as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    defined(props.spec.template.spec.containers[0], `a container of ${name}`).image = containerImage;
    return { ...resource, props };
  });
}

/** Violations in a stable order: the program registers concurrently. */
const sorted = (violations: Awaited<ReturnType<typeof evaluatePack>>) =>
  [...violations].sort((a, b) => `${a.resource} ${a.message}`.localeCompare(`${b.resource} ${b.message}`));

const mandatory = (policy: string, resource: string, message: string) => ({
  policy,
  level: "mandatory",
  resource,
  message,
});

describe("the quality gates on the kubernetes platform (staging stack, real program under mocks)", () => {
  afterAll(() => rmSync(join(root, workDir), { recursive: true, force: true }));

  it("recognises every kubernetes object of a release by its role and service", async () => {
    const roles = (await goodRelease())
      .filter((resource) => resource.type.startsWith("kubernetes:"))
      .map((resource) => {
        const role = roleOf(resource.type, resource.urn, resource.props) ?? "-";
        return `${resource.name} ${resource.type}: ${role} ${serviceOf(resource) ?? "-"}`;
      })
      .sort();
    expect(roles).toEqual([
      "namespace kubernetes:core/v1:Namespace: - -",
      "release-announce-send kubernetes:core/v1:ConfigMap: notification -",
      "release-complete-send kubernetes:core/v1:ConfigMap: notification -",
      "release-record-write kubernetes:core/v1:ConfigMap: record -",
      "sample-app-backup-data kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshot: backup sample-app",
      "sample-app-blue kubernetes:apps/v1:Deployment: slot sample-app",
      "sample-app-gate-checks kubernetes:batch/v1:Job: gate sample-app",
      // What a failed gate or verification Job records: not a gate itself.
      "sample-app-gate-checks-failure kubernetes:core/v1:ConfigMap: - sample-app",
      "sample-app-gate-checks-preview kubernetes:core/v1:Service: - sample-app",
      "sample-app-green kubernetes:apps/v1:Deployment: slot sample-app",
      "sample-app-migrate kubernetes:batch/v1:Job: migration sample-app",
      "sample-app-router-account kubernetes:core/v1:ServiceAccount: - sample-app",
      "sample-app-router-binding kubernetes:rbac.authorization.k8s.io/v1:RoleBinding: - sample-app",
      "sample-app-router-role kubernetes:rbac.authorization.k8s.io/v1:Role: - sample-app",
      "sample-app-switch-route kubernetes:core/v1:Service: switch sample-app",
      "sample-app-verify-bake kubernetes:batch/v1:Job: verification sample-app",
      "sample-app-verify-bake-failure kubernetes:core/v1:ConfigMap: - sample-app",
      "shipgate-runner kubernetes:core/v1:ConfigMap: - -",
    ]);
  });

  it("passes an approved second release: backup, migration, new colour, gate, switch, verification", async () => {
    expect(await evaluatePack(pack, await goodRelease(), policyConfig)).toEqual([]);
  });

  it("stops the staging stack as shipped, whose stateless sample app is released without a backup", async () => {
    const config = stagingConfig(
      approve(exampleManifest("releases/staging/sample-app-1.1.0.yaml"), [tara, bea, carl]),
      "stateless",
    );
    const { resources, error } = await runProgram(config, { stack, clusterReader: blueLive });
    expect(error).toBeUndefined();
    const backupFirst = (slot: string) =>
      mandatory(
        "backup-before-stateful-change",
        slot,
        `Back up sample-app before slot ${slot}: it changes a stateful service and waits for no backup of it. ` +
          "Set shipgate:services.sample-app.stateful to true in the stack's config, or list sample-app in this " +
          "policy's statelessServices if it keeps no data.",
      );
    expect(sorted(await evaluatePack(pack, resources, policyConfig))).toEqual([
      backupFirst("sample-app-blue"),
      backupFirst("sample-app-green"),
    ]);
    const stateless = {
      ...policyConfig,
      "backup-before-stateful-change": { statelessServices: ["sample-app"] },
    };
    expect(await evaluatePack(pack, resources, stateless)).toEqual([]);
  });

  it("stops a switch of the active Service that does not wait for the gate Job", async () => {
    const ungated = withoutDependency(
      await goodRelease(),
      ["sample-app-switch-route"],
      "sample-app-gate-checks",
    );
    expect(await evaluatePack(pack, ungated, policyConfig)).toEqual([
      mandatory(
        "switch-gated-and-verified",
        "sample-app-switch-route",
        "Make switch sample-app-switch-route of sample-app depend on a pre-promotion health gate of sample-app: " +
          "no gate runs before it, so an unchecked version could take users' traffic.",
      ),
    ]);
  });

  it("stops a migration Job that does not wait for the VolumeSnapshot", async () => {
    // The router's objects wait for the backup too, and the migration Job waits for them.
    const router = ["sample-app-router-account", "sample-app-router-role", "sample-app-router-binding"];
    const unsafe = withoutDependency(
      await goodRelease(),
      ["sample-app-migrate", ...router],
      "sample-app-backup-data",
    );
    expect(await evaluatePack(pack, unsafe, policyConfig)).toEqual([
      mandatory(
        "backup-before-stateful-change",
        "sample-app-migrate",
        "Back up sample-app before migration sample-app-migrate: it changes a stateful service and waits for no " +
          "backup of it. Set shipgate:services.sample-app.stateful to true in the stack's config, or list " +
          "sample-app in this policy's statelessServices if it keeps no data.",
      ),
    ]);
  });

  it("stops gate and verification Jobs whose thresholds are out of bounds", async () => {
    const loose: StackChanges = {
      ...statefulService,
      service: {
        ...statefulService.service,
        gate: { consecutiveSuccesses: 1, failureThreshold: 10, intervalMs: 1000, timeoutMs: 3_600_000 },
        verification: { bakeTimeMs: 1000, intervalMs: 500, maxErrorRate: 0.5, maxP95LatencyMs: 500 },
      },
    };
    const { resources, error } = await runProgram(stagingConfig(release(), "loose", loose), {
      stack,
      clusterReader: blueLive,
    });
    expect(error).toBeUndefined();
    const bound = (resource: string, message: string) =>
      mandatory("gate-thresholds-within-bounds", resource, message);
    expect(await evaluatePack(pack, resources, policyConfig)).toEqual([
      bound(
        "sample-app-gate-checks",
        "Raise consecutiveSuccesses of gate sample-app-gate-checks to at least 2 (it is 1), in shipgate:services.<service>.gate of the stack's config.",
      ),
      bound(
        "sample-app-gate-checks",
        "Lower failureThreshold of gate sample-app-gate-checks to at most 5 (it is 10), in shipgate:services.<service>.gate of the stack's config.",
      ),
      bound(
        "sample-app-gate-checks",
        "Lower timeoutMs of gate sample-app-gate-checks to at most 600000 (it is 3600000), in shipgate:services.<service>.gate of the stack's config.",
      ),
      bound(
        "sample-app-verify-bake",
        "Raise bakeTimeMs of verification sample-app-verify-bake to at least 5000 (it is 1000), in shipgate:services.<service>.verification of the stack's config.",
      ),
      bound(
        "sample-app-verify-bake",
        "Lower maxErrorRate of verification sample-app-verify-bake to at most 0.05 (it is 0.5), in shipgate:services.<service>.verification of the stack's config.",
      ),
    ]);
  });

  it("stops a Deployment and a migration Job whose images are not pinned by digest", async () => {
    const tagged = `${image}:1.1.0`;
    const unpinned = withImage(
      withImage(await goodRelease(), "sample-app-green", tagged),
      "sample-app-migrate",
      tagged,
    );
    expect(sorted(await evaluatePack(pack, unpinned, policyConfig))).toEqual([
      mandatory(
        "artifacts-immutable",
        "sample-app-green",
        `Deploy sample-app-green from an artifact pinned by a sha256 digest and a fixed version (it names digest "${tagged}", version "1.1.0").`,
      ),
      mandatory(
        "artifacts-immutable",
        "sample-app-migrate",
        `Pin the artifact migration sample-app-migrate uses by its sha256 digest (it names "${tagged}").`,
      ),
    ]);
  });

  it("stops a release that keeps the previous colour warm for less than the minimum", async () => {
    const brief: StackChanges = {
      ...statefulService,
      service: { ...statefulService.service, warmWindowMinutes: 10 },
    };
    const { resources, error } = await runProgram(stagingConfig(release(), "brief", brief), {
      stack,
      clusterReader: blueLive,
    });
    expect(error).toBeUndefined();
    expect(await evaluatePack(pack, resources, policyConfig)).toEqual([
      mandatory(
        "previous-version-kept-warm",
        "sample-app-verify-bake",
        "Keep the previous version of sample-app warm for at least 30 minutes: set " +
          "shipgate:services.sample-app.warmWindowMinutes to 30 or more (it is 10).",
      ),
    ]);
  });
});
