// What part of a release a resource plays, independent of the platform that implements it. Quality
// gates match resources by role, so a platform adds its type tokens here (or, for kubernetes objects,
// in lib/kubernetes.ts by component label, and for aws resources in lib/aws.ts) and every gate
// applies to it.
import type { PolicyResource } from "@pulumi/policy";
import { awsRole, awsStepInputs, isAwsType } from "./aws";
import { isKubernetesType, kubernetesRole, kubernetesStepInputs } from "./kubernetes";

export const RELEASE_ROLES = [
  "evidence",
  "backup",
  "restore",
  "migration",
  "maintenance",
  "slot",
  "gate",
  "switch",
  "verification",
  "record",
  "notification",
] as const;
export type ReleaseRole = (typeof RELEASE_ROLES)[number];

/** Type token of the release anchor's evidence, which the approval gates validate. */
export const evidenceType = "pulumi-nodejs:dynamic/shipgate/release:Evidence";

const localType = (kind: string) => `pulumi-nodejs:dynamic/shipgate/local:${kind}`;

/**
 * Custom resource types per role. The local platform's tokens are listed; a platform whose step
 * resources are not listed is still matched through the component that parents them (below).
 */
export const ROLE_TYPES: Readonly<Record<ReleaseRole, readonly string[]>> = {
  evidence: [evidenceType],
  backup: [localType("Backup")],
  restore: [localType("Restore")],
  migration: [localType("Migration")],
  maintenance: [localType("Maintenance")],
  slot: [localType("Slot")],
  gate: [localType("Gate")],
  switch: [localType("Switch")],
  verification: [localType("Verification")],
  record: [localType("Record")],
  notification: [localType("Notification")],
};

/** Step components whose custom children play one role, whatever platform created them. */
const COMPONENT_ROLES: Readonly<Record<string, ReleaseRole>> = {
  "shipgate:backup:Backup": "backup",
  "shipgate:gate:HealthGate": "gate",
  "shipgate:traffic:TrafficSwitch": "switch",
  "shipgate:verify:PostPromotionVerification": "verification",
  "shipgate:record:DeploymentRecord": "record",
  "shipgate:notify:Notification": "notification",
};

/** Types that are never release steps: the stack, providers and shipgate's components. */
function isStructural(type: string): boolean {
  return (
    type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:") || type.startsWith("shipgate:")
  );
}

/**
 * The role of a resource from its type; for a kubernetes object from its type and component label
 * (`KUBERNETES_ROLES`: a Deployment labelled `server` is a slot, a Job labelled `gate` a gate, the
 * gate's `preview` Service none); or else from its parent's type: a URN's qualified type is
 * `parentType$type`, so resource policies (which see a URN but no parent object) use the same rule.
 */
export function roleOf(
  type: string,
  urn: string,
  props: Record<string, unknown> = {},
): ReleaseRole | undefined {
  for (const role of RELEASE_ROLES) if (ROLE_TYPES[role].includes(type)) return role;
  if (isStructural(type)) return undefined;
  const labelled = isKubernetesType(type)
    ? kubernetesRole(type, props)
    : isAwsType(type)
      ? awsRole(type, props)
      : undefined;
  if (labelled !== undefined) return labelled ?? undefined;
  const qualified = urn.split("::")[2] ?? "";
  const chain = qualified.split("$");
  const parentType = chain.length >= 2 ? chain[chain.length - 2] : undefined;
  return parentType === undefined ? undefined : COMPONENT_ROLES[parentType];
}

export function resourcesWithRole(resources: readonly PolicyResource[], role: ReleaseRole): PolicyResource[] {
  return resources.filter((resource) => roleOf(resource.type, resource.urn, resource.props) === role);
}

interface Step {
  readonly type: string;
  readonly props: Record<string, unknown>;
}

/**
 * A step's inputs under the platform interface's names (`service`, `color`, `spec`, `policy`,
 * `checks`, `digest`, `rollbackTo`, `migrations`, ...): the local platform's steps take them as
 * inputs; a kubernetes object carries them in its labels, annotations, images and runner task.
 */
export function stepInputs(resource: Step): Record<string, unknown> {
  const carriedBy = isKubernetesType(resource.type)
    ? kubernetesStepInputs
    : isAwsType(resource.type)
      ? awsStepInputs
      : undefined;
  if (!carriedBy) return resource.props;
  const carried = Object.entries(carriedBy(resource.type, resource.props));
  return { ...resource.props, ...Object.fromEntries(carried.filter(([, value]) => value !== undefined)) };
}

/** The service a step resource belongs to (its `service` input), when it names one. */
export function serviceOf(resource: Step): string | undefined {
  const service = stepInputs(resource)["service"];
  return typeof service === "string" ? service : undefined;
}

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string {
  return urn.startsWith("urn:pulumi:") ? (urn.slice("urn:pulumi:".length).split("::")[0] ?? "") : "";
}
