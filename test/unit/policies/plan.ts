// A release plan as a resource graph, shaped like the one the program registers (see
// program-harness.test.ts), with switches to break it the ways the quality gates must catch.
import type { Manifest } from "../../../release";
import { evidence, exampleManifest } from "./fixtures";
import type { GraphNode } from "./harness";

const local = (kind: string) => `pulumi-nodejs:dynamic/shipgate/local:${kind}`;
export const DIGEST = `sha256:${"ab".repeat(32)}`;
export const gatePolicy = { consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 200, timeoutMs: 15000 };
export const verificationSpec = {
  bakeTimeMs: 8000,
  intervalMs: 100,
  maxErrorRate: 0.01,
  maxP95LatencyMs: 500,
};
export const checks = [
  { name: "health", kind: "technical", path: "/health", expect: { status: 200 } },
  { name: "items", kind: "business", path: "/items", expect: { status: 200 } },
];

export interface PlanOptions {
  readonly manifest?: Manifest;
  readonly backup?: boolean;
  readonly gate?: boolean;
  readonly verification?: boolean;
  /** Migration ids the plan runs (none by default). */
  readonly migrations?: readonly string[];
  readonly maintenance?: boolean;
  /** The colour verification rolls back to (null on a first release). */
  readonly rollbackTo?: string | null;
  /** Whether the previous colour's slot stays declared. */
  readonly keepPrevious?: boolean;
  readonly switchProps?: Record<string, unknown>;
  readonly notificationProps?: Record<string, unknown>;
}

/** The sample app's release: anchor, notice, backup, router, [maintenance, migration], slots, gate, switch, verification. */
export function releasePlan(options: PlanOptions = {}): GraphNode[] {
  const service = "sample-app";
  const manifest = options.manifest ?? exampleManifest("releases/sample-app/v2.yaml");
  const anchor = evidence(manifest);
  const nodes: GraphNode[] = [
    { type: "pulumi:pulumi:Stack", name: "shipgate-local" },
    { type: "shipgate:release:Release", name: "release", parent: "shipgate-local" },
    { type: "shipgate:release:ReleaseAnchor", name: "release-anchor", parent: "release" },
    { ...anchor, parent: "release-anchor" },
    { type: "shipgate:notify:Notification", name: "release-announce", parent: "release" },
    {
      type: local("Notification"),
      name: "release-announce-send",
      parent: "release-announce",
      props: { webhookUrl: null, logFile: ".shipgate/x/notifications.jsonl", ...options.notificationProps },
      dependencies: ["release-anchor-evidence"],
    },
  ];
  const before = ["release-anchor-evidence", "release-announce-send"];
  if (options.backup !== false) {
    nodes.push(
      { type: "shipgate:backup:Backup", name: `${service}-backup`, parent: "release" },
      {
        type: local("Backup"),
        name: `${service}-backup-data`,
        parent: `${service}-backup`,
        props: { service, backupId: "CHG-101-2.0.0" },
        dependencies: [...before],
      },
    );
    before.push(`${service}-backup-data`);
  }
  nodes.push(
    { type: "shipgate:deploy:BlueGreenService", name: service, parent: "release" },
    {
      type: local("Router"),
      name: `${service}-router`,
      parent: service,
      props: { service },
      dependencies: before,
    },
  );
  const slotDeps = [...before, `${service}-router`];
  if (options.maintenance) {
    nodes.push({
      type: local("Maintenance"),
      name: `${service}-maintenance`,
      parent: service,
      props: { service },
      dependencies: [...before],
    });
    slotDeps.push(`${service}-maintenance`);
  }
  if (options.migrations?.length) {
    nodes.push({
      type: local("Migration"),
      name: `${service}-migrate`,
      parent: service,
      props: { service, migrations: [...options.migrations], digest: DIGEST },
      dependencies: [...slotDeps],
    });
    slotDeps.push(`${service}-migrate`);
  }
  const spec = {
    version: "2.0.0",
    artifact: { source: ".shipgate/artifacts/sample-app", version: "2.0.0", digest: DIGEST },
    env: {},
  };
  if (options.keepPrevious !== false && options.rollbackTo) {
    nodes.push({
      type: local("Slot"),
      name: `${service}-${options.rollbackTo}`,
      parent: service,
      props: {
        service,
        color: options.rollbackTo,
        spec: { ...spec, version: "1.0.0", artifact: { ...spec.artifact, version: "1.0.0" } },
      },
      dependencies: [...before],
    });
  }
  nodes.push({
    type: local("Slot"),
    name: `${service}-blue`,
    parent: service,
    props: { service, color: "blue", spec },
    dependencies: slotDeps,
  });
  let beforeSwitch = `${service}-blue`;
  if (options.gate !== false) {
    nodes.push(
      { type: "shipgate:gate:HealthGate", name: `${service}-gate`, parent: "release" },
      {
        type: local("Gate"),
        name: `${service}-gate-checks`,
        parent: `${service}-gate`,
        props: { service, digest: DIGEST, policy: gatePolicy, checks },
        dependencies: [`${service}-blue`],
      },
    );
    beforeSwitch = `${service}-gate-checks`;
  }
  nodes.push(
    { type: "shipgate:traffic:TrafficSwitch", name: `${service}-switch`, parent: "release" },
    {
      type: local("Switch"),
      name: `${service}-switch-route`,
      parent: `${service}-switch`,
      props: { service, color: "blue", ...options.switchProps },
      dependencies: [beforeSwitch],
    },
  );
  if (options.verification !== false) {
    nodes.push(
      { type: "shipgate:verify:PostPromotionVerification", name: `${service}-verify`, parent: "release" },
      {
        type: local("Verification"),
        name: `${service}-verify-bake`,
        parent: `${service}-verify`,
        props: {
          service,
          promoted: "blue",
          rollbackTo: options.rollbackTo ?? null,
          spec: verificationSpec,
          checks,
        },
        dependencies: [`${service}-switch-route`],
      },
    );
  }
  return nodes;
}
