// Names, labels and annotations of the kubernetes platform's objects: one home, so the objects the
// program declares, what observe() reads back and what the in-cluster runner patches agree.
import type { Color } from "../../components/platform";

/** The colour label: the active and preview Services select a colour by it. */
export const colorLabel = "shipgate.dev/color";

export const annotations = {
  /** On each colour's Deployment: the build it runs (JSON SlotSpec), read back by observe(). */
  slotSpec: "shipgate.dev/slot-spec",
  /**
   * On each colour's pod template: the fingerprints of its secret variables (never their values), so
   * a rotated secret rolls the pods, which read a Secret's value only when they start.
   */
  secretEnv: "shipgate.dev/secret-env",
  /** On the active Service: how long the previous colour stays warm after the switch, in minutes. */
  warmWindowMinutes: "shipgate.dev/warm-window-minutes",
  /** On each object a release step creates: the release it belongs to (`<changeId>@<version>`). */
  release: "shipgate.dev/release",
  /** On the active Service: the colour live before the switch. */
  previousColor: "shipgate.dev/previous-color",
  /** On the active Service: when a failed verification switched traffic back (written by the Job). */
  rolledBackAt: "shipgate.dev/rolled-back-at",
  /** On the active Service: the rollback trigger that fired (written by the Job). */
  rollbackTrigger: "shipgate.dev/rollback-trigger",
} as const;

export function objectNames(service: string) {
  return {
    activeService: service,
    previewService: `${service}-preview`,
    deployment: (color: Color) => `${service}-${color}`,
    /** The Secret holding a colour's secret variables (one per colour: each keeps what its build was released with). */
    secretEnv: (color: Color) => `${service}-${color}-secret-env`,
    runnerScript: `${service}-shipgate-runner`,
    serviceAccount: `${service}-shipgate`,
  };
}

/** The `app.kubernetes.io/*` labels every object of a service carries. */
export function serviceLabels(service: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": service,
    "app.kubernetes.io/part-of": service,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "shipgate",
  };
}

/** The selector of one colour's pods: the only labels a Deployment's (immutable) selector uses. */
export function colorSelector(service: string, color: Color): Record<string, string> {
  return { "app.kubernetes.io/name": service, [colorLabel]: color };
}

/** A Kubernetes object name from free text (release keys, backup ids): lowercase, [-a-z0-9], ≤ 63. */
export function kubeName(...parts: string[]): string {
  const name = parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  return name.slice(0, 63).replace(/-$/, "");
}
