// Where users go: the active Service whose selector is the traffic switch, the preview Service the
// gate checks through, and the runner Jobs that gate and verify (the switch back is the verification
// Job's own patch of the active Service, with the authority the router step grants it).
import * as k8s from "@pulumi/kubernetes";
import type {
  Color,
  GateStep,
  Platform,
  ReleaseRef,
  RouterStep,
  StepOptions,
  SwitchStep,
  VerificationStep,
} from "../../../components/platform";
import { verificationPolicyFor } from "../../../contract";
import type { FailureTask, GateTask, VerifyTask } from "../runner/main";
import { seconds, type KubernetesContext } from "../context";
import { runnerJob } from "../jobs";
import { annotations, colorLabel, colorSelector, kubeName, objectNames, serviceLabels } from "../labels";

/**
 * The authority of the service's gate and verification Jobs: a ServiceAccount and a Role that may
 * only read and patch the active Service (the switch back) and create ConfigMaps (a failed release's
 * record, which the Job writes itself). The users' address is the active Service, which the traffic
 * switch declares.
 */
export function router(
  context: KubernetesContext,
  name: string,
  args: { service: string },
  opts: StepOptions,
): RouterStep {
  const names = objectNames(args.service);
  const labels = serviceLabels(args.service, "shipgate");
  const metadata = { name: names.serviceAccount, namespace: context.namespace, labels };
  const account = new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata }, context.opts(opts));
  const role = new k8s.rbac.v1.Role(
    `${name}-role`,
    {
      metadata,
      rules: [
        {
          apiGroups: [""],
          resources: ["services"],
          resourceNames: [names.activeService],
          verbs: ["get", "patch"],
        },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
      ],
    },
    context.opts(opts),
  );
  const binding = new k8s.rbac.v1.RoleBinding(
    `${name}-binding`,
    {
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.serviceAccount },
      subjects: [{ kind: "ServiceAccount", name: names.serviceAccount, namespace: context.namespace }],
    },
    context.opts(opts, [account, role]),
  );
  return { resource: binding, url: context.serviceUrl(names.activeService, args.service) };
}

/**
 * What a runner Job needs to record the release's failure, as a ConfigMap the Job mounts (updated in
 * place each run, so the Job's own spec, and whether it runs again, does not depend on it); none
 * outside a service's release.
 */
function failureContext(
  context: KubernetesContext,
  name: string,
  args: { service: string; release: ReleaseRef; task: "gate" | "verify" },
  opts: StepOptions,
): k8s.core.v1.ConfigMap | undefined {
  const { service, release } = args;
  if (release.failure === undefined) return undefined;
  const failure: FailureTask = {
    service,
    release: { changeId: release.changeId, version: release.version },
    record: { ...release.failure.record },
    served: release.failure.served,
    namespace: context.namespace,
  };
  return new k8s.core.v1.ConfigMap(
    `${name}-failure`,
    {
      metadata: {
        name: kubeName("shipgate-failure", service, args.task),
        namespace: context.namespace,
        labels: serviceLabels(service, "failure-context"),
      },
      data: { "failure.json": JSON.stringify(failure) },
    },
    context.opts(opts),
  );
}

/** The preview Service on the candidate colour, then the runner's gate Job against it. */
export function gate(
  context: KubernetesContext,
  name: string,
  args: Parameters<Platform["gate"]>[1],
  opts: StepOptions,
): GateStep {
  const { service, release } = args;
  const names = objectNames(service);
  const preview = new k8s.core.v1.Service(
    `${name}-preview`,
    {
      metadata: {
        name: names.previewService,
        namespace: context.namespace,
        labels: serviceLabels(service, "preview"),
      },
      spec: {
        selector: colorSelector(service, args.color),
        ports: [{ name: "http", port: context.settings(service).port, targetPort: "http" }],
      },
    },
    context.opts(opts),
  );
  const task = {
    release: release.key,
    target: args.target,
    digest: args.artifact.digest,
    checks: [...args.checks],
    policy: args.policy,
  } satisfies Record<keyof GateTask, unknown>;
  const failure = failureContext(context, name, { service, release, task: "gate" }, opts);
  const job = runnerJob(
    context,
    name,
    {
      service,
      task: "gate",
      release,
      settings: task,
      deadlineSeconds: seconds(args.policy.timeoutMs) + 60,
      serviceAccount: names.serviceAccount,
      ...(failure ? { failureContext: failure } : {}),
    },
    opts,
    [preview, ...(failure ? [failure] : [])],
  );
  return {
    resource: job,
    verdict: job.status.apply(() => "passed" as const),
    // How many rounds it took is in the Job's log; a Job reports no value back to Pulumi.
    rounds: job.status.apply(() => null),
    passedAt: job.status.apply((s) => s?.completionTime ?? ""),
  };
}

export function trafficSwitch(
  context: KubernetesContext,
  name: string,
  args: Parameters<Platform["trafficSwitch"]>[1],
  opts: StepOptions,
): SwitchStep {
  const { service, color } = args;
  const names = objectNames(service);
  const mark = {
    [annotations.warmWindowMinutes]: String(args.warmWindowMinutes),
    ...context.rollbackMark(service),
    // A verification Job's switch back patches the selector as another field manager; without force
    // the provider's server-side apply refuses the next release with a field conflict.
    "pulumi.com/patchForce": "true",
  };
  const active = new k8s.core.v1.Service(
    name,
    {
      metadata: {
        name: names.activeService,
        namespace: context.namespace,
        labels: serviceLabels(service, "server"),
        annotations: mark,
      },
      spec: {
        selector: colorSelector(service, color),
        ports: [{ name: "http", port: context.settings(service).port, targetPort: "http" }],
      },
    },
    context.opts(opts),
  );
  return {
    resource: active,
    active: active.spec.apply((s) => s.selector[colorLabel] as Color),
    switchedAt: active.spec.apply(() => new Date().toISOString()),
  };
}

export function verification(
  context: KubernetesContext,
  name: string,
  args: Parameters<Platform["verification"]>[1],
  opts: StepOptions,
): VerificationStep {
  const { service, release } = args;
  const names = objectNames(service);
  // The judge's policy for this release: a fast-tracked rollback bakes briefly.
  const spec = verificationPolicyFor(args.spec, args.fastTrack);
  const task = {
    release: release.key,
    url: args.url,
    checks: [...args.checks],
    spec,
    // Only when set, so the Jobs of stacks released before this field existed keep their spec.
    fastTrack: args.fastTrack || undefined,
    promoted: args.promoted,
    rollbackTo: args.rollbackTo,
    namespace: context.namespace,
    activeService: names.activeService,
    colorLabel,
    annotations: { rolledBackAt: annotations.rolledBackAt, rollbackTrigger: annotations.rollbackTrigger },
    notice: {
      stage: "rolled-back",
      severity: "critical",
      audience: ["team", "support", "management"],
      release: { changeId: release.changeId, version: release.version },
      service,
    },
  } satisfies Record<keyof VerifyTask, unknown>;
  const failure = failureContext(context, name, { service, release, task: "verify" }, opts);
  const job = runnerJob(
    context,
    name,
    {
      service,
      task: "verify",
      release,
      settings: task,
      deadlineSeconds: seconds(spec.bakeTimeMs) + 120,
      serviceAccount: names.serviceAccount,
      ...(failure ? { failureContext: failure } : {}),
    },
    opts,
    failure ? [failure] : [],
  );
  return {
    resource: job,
    verdict: job.status.apply(() => "passed" as const),
    // The measured error rate and p95 are in the Job's log; a Job reports no value back to Pulumi.
    errorRate: job.status.apply(() => null),
    p95LatencyMs: job.status.apply(() => null),
    verifiedAt: job.status.apply((s) => s?.completionTime ?? ""),
    fastTrackBakeMs: job.status.apply(() => (args.fastTrack ? spec.bakeTimeMs : null)),
  };
}
