// What a release leaves to read: the deployment record as a ConfigMap, and each notification as an
// event ConfigMap (`kubectl get configmap -l shipgate.dev/kind=notification`) plus, when the stack
// names a webhook, a runner Job posting it there (a failed post never fails the Job).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Platform, PlatformStep, RecordStep, StepOptions } from "../../../components/platform";
import type { NotificationEvent } from "../../../contract";
import { labelValue, type KubernetesContext } from "../context";
import { runnerJob } from "../jobs";
import { annotations, kubeName } from "../labels";

export function record(
  context: KubernetesContext,
  name: string,
  args: Parameters<Platform["record"]>[1],
  opts: StepOptions,
): RecordStep {
  const recordName = kubeName("shipgate-record", args.release.changeId, args.release.version);
  const configMap = new k8s.core.v1.ConfigMap(
    name,
    {
      metadata: {
        name: recordName,
        namespace: context.namespace,
        labels: { "app.kubernetes.io/managed-by": "shipgate", "shipgate.dev/kind": "deployment-record" },
        annotations: { [annotations.release]: args.release.key },
      },
      data: { "record.json": pulumi.jsonStringify(args.record) },
    },
    context.opts(opts),
  );
  return { resource: configMap, location: pulumi.output(`configmap/${context.namespace}/${recordName}`) };
}

export function notification(
  context: KubernetesContext,
  name: string,
  args: Parameters<Platform["notification"]>[1],
  opts: StepOptions,
): PlatformStep {
  const { release, event } = args;
  // No time here: the event is a resource, sent again only when it changes; the runner stamps it.
  const payload: Omit<NotificationEvent, "at"> = {
    ...event,
    release: { changeId: release.changeId, version: release.version },
  };
  const configMap = new k8s.core.v1.ConfigMap(
    name,
    {
      metadata: {
        name: kubeName("shipgate-event", release.changeId, release.version, event.stage),
        namespace: context.namespace,
        labels: {
          "app.kubernetes.io/managed-by": "shipgate",
          "shipgate.dev/kind": "notification",
          "shipgate.dev/stage": labelValue(event.stage),
        },
        annotations: { [annotations.release]: release.key },
      },
      data: { "event.json": JSON.stringify(payload) },
    },
    context.opts(opts),
  );
  if (!context.args.webhookUrl) return { resource: configMap };
  const job = runnerJob(
    context,
    `${name}-webhook`,
    {
      service: null,
      task: "notify",
      release,
      settings: payload,
      deadlineSeconds: 120,
    },
    opts,
    [configMap],
  );
  return { resource: job };
}
