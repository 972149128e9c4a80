// The kubernetes platform: every step of a release as Kubernetes objects through @pulumi/kubernetes.
// Per service: a Deployment per colour, a preview Service on the candidate colour (gates), an active
// Service whose selector is the traffic switch, and Jobs the provider awaits for the gate, the
// post-promotion verification, dump backups, migrations and webhook notifications. docs/kubernetes.md
// says why each step looks the way it does.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type {
  ArtifactRef,
  BackupStep,
  Color,
  GateStep,
  ObservedService,
  Platform,
  PlatformStep,
  RecordStep,
  ReleaseRef,
  RouterStep,
  SlotSpec,
  SlotStep,
  StepOptions,
  SwitchStep,
  VerificationStep,
} from "../../components/platform";
import type { ServiceSettings } from "../../config";
import type { KubernetesConfig, KubernetesServiceConfig } from "./config";
import { annotations, colorLabel, colorSelector, kubeName, objectNames, serviceLabels } from "./labels";
import {
  kubectlReader,
  observeKubernetesService,
  type ClusterReader,
  type ObservedKubernetesService,
} from "./observe";

export { kubernetesConfigSchema, parseKubernetesConfig, type KubernetesConfig } from "./config";

export interface KubernetesPlatformArgs {
  /** The project folder: the runner script is read from platforms/kubernetes/runner/runner.mjs in it. */
  readonly projectDir: string;
  /** `shipgate:kubernetes`, validated by parseKubernetesConfig. */
  readonly config: KubernetesConfig;
  /** `shipgate:services`: ports, health path, gate and verification settings, smoke checks. */
  readonly services: Readonly<Record<string, ServiceSettings>>;
  /** `shipgate:notifications.webhookUrl`: kept in a Secret, posted to by notification Jobs. */
  readonly webhookUrl?: string;
  /** Reads the cluster for observe(); a synchronous kubectl call by default. */
  readonly reader?: ClusterReader;
}

const runnerResources = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "250m", memory: "128Mi" },
};
const serviceAccountCa = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

function kubeconfigArg(kubeconfig: string | undefined): { kubeconfig?: string } {
  return kubeconfig ? { kubeconfig } : {};
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export class KubernetesPlatform implements Platform {
  public readonly name = "kubernetes" as const;
  private readonly observed = new Map<string, ObservedKubernetesService>();
  /** The slots declared in this program run, per service: the gate finds its candidate among them. */
  private readonly declaredSlots = new Map<string, { color: Color; spec: SlotSpec }[]>();
  private shared?: {
    provider: k8s.Provider;
    namespace?: k8s.core.v1.Namespace;
    runner: k8s.core.v1.ConfigMap;
    webhook?: k8s.core.v1.Secret;
  };

  constructor(private readonly args: KubernetesPlatformArgs) {}

  private get namespace(): string {
    return this.args.config.namespace;
  }

  private settings(service: string): ServiceSettings {
    const settings = this.args.services[service];
    if (!settings) {
      throw new Error(
        `shipgate:services.${service}: the manifest releases "${service}" but the stack's config does not say how it ` +
          `runs (expected at least a port). Add it under shipgate:services in the stack's config.`,
      );
    }
    return settings;
  }

  private kube(service: string): KubernetesServiceConfig {
    return (
      this.args.config.services[service] ?? {
        containerPort: 8080,
        replicas: 2,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
      }
    );
  }

  /** The stack's provider, namespace, runner script and webhook Secret, declared once on first use. */
  private ensureShared() {
    if (this.shared) return this.shared;
    const { config } = this.args;
    const kubeconfig = this.kubeconfigPath();
    const provider = new k8s.Provider("kubernetes", {
      namespace: config.namespace,
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(config.context ? { context: config.context } : {}),
      ...(config.renderYamlToDirectory
        ? { renderYamlToDirectory: join(this.args.projectDir, config.renderYamlToDirectory) }
        : {}),
    });
    const namespace = config.createNamespace
      ? new k8s.core.v1.Namespace(
          "namespace",
          { metadata: { name: config.namespace, labels: { "app.kubernetes.io/managed-by": "shipgate" } } },
          { provider },
        )
      : undefined;
    const base = { provider, ...(namespace ? { dependsOn: [namespace] } : {}) };
    const runner = new k8s.core.v1.ConfigMap(
      "shipgate-runner",
      {
        metadata: {
          namespace: config.namespace,
          labels: { "app.kubernetes.io/name": "shipgate-runner", "app.kubernetes.io/managed-by": "shipgate" },
        },
        data: {
          "runner.mjs": readFileSync(
            join(this.args.projectDir, "platforms/kubernetes/runner/runner.mjs"),
            "utf8",
          ),
        },
      },
      base,
    );
    const webhook = this.args.webhookUrl
      ? new k8s.core.v1.Secret(
          "shipgate-webhook",
          {
            metadata: { namespace: config.namespace, labels: { "app.kubernetes.io/managed-by": "shipgate" } },
            stringData: { url: pulumi.secret(this.args.webhookUrl) },
          },
          base,
        )
      : undefined;
    this.shared = { provider, runner, ...(namespace ? { namespace } : {}), ...(webhook ? { webhook } : {}) };
    return this.shared;
  }

  /** shipgate:kubernetes.kubeconfig as an absolute path (the provider takes a path or contents). */
  private kubeconfigPath(): string | undefined {
    const { kubeconfig } = this.args.config;
    return kubeconfig ? resolve(this.args.projectDir, kubeconfig) : undefined;
  }

  /** A step's options: its parent and predecessors, plus the stack's provider (and namespace). */
  private opts(opts: StepOptions, after: pulumi.Resource[] = []): pulumi.CustomResourceOptions {
    const { provider, namespace } = this.ensureShared();
    const deps = [...this.dependencies(opts), ...after, ...(namespace ? [namespace] : [])];
    return { parent: opts.parent, provider, ...(deps.length > 0 ? { dependsOn: deps } : {}) };
  }

  private serviceUrl(objectName: string, service: string): pulumi.Output<string> {
    return pulumi.output(
      `http://${objectName}.${this.namespace}.svc.cluster.local:${this.settings(service).port}`,
    );
  }

  /**
   * Which colour is live and what each colour runs, read from the cluster with kubectl (see
   * observe.ts). In render mode nothing is read: there may be no cluster, so every release plans as
   * a first release.
   */
  observe(service: string): ObservedService {
    return this.observeService(service);
  }

  private observeService(service: string): ObservedKubernetesService {
    const cached = this.observed.get(service);
    if (cached) return cached;
    const observed: ObservedKubernetesService = this.args.config.renderYamlToDirectory
      ? { active: null, slots: {}, rolledBackAt: null }
      : observeKubernetesService(this.args.reader ?? kubectlReader, {
          namespace: this.namespace,
          ...kubeconfigArg(this.kubeconfigPath()),
          ...(this.args.config.context ? { context: this.args.config.context } : {}),
          service,
        });
    this.observed.set(service, observed);
    return observed;
  }

  /** Marks an object with the last automatic switch back, so a release run again re-applies it. */
  private rollbackMark(service: string): Record<string, string> {
    const { rolledBackAt } = this.observeService(service);
    return rolledBackAt ? { [annotations.rolledBackAt]: rolledBackAt } : {};
  }

  /**
   * The authority of the service's verification Job to switch traffic back: a ServiceAccount and a
   * Role that may only read and patch the active Service. The users' address is the active Service,
   * which the traffic switch declares.
   */
  router(name: string, args: { service: string }, opts: StepOptions): RouterStep {
    const names = objectNames(args.service);
    const labels = serviceLabels(args.service, "shipgate");
    const metadata = { name: names.serviceAccount, namespace: this.namespace, labels };
    const account = new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata }, this.opts(opts));
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
        ],
      },
      this.opts(opts),
    );
    const binding = new k8s.rbac.v1.RoleBinding(
      `${name}-binding`,
      {
        metadata,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.serviceAccount },
        subjects: [{ kind: "ServiceAccount", name: names.serviceAccount, namespace: this.namespace }],
      },
      this.opts(opts, [account, role]),
    );
    return { resource: binding, url: this.serviceUrl(names.activeService, args.service) };
  }

  slot(name: string, args: { service: string; color: Color; spec: SlotSpec }, opts: StepOptions): SlotStep {
    const { service, color, spec } = args;
    const settings = this.settings(service);
    const kube = this.kube(service);
    const names = objectNames(service);
    const labels = {
      ...serviceLabels(service, "server"),
      "app.kubernetes.io/instance": names.deployment(color),
      "app.kubernetes.io/version": labelValue(spec.version),
      [colorLabel]: color,
    };
    const dataClaim = kube.backup?.kind === "volumeSnapshot" ? kube.backup.claim : undefined;
    const deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: {
          name: names.deployment(color),
          namespace: this.namespace,
          labels,
          annotations: { [annotations.slotSpec]: JSON.stringify(spec) },
        },
        spec: {
          replicas: kube.replicas,
          selector: { matchLabels: colorSelector(service, color) },
          template: {
            metadata: { labels },
            spec: {
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
                    { name: "SHIPGATE_COLOR", value: color },
                    { name: "SHIPGATE_VERSION", value: spec.version },
                    ...(dataClaim ? [{ name: "DATA_DIR", value: "/data" }] : []),
                  ],
                  resources: kube.resources,
                  // Readiness is the gate's health check, at the gate's pace: a pod serves only
                  // after as many successes in a row as the gate wants.
                  readinessProbe: {
                    httpGet: { path: settings.healthPath, port: "http" },
                    periodSeconds: seconds(settings.gate.intervalMs),
                    timeoutSeconds: seconds(settings.maxLatencyMs),
                    successThreshold: settings.gate.consecutiveSuccesses,
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
      this.opts(opts),
    );
    const declared = this.declaredSlots.get(service) ?? [];
    declared.push({ color, spec });
    this.declaredSlots.set(service, declared);
    // Every colour is reached for gates through the preview Service, which the gate points at it.
    return { resource: deployment, url: this.serviceUrl(names.previewService, service) };
  }

  /** The backup id of a release: its change id and version, as a Kubernetes name. */
  private backupId(release: ReleaseRef): string {
    return kubeName(release.changeId, release.version);
  }

  backup(name: string, args: { service: string; release: ReleaseRef }, opts: StepOptions): BackupStep {
    const { service, release } = args;
    const backup = this.kube(service).backup;
    if (!backup) {
      throw new Error(
        `shipgate:kubernetes.services.${service}.backup: ${service} is stateful (shipgate:services.${service}.stateful) ` +
          `but says nothing about how to back it up; expected {kind: volumeSnapshot, claim, snapshotClass} or ` +
          `{kind: dump, image, command, claim}`,
      );
    }
    const backupId = this.backupId(release);
    const labels = serviceLabels(service, "backup");
    if (backup.kind === "volumeSnapshot") {
      const snapshot = new k8s.apiextensions.CustomResource(
        name,
        {
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshot",
          metadata: {
            name: kubeName(service, backupId),
            namespace: this.namespace,
            labels,
            annotations: {
              [annotations.release]: release.key,
              // The backup is verified when the CSI driver says the snapshot can be restored from.
              "pulumi.com/waitFor": "jsonpath={.status.readyToUse}=true",
            },
          },
          spec: {
            volumeSnapshotClassName: backup.snapshotClass,
            source: { persistentVolumeClaimName: backup.claim },
          },
        },
        this.opts(opts),
      );
      return {
        resource: snapshot,
        backupId: pulumi.output(backupId),
        digest: snapshot.metadata.apply((m) => `volumesnapshot-uid:${m?.uid ?? ""}`),
        createdAt: snapshot.metadata.apply((m) => m?.creationTimestamp ?? ""),
      };
    }
    const file = `/backups/${backupId}.dump`;
    const job = this.job(
      name,
      {
        service,
        component: "backup",
        release,
        image: backup.image,
        command: [
          "sh",
          "-c",
          `set -eu\nexport BACKUP_FILE=${file}\n${backup.command}\n` +
            `test -s "$BACKUP_FILE"\nsha256sum "$BACKUP_FILE" > "$BACKUP_FILE.sha256"\nsha256sum -c "$BACKUP_FILE.sha256"`,
        ],
        claim: backup.claim,
        ...(backup.envFromSecret ? { envFromSecret: backup.envFromSecret } : {}),
      },
      opts,
    );
    return {
      resource: job,
      backupId: pulumi.output(backupId),
      digest: pulumi.output(`sha256-file:${backup.claim}${file}.sha256`),
      createdAt: job.status.apply((s) => s?.completionTime ?? ""),
    };
  }

  restore(name: string, args: { service: string; backupId: string }, opts: StepOptions): PlatformStep {
    const backup = this.kube(args.service).backup;
    if (backup?.kind !== "dump" || !backup.restoreCommand) {
      throw new Error(
        `shipgate:kubernetes.services.${args.service}.backup: rollback with data restore needs a dump backup with a ` +
          `restoreCommand; restoring a VolumeSnapshot means a new claim from it, which shipgate does not re-wire yet`,
      );
    }
    const file = `/backups/${kubeName(args.backupId)}.dump`;
    const job = this.job(
      name,
      {
        service: args.service,
        component: "restore",
        image: backup.image,
        command: [
          "sh",
          "-c",
          `set -eu\nexport BACKUP_FILE=${file}\nsha256sum -c "$BACKUP_FILE.sha256"\n${backup.restoreCommand}`,
        ],
        claim: backup.claim,
        ...(backup.envFromSecret ? { envFromSecret: backup.envFromSecret } : {}),
        marks: { "shipgate.dev/backup": args.backupId },
      },
      opts,
    );
    return { resource: job };
  }

  migration(name: string, args: Parameters<Platform["migration"]>[1], opts: StepOptions): PlatformStep {
    const kube = this.kube(args.service);
    if (!kube.migrationCommand) {
      throw new Error(
        `shipgate:kubernetes.services.${args.service}.migrationCommand: the release migrates data ` +
          `(${args.migrations.join(", ")}) but the stack does not say how; expected a shell command run in the release's image`,
      );
    }
    const job = this.job(
      name,
      {
        service: args.service,
        component: "migration",
        image: `${args.artifact.source}@${args.artifact.digest}`,
        command: ["sh", "-c", kube.migrationCommand],
        env: { MIGRATIONS: args.migrations.join(","), BACKUP_ID: args.backupId },
        ...(kube.backup?.kind === "volumeSnapshot" ? { claim: kube.backup.claim, mountPath: "/data" } : {}),
      },
      opts,
    );
    return { resource: job };
  }

  /**
   * Not supported yet: a maintenance response needs a responder Deployment the active Service can
   * point at. Recreate releases and rollbacks with data restore stop here, before any change.
   */
  maintenance(_name: string, args: Parameters<Platform["maintenance"]>[1], _opts: StepOptions): PlatformStep {
    throw new Error(
      `${args.service}: release ${args.release.key} needs a maintenance window (the recreate strategy, or a rollback ` +
        `with data restore), which the kubernetes platform does not support yet; use blue-green with ` +
        `backward-compatible migrations`,
    );
  }

  gate(name: string, args: Parameters<Platform["gate"]>[1], opts: StepOptions): GateStep {
    const { service, release } = args;
    const candidate = this.candidate(service, args.artifact);
    const names = objectNames(service);
    const preview = new k8s.core.v1.Service(
      `${name}-preview`,
      {
        metadata: {
          name: names.previewService,
          namespace: this.namespace,
          labels: serviceLabels(service, "preview"),
        },
        spec: {
          selector: colorSelector(service, candidate),
          ports: [{ name: "http", port: this.settings(service).port, targetPort: "http" }],
        },
      },
      this.opts(opts),
    );
    const job = this.runnerJob(
      name,
      {
        service,
        task: "gate",
        release,
        settings: {
          release: release.key,
          target: args.target,
          digest: args.artifact.digest,
          checks: args.checks,
          policy: args.policy,
        },
        deadlineSeconds: seconds(args.policy.timeoutMs) + 60,
      },
      opts,
      [preview],
    );
    return {
      resource: job,
      verdict: job.status.apply(() => "passed" as const),
      // How many rounds it took is in the Job's log; a Job reports no value back to Pulumi. null, not
      // NaN (the state is JSON): GateStep.rounds should be `number | null` (reported to the lead).
      rounds: job.status.apply(() => null as unknown as number),
      passedAt: job.status.apply((s) => s?.completionTime ?? ""),
    };
  }

  /** The colour the gate checks: the slot declared in this run with the gate's build (the last one). */
  private candidate(service: string, artifact: ArtifactRef): Color {
    const declared = (this.declaredSlots.get(service) ?? []).filter(
      (s) => s.spec.artifact.digest === artifact.digest && s.spec.artifact.source === artifact.source,
    );
    const found = declared[declared.length - 1];
    if (!found) {
      throw new Error(
        `${service}: the gate checks ${artifact.source}@${artifact.digest} but no colour of ${service} was declared ` +
          `with that build in this run; declare the candidate slot before its gate`,
      );
    }
    return found.color;
  }

  private dependencies(opts: StepOptions): pulumi.Input<pulumi.Resource>[] {
    if (opts.dependsOn === undefined) return [];
    return Array.isArray(opts.dependsOn)
      ? [...opts.dependsOn]
      : [opts.dependsOn as pulumi.Input<pulumi.Resource>];
  }

  trafficSwitch(name: string, args: Parameters<Platform["trafficSwitch"]>[1], opts: StepOptions): SwitchStep {
    const { service, color } = args;
    const names = objectNames(service);
    const mark = this.rollbackMark(service);
    const active = new k8s.core.v1.Service(
      name,
      {
        metadata: {
          name: names.activeService,
          namespace: this.namespace,
          labels: serviceLabels(service, "server"),
          ...(Object.keys(mark).length > 0 ? { annotations: mark } : {}),
        },
        spec: {
          selector: colorSelector(service, color),
          ports: [{ name: "http", port: this.settings(service).port, targetPort: "http" }],
        },
      },
      this.opts(opts),
    );
    return {
      resource: active,
      active: active.spec.apply((s) => s.selector[colorLabel] as Color),
      switchedAt: active.spec.apply(() => new Date().toISOString()),
    };
  }

  verification(
    name: string,
    args: Parameters<Platform["verification"]>[1],
    opts: StepOptions,
  ): VerificationStep {
    const { service, release } = args;
    const names = objectNames(service);
    const job = this.runnerJob(
      name,
      {
        service,
        task: "verify",
        release,
        settings: {
          release: release.key,
          url: args.url,
          checks: args.checks,
          spec: args.spec,
          promoted: args.promoted,
          rollbackTo: args.rollbackTo,
          namespace: this.namespace,
          activeService: names.activeService,
          colorLabel,
          annotations: {
            rolledBackAt: annotations.rolledBackAt,
            rollbackTrigger: annotations.rollbackTrigger,
          },
        },
        deadlineSeconds: seconds(args.spec.bakeTimeMs) + 120,
        serviceAccount: names.serviceAccount,
      },
      opts,
    );
    return {
      resource: job,
      verdict: job.status.apply(() => "passed" as const),
      // The measured error rate and p95 are in the Job's log; a Job reports no value back to Pulumi.
      errorRate: job.status.apply(() => null as unknown as number),
      p95LatencyMs: job.status.apply(() => null),
      verifiedAt: job.status.apply((s) => s?.completionTime ?? ""),
    };
  }

  record(name: string, args: Parameters<Platform["record"]>[1], opts: StepOptions): RecordStep {
    const recordName = kubeName("shipgate-record", args.release.changeId, args.release.version);
    const configMap = new k8s.core.v1.ConfigMap(
      name,
      {
        metadata: {
          name: recordName,
          namespace: this.namespace,
          labels: { "app.kubernetes.io/managed-by": "shipgate", "shipgate.dev/kind": "deployment-record" },
          annotations: { [annotations.release]: args.release.key },
        },
        data: { "record.json": pulumi.jsonStringify(args.record) },
      },
      this.opts(opts),
    );
    return { resource: configMap, location: pulumi.output(`configmap/${this.namespace}/${recordName}`) };
  }

  /**
   * A notification is an event ConfigMap (the stack's event log: `kubectl get configmap -l
   * shipgate.dev/kind=notification`), and, when the stack names a webhook, a Job posting it there.
   */
  notification(name: string, args: Parameters<Platform["notification"]>[1], opts: StepOptions): PlatformStep {
    const { release, event } = args;
    const payload = { release: release.key, changeId: release.changeId, version: release.version, ...event };
    const configMap = new k8s.core.v1.ConfigMap(
      name,
      {
        metadata: {
          name: kubeName("shipgate-event", release.changeId, release.version, event.stage),
          namespace: this.namespace,
          labels: {
            "app.kubernetes.io/managed-by": "shipgate",
            "shipgate.dev/kind": "notification",
            "shipgate.dev/stage": labelValue(event.stage),
          },
          annotations: { [annotations.release]: release.key },
        },
        data: { "event.json": JSON.stringify(payload) },
      },
      this.opts(opts),
    );
    if (!this.args.webhookUrl) return { resource: configMap };
    const job = this.runnerJob(
      `${name}-webhook`,
      { service: null, task: "notify", release, settings: payload, deadlineSeconds: 120 },
      opts,
      [configMap],
    );
    return { resource: job };
  }

  /** A Job of the runner script (gate, verify, notify), awaited by the provider until it completes. */
  private runnerJob(
    name: string,
    args: {
      service: string | null;
      task: "gate" | "verify" | "notify";
      release: ReleaseRef;
      settings: Record<string, unknown>;
      deadlineSeconds: number;
      serviceAccount?: string;
    },
    opts: StepOptions,
    after: pulumi.Resource[] = [],
  ): k8s.batch.v1.Job {
    const { runner, webhook } = this.ensureShared();
    const labels = {
      ...(args.service
        ? serviceLabels(args.service, args.task)
        : { "app.kubernetes.io/managed-by": "shipgate" }),
      "app.kubernetes.io/name": args.service ?? "shipgate-runner",
    };
    const marks = {
      [annotations.release]: args.release.key,
      ...(args.service ? this.rollbackMark(args.service) : {}),
    };
    return new k8s.batch.v1.Job(
      name,
      {
        metadata: { namespace: this.namespace, labels, annotations: marks },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: args.deadlineSeconds,
          template: {
            metadata: { labels, annotations: marks },
            spec: {
              restartPolicy: "Never",
              ...(args.serviceAccount ? { serviceAccountName: args.serviceAccount } : {}),
              containers: [
                {
                  name: args.task,
                  image: this.args.config.runnerImage,
                  command: ["node", "/shipgate/runner.mjs", args.task],
                  env: [
                    { name: "SHIPGATE_TASK", value: pulumi.jsonStringify(args.settings) },
                    ...(args.serviceAccount
                      ? [{ name: "NODE_EXTRA_CA_CERTS", value: serviceAccountCa }]
                      : []),
                    ...(webhook && args.task !== "gate"
                      ? [
                          {
                            name: "SHIPGATE_WEBHOOK_URL",
                            valueFrom: { secretKeyRef: { name: webhook.metadata.name, key: "url" } },
                          },
                        ]
                      : []),
                  ],
                  resources: runnerResources,
                  volumeMounts: [{ name: "runner", mountPath: "/shipgate", readOnly: true }],
                },
              ],
              volumes: [{ name: "runner", configMap: { name: runner.metadata.name } }],
            },
          },
        },
      },
      this.opts(opts, [runner, ...after]),
    );
  }

  /** A Job of a release's own image (backup dump, restore, migration), with a claim mounted. */
  private job(
    name: string,
    args: {
      service: string;
      component: string;
      release?: ReleaseRef;
      image: string;
      command: string[];
      env?: Record<string, pulumi.Input<string>>;
      claim?: string;
      mountPath?: string;
      envFromSecret?: string;
      marks?: Record<string, string>;
    },
    opts: StepOptions,
  ): k8s.batch.v1.Job {
    const labels = serviceLabels(args.service, args.component);
    const marks = { ...(args.release ? { [annotations.release]: args.release.key } : {}), ...args.marks };
    const mountPath = args.mountPath ?? "/backups";
    return new k8s.batch.v1.Job(
      name,
      {
        metadata: { namespace: this.namespace, labels, annotations: marks },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels, annotations: marks },
            spec: {
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
      this.opts(opts),
    );
  }
}
