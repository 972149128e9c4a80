// The two kinds of Job a release runs: the runner (gate, verification, notification), whose bundle
// the stack ships in a ConfigMap, and a release's own image (backup dump, restore, migration) with a
// claim mounted. The provider awaits each Job until it completes; a failed Job fails the update.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ReleaseRef, StepOptions } from "../../components/platform";
import type { KubernetesContext } from "./context";
import { annotations, serviceLabels } from "./labels";

const runnerResources = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "250m", memory: "128Mi" },
};
const serviceAccountCa = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

export interface RunnerJobArgs {
  readonly service: string | null;
  readonly task: "gate" | "verify" | "notify";
  readonly release: ReleaseRef;
  /** $SHIPGATE_TASK: the task's settings, in the runner's task schema. */
  readonly settings: Record<string, unknown>;
  readonly deadlineSeconds: number;
  readonly serviceAccount?: string;
  /** Mounted at /shipgate-failure: what a failed gate or verification records (runner FAILURE_FILE). */
  readonly failureContext?: k8s.core.v1.ConfigMap;
}

/** A Job of the runner bundle, awaited by the provider until it completes. */
export function runnerJob(
  context: KubernetesContext,
  name: string,
  args: RunnerJobArgs,
  opts: StepOptions,
  after: pulumi.Resource[] = [],
): k8s.batch.v1.Job {
  const { runner, webhook } = context.resources();
  const labels = {
    ...(args.service
      ? serviceLabels(args.service, args.task)
      : { "app.kubernetes.io/managed-by": "shipgate" }),
    "app.kubernetes.io/name": args.service ?? "shipgate-runner",
  };
  const marks = {
    [annotations.release]: args.release.key,
    ...(args.service ? context.rollbackMark(args.service) : {}),
  };
  return new k8s.batch.v1.Job(
    name,
    {
      metadata: { namespace: context.namespace, labels, annotations: marks },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: args.deadlineSeconds,
        template: {
          metadata: { labels, annotations: marks },
          spec: {
            ...context.podScheduling(),
            restartPolicy: "Never",
            ...(args.serviceAccount ? { serviceAccountName: args.serviceAccount } : {}),
            containers: [
              {
                name: args.task,
                image: context.args.config.runnerImage,
                command: ["node", "/shipgate/runner.mjs", args.task],
                env: [
                  { name: "SHIPGATE_TASK", value: pulumi.jsonStringify(args.settings) },
                  ...(args.serviceAccount ? [{ name: "NODE_EXTRA_CA_CERTS", value: serviceAccountCa }] : []),
                  ...(webhook
                    ? [
                        {
                          name: "SHIPGATE_WEBHOOK_URL",
                          valueFrom: { secretKeyRef: { name: webhook.metadata.name, key: "url" } },
                        },
                      ]
                    : []),
                ],
                resources: runnerResources,
                volumeMounts: [
                  { name: "runner", mountPath: "/shipgate", readOnly: true },
                  ...(args.failureContext
                    ? [{ name: "failure", mountPath: "/shipgate-failure", readOnly: true }]
                    : []),
                ],
              },
            ],
            volumes: [
              { name: "runner", configMap: { name: runner.metadata.name } },
              ...(args.failureContext
                ? [{ name: "failure", configMap: { name: args.failureContext.metadata.name } }]
                : []),
            ],
          },
        },
      },
    },
    context.opts(opts, [runner, ...after]),
  );
}

export interface ImageJobArgs {
  readonly service: string;
  readonly component: string;
  readonly release?: ReleaseRef;
  readonly image: string;
  readonly command: string[];
  readonly env?: Record<string, pulumi.Input<string>>;
  readonly claim?: string;
  readonly mountPath?: string;
  readonly envFromSecret?: string;
  readonly marks?: Record<string, string>;
}

/** A Job of a release's own image (backup dump, restore, migration), with a claim mounted. */
export function imageJob(
  context: KubernetesContext,
  name: string,
  args: ImageJobArgs,
  opts: StepOptions,
): k8s.batch.v1.Job {
  const labels = serviceLabels(args.service, args.component);
  const marks = { ...(args.release ? { [annotations.release]: args.release.key } : {}), ...args.marks };
  const mountPath = args.mountPath ?? "/backups";
  return new k8s.batch.v1.Job(
    name,
    {
      metadata: { namespace: context.namespace, labels, annotations: marks },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels, annotations: marks },
          spec: {
            ...context.podScheduling(),
            restartPolicy: "Never",
            containers: [
              {
                name: args.component,
                image: args.image,
                command: args.command,
                env: Object.entries(args.env ?? {}).map(([key, value]) => ({ name: key, value })),
                ...(args.envFromSecret ? { envFrom: [{ secretRef: { name: args.envFromSecret } }] } : {}),
                ...(args.claim ? { volumeMounts: [{ name: "claim", mountPath }] } : {}),
              },
            ],
            ...(args.claim
              ? { volumes: [{ name: "claim", persistentVolumeClaim: { claimName: args.claim } }] }
              : {}),
          },
        },
      },
    },
    context.opts(opts),
  );
}
