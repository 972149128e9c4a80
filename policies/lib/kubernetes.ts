// The kubernetes platform's objects, read the way the quality gates read a step: which step an object
// is (its type and `app.kubernetes.io/component` label, both set by platforms/kubernetes), and the
// platform interface's inputs it carries in its labels, annotations, containers and runner task.
// Only plain values are read: labels, names, images and the task JSON are all known at preview.
import type { ReleaseRole } from "./roles";

/** The label that names a kubernetes object's part in a service (app.kubernetes.io recommended labels). */
export const COMPONENT_LABEL = "app.kubernetes.io/component";
/** The label that names the service an object belongs to. */
export const SERVICE_LABEL = "app.kubernetes.io/part-of";
/** The colour label of a Deployment's pods and of the Services' selectors. */
export const COLOR_LABEL = "shipgate.dev/color";
/** The annotation on the active Service with the warm window of its switch, in minutes. */
const WARM_WINDOW_ANNOTATION = "shipgate.dev/warm-window-minutes";
/** The annotation on each colour's Deployment with the build it runs (the approved SlotSpec, JSON). */
export const SLOT_SPEC_ANNOTATION = "shipgate.dev/slot-spec";
/** The runner Job's task settings (gate, verify, notify), JSON in the container's environment. */
const TASK_ENV = "SHIPGATE_TASK";
const WEBHOOK_ENV = "SHIPGATE_WEBHOOK_URL";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const JOB = "kubernetes:batch/v1:Job";
const VOLUME_SNAPSHOT = "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshot";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

/**
 * Roles of the kubernetes platform's objects, by type and component label. `null` marks an object a
 * step creates that plays no role of its own (the gate's preview Service is its target, not a gate;
 * a gate's or verification's failure context is what its Job records on failure, not a gate).
 */
export const KUBERNETES_ROLES: Readonly<Record<string, Readonly<Record<string, ReleaseRole | null>>>> = {
  [DEPLOYMENT]: { server: "slot" },
  [SERVICE]: { server: "switch", preview: null },
  [JOB]: {
    backup: "backup",
    restore: "restore",
    migration: "migration",
    gate: "gate",
    verify: "verification",
  },
  [VOLUME_SNAPSHOT]: { backup: "backup" },
  [CONFIG_MAP]: { "failure-context": null },
};

type Props = Record<string, unknown>;

function record(value: unknown): Props | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function parseJson(value: unknown): Props | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return record(JSON.parse(value));
  } catch {
    return undefined;
  }
}

export function isKubernetesType(type: string): boolean {
  return type.startsWith("kubernetes:");
}

function labels(props: Props): Props {
  return record(record(props["metadata"])?.["labels"]) ?? {};
}

/**
 * The role a kubernetes object's component label gives it: a role, `null` for an object that plays
 * none, or undefined when the label does not say (the object's parent component decides).
 */
export function kubernetesRole(type: string, props: Props): ReleaseRole | null | undefined {
  const component = text(labels(props)[COMPONENT_LABEL]);
  const byComponent = KUBERNETES_ROLES[type];
  if (component === undefined || byComponent === undefined || !(component in byComponent)) return undefined;
  return byComponent[component];
}

/** The containers of a Job's or Deployment's pod template. */
function containers(props: Props): Props[] {
  const pod = record(record(record(props["spec"])?.["template"])?.["spec"]);
  return list(pod?.["containers"])
    .map(record)
    .filter((container): container is Props => container !== undefined);
}

function env(container: Props): Map<string, unknown> {
  const entries = list(container["env"])
    .map(record)
    .filter((entry): entry is Props => entry !== undefined);
  return new Map(entries.map((entry) => [String(entry["name"]), entry["value"]]));
}

const PINNED_IMAGE = /^(?<source>[^\s@]+)@(?<digest>sha256:[0-9a-f]{64})$/;

/**
 * The digest the pod runs: the digest of its images when every container is pinned by one, otherwise
 * the first image that is not (a tag moves after approval), so a violation names it.
 */
function runningArtifact(props: Props): { source?: string; digest?: string } {
  const images = containers(props).map((container) => text(container["image"]) ?? "");
  const unpinned = images.find((image) => !PINNED_IMAGE.test(image));
  if (unpinned !== undefined) return { digest: unpinned };
  const groups = PINNED_IMAGE.exec(images[0] ?? "")?.groups;
  return groups ? { source: groups["source"] as string, digest: groups["digest"] as string } : {};
}

/** The runner task a gate, verification or notification Job runs with. */
function runnerTask(props: Props): Props | undefined {
  for (const container of containers(props)) {
    const task = parseJson(env(container).get(TASK_ENV));
    if (task) return task;
  }
  return undefined;
}

/**
 * A kubernetes object's step inputs under the platform interface's names: `service` (part-of label),
 * a slot's `color` and `spec` (the slot-spec annotation, with the digest its containers run), a
 * switch's `color` (its selector), a gate Job's `policy`, `checks` and `digest`, a verification Job's
 * `spec`, `checks`, `promoted` and `rollbackTo` (its runner task), a migration Job's `migrations`
 * and `digest` (its image), and `channel: "webhook"` on a notification Job that posts to one.
 */
export function kubernetesStepInputs(type: string, props: Props): Props {
  const inputs: Props = {};
  const objectLabels = labels(props);
  const service = text(objectLabels[SERVICE_LABEL]);
  if (service !== undefined) inputs["service"] = service;
  const component = text(objectLabels[COMPONENT_LABEL]);
  if (type === DEPLOYMENT) {
    const approved = parseJson(record(record(props["metadata"])?.["annotations"])?.[SLOT_SPEC_ANNOTATION]);
    inputs["color"] = objectLabels[COLOR_LABEL];
    inputs["spec"] = {
      ...approved,
      artifact: { ...record(approved?.["artifact"]), ...runningArtifact(props) },
    };
  } else if (type === SERVICE) {
    inputs["color"] = record(record(props["spec"])?.["selector"])?.[COLOR_LABEL];
    const warm = Number(record(record(props["metadata"])?.["annotations"])?.[WARM_WINDOW_ANNOTATION]);
    if (Number.isFinite(warm)) inputs["warmWindowMinutes"] = warm;
  } else if (type === JOB) {
    const task = runnerTask(props);
    if (component === "gate" && task) {
      Object.assign(inputs, { policy: task["policy"], checks: task["checks"], digest: task["digest"] });
    } else if (component === "verify" && task) {
      const { spec, fastTrack, checks, promoted, rollbackTo } = task;
      Object.assign(inputs, { spec, fastTrack, checks, promoted, rollbackTo });
    } else if (component === "migration") {
      const migrations = text(containers(props).map(env)[0]?.get("MIGRATIONS"));
      inputs["migrations"] = migrations === undefined || migrations === "" ? [] : migrations.split(",");
      inputs["digest"] = runningArtifact(props).digest;
    }
    if (containers(props).some((container) => env(container).has(WEBHOOK_ENV))) inputs["channel"] = "webhook";
  }
  return inputs;
}
