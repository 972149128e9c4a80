// The quality gates on the aws platform: the real program with the production stack's config
// (stacks/Pulumi.production.yaml) under mocks, judged by the whole pack with the production policy
// config (policies/config/production.json) as a real release would be. Broken plans the program
// cannot register (an unpinned image, a switch before its gate, a migration before the snapshot, an
// unprotected backup) are the program's own resources with one thing changed.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AwsObserveReader } from "../../../platforms/aws/observe-reader";
import { roleOf, serviceOf } from "../../../policies/lib/roles";
import { policiesForStack } from "../../../policies/pack";
import type { Manifest } from "../../../release";
import { approve, approvers, defined, exampleManifest, trustedKeys } from "./fixtures";
import { type CapturedResource, evaluatePack, runProgram } from "./program-harness";

const root = join(__dirname, "../../..");
const workDir = ".shipgate/unit-policies-aws";
const stack = "production";
const { tara, bea, sue, carl } = approvers;
const pack = policiesForStack(stack);
const productionPolicies = JSON.parse(
  readFileSync(join(root, "policies/config/production.json"), "utf8"),
) as Record<string, Record<string, unknown>>;
const policyConfig = {
  ...productionPolicies,
  "approvals-verified": { ...productionPolicies["approvals-verified"], trustedKeys: trustedKeys() },
};
const repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sample-app";

const production = (
  parse(readFileSync(join(root, "stacks/Pulumi.production.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  }
).config;
const productionServices = production["shipgate:services"] as Record<string, Record<string, unknown>>;

/** The production stack releasing `manifest` (written under a git-ignored folder), `service` merged in. */
function productionConfig(manifest: Manifest, file: string, service: Record<string, unknown> = {}) {
  mkdirSync(join(root, workDir), { recursive: true });
  writeFileSync(join(root, workDir, `${file}.yaml`), JSON.stringify(manifest));
  return {
    "shipgate:platform": "aws",
    "shipgate:manifest": `${workDir}/${file}.yaml`,
    "shipgate:aws": JSON.stringify(production["shipgate:aws"]),
    "shipgate:services": JSON.stringify({
      "sample-app": { ...productionServices["sample-app"], ...service },
    }),
  };
}

/** What AWS answers where blue is live and runs 1.0.0 (a second release follows). */
const blueLive: AwsObserveReader = () => ({
  active: "blue",
  slots: {
    blue: {
      version: "1.0.0",
      artifact: { source: repository, version: "1.0.0", digest: `sha256:${"3f".repeat(32)}` },
      env: {},
    },
  },
  switchedAt: "2026-12-01T08:00:00.000Z",
  rolledBackAt: null,
  maintenance: false,
});

/** Release 1.1.0 as shipped (a backward-compatible migration), approved by every role it needs. */
const release = () =>
  approve(exampleManifest("releases/production/sample-app-1.1.0.yaml"), [tara, bea, sue, carl]);

async function goodRelease(): Promise<CapturedResource[]> {
  const run = await runProgram(productionConfig(release(), "good"), { stack, awsReader: blueLive });
  expect(run.error).toBeUndefined();
  return run.resources;
}

const urnOf = (resources: readonly CapturedResource[], name: string) =>
  defined(
    resources.find((resource) => resource.name === name),
    name,
  ).urn;

function withoutDependency(
  resources: readonly CapturedResource[],
  dependents: readonly string[],
  dependency: string,
) {
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

/** `resources` with the container of task definition `name` running `image`. */
function withImage(resources: readonly CapturedResource[], name: string, image: string) {
  return resources.map((resource) => {
    if (resource.name !== name) return resource;
    const containers = JSON.parse(String(resource.props["containerDefinitions"])) as { image: string }[];
    defined(containers[0], `a container of ${name}`).image = image;
    return { ...resource, props: { ...resource.props, containerDefinitions: JSON.stringify(containers) } };
  });
}

const sorted = (violations: Awaited<ReturnType<typeof evaluatePack>>) =>
  [...violations].sort((a, b) => `${a.resource} ${a.message}`.localeCompare(`${b.resource} ${b.message}`));

const backupFirst = (role: string, resource: string) =>
  mandatory(
    "backup-before-stateful-change",
    resource,
    `Back up sample-app before ${role} ${resource}: it changes a stateful service and waits for no backup of it. ` +
      "Set shipgate:services.sample-app.stateful to true in the stack's config, or list sample-app in this " +
      "policy's statelessServices if it keeps no data.",
  );

function mandatory(policy: string, resource: string, message: string) {
  return { policy, level: "mandatory", resource, message };
}

// The first run imports @pulumi/aws (thousands of modules): seconds on a busy two-core machine.
describe(
  "the quality gates on the aws platform (production stack, real program under mocks)",
  { timeout: 60_000 },
  () => {
    // Inside the release's planned window and outside the production config's year-end freeze.
    beforeEach(() => vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-12-01T09:05:00Z") }));
    afterEach(() => vi.useRealTimers());
    afterAll(() => rmSync(join(root, workDir), { recursive: true, force: true }));

    it("recognises every step of a release among the aws resources, by its role and service", async () => {
      const roles = (await goodRelease())
        .filter((resource) => resource.type.startsWith("aws:") || resource.type.includes("/shipgate/aws:"))
        .map(
          (resource) =>
            `${resource.name} ${resource.type.replace(/^pulumi-nodejs:dynamic\/shipgate\/aws:/, "step:")}: ` +
            `${roleOf(resource.type, resource.urn, resource.props) ?? "-"} ${serviceOf(resource) ?? "-"}`,
        )
        .sort();
      expect(roles).toEqual([
        "alb aws:ec2/securityGroup:SecurityGroup: - -",
        "alb aws:lb/loadBalancer:LoadBalancer: - -",
        "notifications aws:sns/topic:Topic: - -",
        "records aws:s3/bucket:Bucket: - -",
        "records-encryption aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration: - -",
        "records-private aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock: - -",
        "records-versioning aws:s3/bucketVersioning:BucketVersioning: - -",
        "release-announce-send step:Notification: notification -",
        "release-complete-send step:Notification: notification -",
        "release-record-write step:Record: record -",
        "sample-app-backup-data step:Backup: backup sample-app",
        "sample-app-blue aws:ecs/service:Service: - -",
        "sample-app-blue-5xx-rate aws:cloudwatch/metricAlarm:MetricAlarm: - -",
        "sample-app-blue-p95-latency aws:cloudwatch/metricAlarm:MetricAlarm: - -",
        "sample-app-blue-task aws:ecs/taskDefinition:TaskDefinition: slot sample-app",
        "sample-app-gate-checks step:Gate: gate sample-app",
        "sample-app-green aws:ecs/service:Service: - -",
        "sample-app-green-5xx-rate aws:cloudwatch/metricAlarm:MetricAlarm: - -",
        "sample-app-green-p95-latency aws:cloudwatch/metricAlarm:MetricAlarm: - -",
        "sample-app-green-task aws:ecs/taskDefinition:TaskDefinition: slot sample-app",
        "sample-app-logs aws:cloudwatch/logGroup:LogGroup: - -",
        "sample-app-migrate step:Task: migration sample-app",
        "sample-app-migrate-task aws:ecs/taskDefinition:TaskDefinition: - sample-app",
        "sample-app-production-ingress aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule: - -",
        "sample-app-production-listener aws:lb/listener:Listener: - -",
        "sample-app-production-rule aws:lb/listenerRule:ListenerRule: - -",
        "sample-app-switch-route step:Switch: switch sample-app",
        "sample-app-tasks-ingress aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule: - -",
        "sample-app-test-ingress aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule: - -",
        "sample-app-test-listener aws:lb/listener:Listener: - -",
        "sample-app-test-rule aws:lb/listenerRule:ListenerRule: - -",
        "sample-app-tg-blue aws:lb/targetGroup:TargetGroup: - -",
        "sample-app-tg-green aws:lb/targetGroup:TargetGroup: - -",
        "sample-app-verify-bake step:Verification: verification sample-app",
        "tasks aws:ec2/securityGroup:SecurityGroup: - -",
      ]);
    });

    it("passes the approved second release: snapshot, migration task, new colour, gate, weights, bake", async () => {
      expect(await evaluatePack(pack, await goodRelease(), policyConfig)).toEqual([]);
    });

    it("stops a switch of the weights that does not wait for the gate", async () => {
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

    it("stops a migration task that does not wait for the snapshot", async () => {
      const unsafe = withoutDependency(
        await goodRelease(),
        ["sample-app-migrate", "sample-app-migrate-task"],
        "sample-app-backup-data",
      );
      expect(await evaluatePack(pack, unsafe, policyConfig)).toEqual([
        backupFirst("migration", "sample-app-migrate"),
      ]);
    });

    it("stops a colour's task definition whose image is not pinned by digest", async () => {
      const tagged = `${repository}:1.1.0`;
      expect(
        await evaluatePack(
          pack,
          withImage(await goodRelease(), "sample-app-green-task", tagged),
          policyConfig,
        ),
      ).toEqual([
        mandatory(
          "artifacts-immutable",
          "sample-app-green-task",
          `Deploy sample-app-green-task from an artifact pinned by a sha256 digest and a fixed version (it names digest "${tagged}", version "1.1.0").`,
        ),
      ]);
    });

    it("stops an unprotected snapshot step in production", async () => {
      const unprotected = (await goodRelease()).map((resource) =>
        resource.name === "sample-app-backup-data" ? { ...resource, protect: false } : resource,
      );
      expect(await evaluatePack(pack, unprotected, policyConfig)).toEqual([
        mandatory(
          "stateful-resources-protected",
          "sample-app-backup-data",
          "Protect backup sample-app-backup-data on stack production: set protect: true so a destroy or rename cannot delete the data it holds.",
        ),
      ]);
    });

    it("stops gate and bake thresholds below the production bounds", async () => {
      const loose = {
        gate: { consecutiveSuccesses: 1, failureThreshold: 3, intervalMs: 2000, timeoutMs: 120000 },
        verification: { bakeTimeMs: 60000, intervalMs: 1000, maxErrorRate: 0.01, maxP95LatencyMs: 500 },
      };
      const { resources, error } = await runProgram(productionConfig(release(), "loose", loose), {
        stack,
        awsReader: blueLive,
      });
      expect(error).toBeUndefined();
      expect(await evaluatePack(pack, resources, policyConfig)).toEqual([
        mandatory(
          "gate-thresholds-within-bounds",
          "sample-app-gate-checks",
          "Raise consecutiveSuccesses of gate sample-app-gate-checks to at least 3 (it is 1), in shipgate:services.<service>.gate of the stack's config.",
        ),
        mandatory(
          "gate-thresholds-within-bounds",
          "sample-app-verify-bake",
          "Raise bakeTimeMs of verification sample-app-verify-bake to at least 300000 (it is 60000), in shipgate:services.<service>.verification of the stack's config.",
        ),
      ]);
    });

    it("stops a release whose stack marks the service stateless: nothing is snapshotted before it changes", async () => {
      // Without its migration: the program itself refuses to migrate a service it does not back up.
      const manifest = exampleManifest("releases/production/sample-app-1.1.0.yaml");
      const { database: _migrations, ...component } = defined(manifest.components[0], "the component");
      const unmigrated = approve({ ...manifest, components: [component] }, [tara, bea, sue, carl]);
      const config = productionConfig(unmigrated, "stateless", { stateful: false });
      const { resources, error } = await runProgram(config, { stack, awsReader: blueLive });
      expect(error).toBeUndefined();
      expect(sorted(await evaluatePack(pack, resources, policyConfig))).toEqual([
        backupFirst("slot", "sample-app-blue-task"),
        backupFirst("slot", "sample-app-green-task"),
      ]);
    });
  },
);
