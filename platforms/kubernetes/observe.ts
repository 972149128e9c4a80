// What the cluster runs now for a service, read at program time (previews included) with one
// synchronous `kubectl get`: the active Service's selector says which colour users reach, and each
// colour's Deployment carries the build it runs as an annotation. The cluster is the truth, so a
// switch back made by a failed verification Job is seen by the very next preview or update.
import { execFileSync } from "node:child_process";
import {
  colors,
  isSlotSpec,
  slotSpecOf,
  type Color,
  type ObservedService,
  type SlotSpec,
} from "../../components/platform";
import { annotations, colorLabel, objectNames } from "./labels";

export interface ObservedKubernetesService extends ObservedService {
  /**
   * When the last automatic switch back happened (the annotation the verification Job writes on the
   * active Service), or null. It is an input of the switch, the gate and the verification, so a
   * release run again after a switch back gates, switches and verifies again.
   */
  readonly rolledBackAt: string | null;
}

/** Reads a service's objects; returns the `kubectl get -o json` answer (a List). */
export type ClusterReader = (args: {
  namespace: string;
  kubeconfig?: string;
  context?: string;
  names: string[];
}) => unknown;

export const kubectlReader: ClusterReader = ({ namespace, kubeconfig, context, names }) => {
  const argv = [
    "get",
    ...names,
    "--namespace",
    namespace,
    "--ignore-not-found",
    "--output",
    "json",
    ...(kubeconfig ? ["--kubeconfig", kubeconfig] : []),
    ...(context ? ["--context", context] : []),
  ];
  let out: string;
  try {
    out = execFileSync("kubectl", argv, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(
      `observe: \`kubectl ${argv.join(" ")}\` failed${stderr ? `: ${stderr}` : ""}. shipgate reads which colour ` +
        `is live from the cluster before planning a release; check the kubeconfig (shipgate:kubernetes.kubeconfig, ` +
        `KUBECONFIG, shipgate:kubernetes.context) and that kubectl is on PATH.`,
      { cause: error },
    );
  }
  return out.trim() === "" ? { items: [] } : JSON.parse(out);
};

interface KubeObject {
  kind?: string;
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { selector?: Record<string, string> };
}

/** The observation in a `kubectl get -o json` answer for a service's active Service and Deployments. */
export function parseObservation(service: string, answer: unknown): ObservedKubernetesService {
  const items = ((answer as { items?: KubeObject[] } | undefined)?.items ?? []) as KubeObject[];
  const names = objectNames(service);
  const activeService = items.find((i) => i.kind === "Service" && i.metadata?.name === names.activeService);
  const selected = activeService?.spec?.selector?.[colorLabel];
  const active = selected === "blue" || selected === "green" ? (selected as Color) : null;
  const slots: Partial<Record<Color, SlotSpec>> = {};
  for (const color of colors) {
    const deployment = items.find(
      (i) => i.kind === "Deployment" && i.metadata?.name === names.deployment(color),
    );
    const raw = deployment?.metadata?.annotations?.[annotations.slotSpec];
    if (raw === undefined) continue;
    let spec: unknown;
    try {
      spec = JSON.parse(raw);
    } catch {
      continue;
    }
    if (isSlotSpec(spec)) slots[color] = slotSpecOf(spec);
  }
  return {
    active,
    slots,
    rolledBackAt: activeService?.metadata?.annotations?.[annotations.rolledBackAt] ?? null,
  };
}

export function observeKubernetesService(
  reader: ClusterReader,
  args: { namespace: string; kubeconfig?: string; context?: string; service: string },
): ObservedKubernetesService {
  const names = objectNames(args.service);
  const answer = reader({
    namespace: args.namespace,
    ...(args.kubeconfig ? { kubeconfig: args.kubeconfig } : {}),
    ...(args.context ? { context: args.context } : {}),
    names: [
      `service/${names.activeService}`,
      `deployment/${names.deployment("blue")}`,
      `deployment/${names.deployment("green")}`,
    ],
  });
  return parseObservation(args.service, answer);
}
