// The kubernetes platform: every step of a release as Kubernetes objects through @pulumi/kubernetes.
// Per service: a Deployment per colour, a preview Service on the candidate colour (gates), an active
// Service whose selector is the traffic switch, and Jobs the provider awaits for the gate, the
// post-promotion verification, dump backups, migrations and webhook notifications. Each step lives in
// steps/; this class only hands them the stack's shared context.
import type {
  BackupStep,
  GateStep,
  ObservedService,
  Platform,
  PlatformAdapter,
  PlatformStep,
  RecordStep,
  ReleaseRef,
  RouterStep,
  SlotStep,
  StepOptions,
  SwitchStep,
  VerificationStep,
} from "../../components/platform";
import { kubernetesConfigSchema, type KubernetesConfig } from "./config";
import { KubernetesContext, type KubernetesPlatformArgs } from "./context";
import { backup, maintenance, migration, restore } from "./steps/data";
import { notification, record } from "./steps/records";
import { slot } from "./steps/slot";
import { gate, router, trafficSwitch, verification } from "./steps/traffic";

export { kubernetesConfigSchema, parseKubernetesConfig, type KubernetesConfig } from "./config";
export type { KubernetesPlatformArgs } from "./context";

export class KubernetesPlatform implements Platform {
  public readonly name = "kubernetes" as const;
  private readonly context: KubernetesContext;

  constructor(args: KubernetesPlatformArgs) {
    this.context = new KubernetesContext(args);
  }

  /** Which colour is live and what each colour runs, read from the cluster (see observe.ts). */
  observe(service: string): ObservedService {
    return this.context.observe(service);
  }

  router(name: string, args: { service: string }, opts: StepOptions): RouterStep {
    return router(this.context, name, args, opts);
  }

  slot(name: string, args: Parameters<Platform["slot"]>[1], opts: StepOptions): SlotStep {
    return slot(this.context, name, args, opts);
  }

  backup(name: string, args: { service: string; release: ReleaseRef }, opts: StepOptions): BackupStep {
    return backup(this.context, name, args, opts);
  }

  restore(name: string, args: { service: string; backupId: string }, opts: StepOptions): PlatformStep {
    return restore(this.context, name, args, opts);
  }

  migration(name: string, args: Parameters<Platform["migration"]>[1], opts: StepOptions): PlatformStep {
    return migration(this.context, name, args, opts);
  }

  maintenance(_name: string, args: Parameters<Platform["maintenance"]>[1], _opts: StepOptions): PlatformStep {
    return maintenance(args);
  }

  gate(name: string, args: Parameters<Platform["gate"]>[1], opts: StepOptions): GateStep {
    return gate(this.context, name, args, opts);
  }

  trafficSwitch(name: string, args: Parameters<Platform["trafficSwitch"]>[1], opts: StepOptions): SwitchStep {
    return trafficSwitch(this.context, name, args, opts);
  }

  verification(
    name: string,
    args: Parameters<Platform["verification"]>[1],
    opts: StepOptions,
  ): VerificationStep {
    return verification(this.context, name, args, opts);
  }

  record(name: string, args: Parameters<Platform["record"]>[1], opts: StepOptions): RecordStep {
    return record(this.context, name, args, opts);
  }

  notification(name: string, args: Parameters<Platform["notification"]>[1], opts: StepOptions): PlatformStep {
    return notification(this.context, name, args, opts);
  }
}

/** The kubernetes platform as the program composes it: its settings are `shipgate:kubernetes`. */
export const kubernetesAdapter: PlatformAdapter = {
  name: "kubernetes",
  settingsSchema: kubernetesConfigSchema,
  create: (context) =>
    new KubernetesPlatform({
      projectDir: context.projectDir,
      // Validated by settingsSchema when the stack's config was read.
      config: context.settings as KubernetesConfig,
      services: context.services,
      ...(context.webhookUrl ? { webhookUrl: context.webhookUrl } : {}),
    }),
};
