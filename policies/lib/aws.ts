// The aws platform's resources, read the way the quality gates read a step. Its steps that are API
// calls are shipgate dynamic resources whose inputs already carry the platform interface's names; its
// declared infrastructure is @pulumi/aws, where a colour's task definition is the slot (its container
// label carries the approved slot spec, its image the digest that really runs) and the ECS service
// that runs it plays no role of its own. Only plain values are read: tags, labels and images are all
// known at preview.
import type { ReleaseRole } from "./roles";

/** The container label with the build a colour runs (the approved SlotSpec, JSON), set by platforms/aws. */
export const AWS_SLOT_SPEC_LABEL = "shipgate.slot-spec";
const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
const ECS_SERVICE = "aws:ecs/service:Service";
const AWS_STEP = "pulumi-nodejs:dynamic/shipgate/aws:";

/** Roles of the aws platform's dynamic steps; `null` marks a step with no role of its own. */
export const AWS_STEP_ROLES: Readonly<Record<string, ReleaseRole | null>> = {
  Gate: "gate",
  Switch: "switch",
  Verification: "verification",
  Backup: "backup",
  Task: "migration",
  Maintenance: "maintenance",
  Record: "record",
  Notification: "notification",
  // Scales a colour back up after a maintenance window: part of that colour's slot.
  Scale: null,
};

type Props = Record<string, unknown>;

function record(value: unknown): Props | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function containers(props: Props): Props[] {
  const raw = props["containerDefinitions"];
  if (typeof raw !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.map(record).filter((c): c is Props => c !== undefined) : [];
  } catch {
    return [];
  }
}

function slotSpec(props: Props): Props | undefined {
  for (const container of containers(props)) {
    const label = text(record(container["dockerLabels"])?.[AWS_SLOT_SPEC_LABEL]);
    if (label === undefined) continue;
    try {
      return record(JSON.parse(label));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function isAwsType(type: string): boolean {
  return type.startsWith("aws:") || type.startsWith(AWS_STEP);
}

/**
 * The role of an aws resource: a dynamic step's by its kind, a task definition carrying a slot spec
 * is a slot, other task definitions (a migration's) and the ECS services play none themselves;
 * undefined for anything else (the router's objects).
 */
export function awsRole(type: string, props: Props): ReleaseRole | null | undefined {
  if (type.startsWith(AWS_STEP)) return AWS_STEP_ROLES[type.slice(AWS_STEP.length)];
  if (type === TASK_DEFINITION) return slotSpec(props) ? "slot" : null;
  if (type === ECS_SERVICE) return null;
  return undefined;
}

const PINNED_IMAGE = /^(?<source>[^\s@]+)@(?<digest>sha256:[0-9a-f]{64})$/;

/**
 * An aws resource's step inputs under the platform interface's names. A slot's task definition gives
 * `service` and `color` (its tags) and `spec`, the approved slot spec with the digest its containers
 * really run (the first image not pinned by a digest, so a violation names it); the dynamic steps
 * carry theirs as inputs already.
 */
export function awsStepInputs(type: string, props: Props): Props {
  if (type !== TASK_DEFINITION) return {};
  const tags = record(props["tags"]) ?? {};
  const spec = slotSpec(props);
  if (!spec) return { service: tags["shipgate:service"] };
  const images = containers(props).map((container) => text(container["image"]) ?? "");
  const unpinned = images.find((image) => !PINNED_IMAGE.test(image));
  const groups = PINNED_IMAGE.exec(images[0] ?? "")?.groups;
  const running =
    unpinned !== undefined
      ? { digest: unpinned }
      : groups
        ? { source: groups["source"], digest: groups["digest"] }
        : {};
  return {
    service: tags["shipgate:service"],
    color: tags["shipgate:color"],
    spec: { ...spec, artifact: { ...record(spec["artifact"]), ...running } },
  };
}
