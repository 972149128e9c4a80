// What every kubernetes step shares for one stack: its settings, the provider, namespace, runner
// bundle and webhook Secret (declared once, on first use), and what observe() read from the cluster.
// Steps take everything else they need as arguments, so no step depends on another having run.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { StepOptions } from "../../components/platform";
import type { ServiceSettings } from "../../contract";
import type { KubernetesConfig, KubernetesServiceConfig } from "./config";
import { annotations } from "./labels";
import {
  kubectlReader,
  observeKubernetesService,
  type ClusterReader,
  type ObservedKubernetesService,
} from "./observe";

function kubeconfigArg(kubeconfig: string | undefined): { kubeconfig?: string } {
  return kubeconfig ? { kubeconfig } : {};
}

export interface KubernetesPlatformArgs {
  /** The project folder: the runner bundle is read from dist/runner/shipgate-runner.mjs in it. */
  readonly projectDir: string;
  /** `shipgate:kubernetes`, validated by parseKubernetesConfig. */
  readonly config: KubernetesConfig;
  /** `shipgate:services`: ports, health path, gate and verification settings, smoke checks. */
  readonly services: Readonly<Record<string, ServiceSettings>>;
  /** `shipgate:notifications.webhookUrl`: kept in a Secret, posted to by the runner. */
  readonly webhookUrl?: string;
  /** Reads the cluster for observe(); a synchronous kubectl call by default. */
  readonly reader?: ClusterReader;
}

/** The built runner (scripts/lib/build.mjs bundles platforms/kubernetes/runner with the contract). */
export const RUNNER_BUNDLE = "dist/runner/shipgate-runner.mjs";

interface Shared {
  readonly provider: k8s.Provider;
  readonly namespace?: k8s.core.v1.Namespace;
  readonly runner: k8s.core.v1.ConfigMap;
  readonly webhook?: k8s.core.v1.Secret;
}

/** A Kubernetes label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** Whole seconds, at least one, for fields that Kubernetes counts in seconds. */
export function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export class KubernetesContext {
  private shared?: Shared;
  private readonly observed = new Map<string, ObservedKubernetesService>();

  constructor(public readonly args: KubernetesPlatformArgs) {}

  get namespace(): string {
    return this.args.config.namespace;
  }

  settings(service: string): ServiceSettings {
    const settings = this.args.services[service];
    if (!settings) {
      throw new Error(
        `shipgate:services.${service}: the manifest releases "${service}" but the stack's config does not say how it ` +
          `runs (expected at least a port). Add it under shipgate:services in the stack's config.`,
      );
    }
    return settings;
  }

  kube(service: string): KubernetesServiceConfig {
    return (
      this.args.config.services[service] ?? {
        containerPort: 8080,
        replicas: 2,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
      }
    );
  }

  /** The node selector and tolerations every pod of the stack carries (shipgate:kubernetes.scheduling). */
  podScheduling(): { nodeSelector?: Record<string, string>; tolerations?: Record<string, string>[] } {
    const { nodeSelector, tolerations } = this.args.config.scheduling ?? {};
    return {
      ...(nodeSelector ? { nodeSelector } : {}),
      ...(tolerations
        ? {
            tolerations: tolerations.map((t) =>
              Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)),
            ),
          }
        : {}),
    };
  }

  /** shipgate:kubernetes.kubeconfig as an absolute path (the provider takes a path or contents). */
  private kubeconfigPath(): string | undefined {
    const { kubeconfig } = this.args.config;
    return kubeconfig ? resolve(this.args.projectDir, kubeconfig) : undefined;
  }

  /** The stack's provider, namespace, runner bundle and webhook Secret, declared once on first use. */
  resources(): Shared {
    if (this.shared) return this.shared;
    const { config, projectDir } = this.args;
    const provider = new k8s.Provider("kubernetes", {
      namespace: config.namespace,
      ...kubeconfigArg(this.kubeconfigPath()),
      ...(config.context ? { context: config.context } : {}),
      ...(config.renderYamlToDirectory
        ? { renderYamlToDirectory: join(projectDir, config.renderYamlToDirectory) }
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
    const bundle = join(projectDir, RUNNER_BUNDLE);
    if (!existsSync(bundle)) {
      throw new Error(
        `the kubernetes runner bundle ${RUNNER_BUNDLE} is missing: run \`npm run setup\` to build it`,
      );
    }
    const runner = new k8s.core.v1.ConfigMap(
      "shipgate-runner",
      {
        metadata: {
          namespace: config.namespace,
          labels: { "app.kubernetes.io/name": "shipgate-runner", "app.kubernetes.io/managed-by": "shipgate" },
        },
        data: { "runner.mjs": readFileSync(bundle, "utf8") },
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

  /** A step's options: its parent and predecessors, plus the stack's provider (and namespace). */
  opts(opts: StepOptions, after: pulumi.Resource[] = []): pulumi.CustomResourceOptions {
    const { provider, namespace } = this.resources();
    const before =
      opts.dependsOn === undefined
        ? []
        : Array.isArray(opts.dependsOn)
          ? [...opts.dependsOn]
          : [opts.dependsOn as pulumi.Input<pulumi.Resource>];
    const deps = [...before, ...after, ...(namespace ? [namespace] : [])];
    return { parent: opts.parent, provider, ...(deps.length > 0 ? { dependsOn: deps } : {}) };
  }

  serviceUrl(objectName: string, service: string): pulumi.Output<string> {
    return pulumi.output(
      `http://${objectName}.${this.namespace}.svc.cluster.local:${this.settings(service).port}`,
    );
  }

  /**
   * Which colour is live and what each colour runs, read from the cluster with kubectl once per run.
   * In render mode nothing is read: there may be no cluster, so every release plans as a first release.
   */
  observe(service: string): ObservedKubernetesService {
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
  rollbackMark(service: string): Record<string, string> {
    const { rolledBackAt } = this.observe(service);
    return rolledBackAt ? { [annotations.rolledBackAt]: rolledBackAt } : {};
  }
}
