// A colour of a service: a Deployment pinned by image digest, carrying its slot spec as an
// annotation so observe() can re-declare it unchanged at the next release.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Color, SlotSecrets, SlotSpec, SlotStep, StepOptions } from "../../../components/platform";
import { labelValue, seconds, type KubernetesContext } from "../context";
import { annotations, colorLabel, colorSelector, objectNames, serviceLabels } from "../labels";

export function slot(
  context: KubernetesContext,
  name: string,
  args: { service: string; color: Color; spec: SlotSpec; secrets?: SlotSecrets },
  opts: StepOptions,
): SlotStep {
  const { service, color, spec } = args;
  const secretVariables = Object.keys(spec.secretEnv ?? {}).sort();
  if (secretVariables.length > 0 && context.args.config.renderYamlToDirectory) {
    // The provider writes rendered manifests as plain YAML, a Secret's data included.
    throw new Error(
      `${service} gets ${secretVariables.join(", ")} from stack secrets, and shipgate:kubernetes.renderYamlToDirectory ` +
        `would write their values in plaintext into ${context.args.config.renderYamlToDirectory}. Nothing was changed; ` +
        `unset renderYamlToDirectory to apply to a cluster, or release a manifest that names no secret.`,
    );
  }
  const settings = context.settings(service);
  const kube = context.kube(service);
  const names = objectNames(service);
  const labels = {
    ...serviceLabels(service, "server"),
    "app.kubernetes.io/instance": names.deployment(color),
    "app.kubernetes.io/version": labelValue(spec.version),
    [colorLabel]: color,
  };
  const dataClaim = kube.backup?.kind === "volumeSnapshot" ? kube.backup.claim : undefined;
  // Secret values go into a Secret of the colour's own (its data a Pulumi secret, so state holds
  // ciphertext), which the container reads by secretKeyRef: never a ConfigMap, an annotation or the
  // Deployment. A variable without a value (a kept colour whose secret was rotated) fails the
  // declaration rather than run the build with another value.
  const secret =
    secretVariables.length > 0
      ? new k8s.core.v1.Secret(
          `${name}-secret-env`,
          {
            metadata: { name: names.secretEnv(color), namespace: context.namespace, labels },
            type: "Opaque",
            stringData: pulumi.secret(
              pulumi.output(args.secrets ?? {}).apply((values) =>
                Object.fromEntries(
                  secretVariables.map((variable) => {
                    const value = values[variable];
                    if (value === undefined) {
                      throw new Error(
                        `the ${color} colour of ${service} (${spec.version}) runs with a value of ${variable} that the ` +
                          `stack's secrets no longer hold (rotated since it was released); release the current manifest`,
                      );
                    }
                    return [variable, value];
                  }),
                ),
              ),
            ),
          },
          context.opts(opts),
        )
      : undefined;
  const deployment = new k8s.apps.v1.Deployment(
    name,
    {
      metadata: {
        name: names.deployment(color),
        namespace: context.namespace,
        labels,
        annotations: { [annotations.slotSpec]: JSON.stringify(spec) },
      },
      spec: {
        replicas: kube.replicas,
        selector: { matchLabels: colorSelector(service, color) },
        template: {
          metadata: {
            labels,
            ...(secretVariables.length > 0
              ? { annotations: { [annotations.secretEnv]: JSON.stringify(spec.secretEnv) } }
              : {}),
          },
          spec: {
            ...context.podScheduling(),
            containers: [
              {
                name: service,
                image: `${spec.artifact.source}@${spec.artifact.digest}`,
                ...(kube.command ? { command: kube.command } : {}),
                ...(kube.args ? { args: kube.args } : {}),
                ports: [{ name: "http", containerPort: kube.containerPort }],
                env: [
                  ...Object.keys(spec.env)
                    .sort()
                    .map((key) => ({ name: key, value: spec.env[key] as string })),
                  ...(secret
                    ? secretVariables.map((variable) => ({
                        name: variable,
                        valueFrom: { secretKeyRef: { name: secret.metadata.name, key: variable } },
                      }))
                    : []),
                  { name: "SHIPGATE_COLOR", value: color },
                  { name: "SHIPGATE_VERSION", value: spec.version },
                  ...(dataClaim ? [{ name: "DATA_DIR", value: "/data" }] : []),
                ],
                resources: kube.resources,
                // Ready means the process accepts connections, so no Service sends a request to
                // a pod still starting. Whether the build is healthy is the gate's judgement (the
                // contract's, in the gate Job), not the kubelet's: a readiness probe on healthPath
                // would keep a broken build from ever being Ready, and the provider's rollout wait
                // would then fail the release minutes later with a timeout instead of the gate's
                // reason. Users stay on the previous colour either way; the gate says why.
                readinessProbe: {
                  tcpSocket: { port: "http" },
                  periodSeconds: seconds(settings.gate.intervalMs),
                  timeoutSeconds: seconds(settings.maxLatencyMs),
                  failureThreshold: settings.gate.failureThreshold,
                },
                ...(dataClaim ? { volumeMounts: [{ name: "data", mountPath: "/data" }] } : {}),
              },
            ],
            ...(dataClaim
              ? { volumes: [{ name: "data", persistentVolumeClaim: { claimName: dataClaim } }] }
              : {}),
          },
        },
      },
    },
    context.opts(opts),
  );
  // Every colour is reached for gates through the preview Service, which the gate points at it.
  return { resource: deployment, url: context.serviceUrl(names.previewService, service) };
}
