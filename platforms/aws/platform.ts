// The aws platform's steps: how each step of a release is declared on aws. Each service runs as one
// ECS (Fargate) service per colour behind an Application Load Balancer (router.ts); a colour's task
// definition and ECS service are declared in steps/slot.ts; the steps that are API calls are dynamic
// resources (step.ts) whose work lives in handlers/ and ops/. docs/aws.md says why it looks this way.
import * as pulumi from "@pulumi/pulumi";
import type {
  BackupStep,
  Color,
  GateStep,
  ObservedService,
  Platform,
  PlatformStep,
  RecordStep,
  ReleaseRef,
  RouterStep,
  SlotStep,
  StepOptions,
  SwitchStep,
  VerificationStep,
} from "../../components/platform";
import { dependencyList } from "../../components/platform";
import type { ServiceSettings } from "../../contract";
import { defaultAwsService, type AwsConfig, type AwsServiceConfig } from "./config";
import { awsNames } from "./names";
import { awsObserveReader, type AwsObserveReader } from "./observe-reader";
import type { ObservedAwsService } from "./ops/observe";
import { AwsStep, minutes } from "./step";
import { declareColorService, declareMigrationTask } from "./steps/slot";
import { declareServiceRouter, declareShared, type ServiceRouter, type SharedObjects } from "./router";

export interface AwsPlatformArgs {
  /** The project folder: observe() runs dist/platforms/aws/observe-main.js from it. */
  readonly projectDir: string;
  /** `shipgate:aws`, validated by parseAwsConfig. */
  readonly config: AwsConfig;
  /** `shipgate:services`: health path, gate and verification settings, smoke checks. */
  readonly services: Readonly<Record<string, ServiceSettings>>;
  /** Reads what AWS runs for observe(); a read-only child process by default. */
  readonly reader?: AwsObserveReader;
}

export class AwsPlatform implements Platform {
  public readonly name = "aws" as const;
  private readonly observed = new Map<string, ObservedAwsService>();
  private readonly routers = new Map<string, ServiceRouter>();
  /** Colours a maintenance window of this run stops: their slot is scaled back up before its gate. */
  private readonly stopped = new Map<string, Color>();
  private shared?: SharedObjects;

  constructor(private readonly args: AwsPlatformArgs) {}

  private get config(): AwsConfig {
    return this.args.config;
  }

  /** Where the step modules send their calls (never credentials: the default chain provides those). */
  private get target() {
    return { region: this.config.region, endpoint: this.config.endpoint ?? null };
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

  private service(service: string): AwsServiceConfig {
    return this.config.services[service] ?? defaultAwsService;
  }

  /** What a step needs to record its own failure (ops/failure.ts); none outside a service's release. */
  private failureInputs(
    service: string,
    release: ReleaseRef | undefined,
    opts: StepOptions,
  ): Record<string, unknown> {
    if (release?.failure === undefined) return {};
    const shared = this.ensureShared(opts);
    return {
      failure: {
        service,
        release: { changeId: release.changeId, version: release.version, key: release.key },
        record: release.failure.record,
        served: release.failure.served,
        bucket: shared.bucket.bucket,
        recordsPrefix: "records/",
        topicArn: shared.topic.arn,
      },
    };
  }

  private ensureShared(opts: StepOptions): SharedObjects {
    this.shared ??= declareShared(this.config, dependencyList(opts.dependsOn));
    return this.shared;
  }

  private router$(service: string, opts: StepOptions): ServiceRouter {
    const found = this.routers.get(service);
    if (found) return found;
    const router = declareServiceRouter(this.config, this.ensureShared(opts), {
      service,
      settings: this.settings(service),
      aws: this.service(service),
    });
    this.routers.set(service, router);
    return router;
  }

  /** A step's options: its parent and predecessors, plus the stack's provider. */
  private opts(opts: StepOptions, after: pulumi.Input<pulumi.Resource>[] = []): pulumi.CustomResourceOptions {
    const deps = [...dependencyList(opts.dependsOn), ...after];
    return {
      parent: opts.parent,
      provider: this.ensureShared(opts).provider,
      ...(deps.length > 0 ? { dependsOn: deps } : {}),
    };
  }

  /** A dynamic step's options: no aws provider (it is not an aws resource). */
  private stepOpts(
    opts: StepOptions,
    after: pulumi.Input<pulumi.Resource>[] = [],
  ): pulumi.CustomResourceOptions {
    const deps = [...dependencyList(opts.dependsOn), ...after];
    return { parent: opts.parent, ...(deps.length > 0 ? { dependsOn: deps } : {}) };
  }

  private targetGroupArns(router: ServiceRouter) {
    return pulumi
      .all([router.targetGroups.blue.arn, router.targetGroups.green.arn])
      .apply(([blue, green]) => ({ blue, green }));
  }

  /**
   * Which colour users reach and what each colour runs, read from AWS with read-only calls (see
   * ops/observe.ts), in previews too. AWS is the truth, so a switch back made by a failed bake is seen
   * by the very next preview or update.
   */
  observe(service: string): ObservedService {
    return this.observeService(service);
  }

  private observeService(service: string): ObservedAwsService {
    const cached = this.observed.get(service);
    if (cached) return cached;
    const observed = (this.args.reader ?? awsObserveReader(this.args.projectDir))({
      aws: this.target,
      prefix: this.config.namePrefix,
      service,
      cluster: this.config.cluster,
      productionPort: this.service(service).listenerPort,
    });
    this.observed.set(service, observed);
    return observed;
  }

  router(_name: string, args: { service: string }, opts: StepOptions): RouterStep {
    const router = this.router$(args.service, opts);
    return { resource: router.productionRule, url: router.url };
  }

  slot(name: string, args: Parameters<Platform["slot"]>[1], opts: StepOptions): SlotStep {
    const { service, color, spec } = args;
    const settings = this.service(service);
    const router = this.router$(service, opts);
    const shared = this.ensureShared(opts);
    const names = awsNames(this.config.namePrefix, service);
    // A secret variable's value goes into an SSM SecureString parameter of the colour's own (a Pulumi
    // secret, so state holds ciphertext), which the task reads as a container secret: the task
    // definition names the parameter, never the value. A variable without a value (a kept colour
    // whose secret was rotated) fails the declaration rather than run the build with another value.
    const ecsService = declareColorService({
      name,
      service,
      color,
      spec,
      secrets: args.secrets,
      settings,
      config: this.config,
      router,
      shared,
      names,
      opts: this.opts(opts),
      serviceOpts: this.opts(opts, [router.testRule]),
    });
    let ready: pulumi.Resource = ecsService;
    if (this.stopped.get(service) === color) {
      ready = new AwsStep(
        "Scale",
        `${name}-restart`,
        {
          aws: this.target,
          cluster: this.config.cluster,
          service: names.ecsService(color),
          desiredCount: settings.desiredCount,
          releaseKey: spec.version,
          timeoutMs: minutes(this.config.deployTimeoutMinutes),
          ...this.failureInputs(service, args.release, opts),
        },
        ["runningCount"],
        this.stepOpts(opts, [ecsService]),
      );
    }
    return { resource: ready, url: router.testUrl };
  }

  backup(name: string, args: { service: string; release: ReleaseRef }, opts: StepOptions): BackupStep {
    const { service, release } = args;
    const database = this.service(service).database;
    if (!database) {
      throw new Error(
        `shipgate:aws.services.${service}.database: ${service} is stateful (shipgate:services.${service}.stateful) but ` +
          `names no database to snapshot; expected {kind: instance|cluster, identifier}, or set stateful: false`,
      );
    }
    const resource = new AwsStep(
      "Backup",
      name,
      {
        aws: this.target,
        service,
        releaseKey: release.key,
        changeId: release.changeId,
        version: release.version,
        database: { kind: database.kind, identifier: database.identifier },
        timeoutMs: minutes(database.snapshotTimeoutMinutes),
        ...this.failureInputs(service, release, opts),
      },
      ["backupId", "arn", "digest", "createdAt"],
      // Snapshots outlive the stack's resources: a later release or a destroy never deletes one.
      { ...this.stepOpts(opts), protect: true, retainOnDelete: true },
    );
    return {
      resource,
      backupId: resource.output<string>("backupId"),
      digest: resource.output<string>("digest"),
      createdAt: resource.output<string>("createdAt"),
    };
  }

  /** Refused: restoring an RDS snapshot means a new database and re-pointing the service at it. */
  restore(_name: string, args: { service: string; backupId: string }, _opts: StepOptions): PlatformStep {
    throw new Error(
      `${args.service}: rollback with data restore (snapshot ${args.backupId}) is not supported on the aws platform: ` +
        `restoring an RDS snapshot creates a new database, which the service would have to be re-pointed at. Restore it ` +
        `with \`aws rds restore-db-instance-from-db-snapshot\` (docs/aws.md), point the service's secret at the new ` +
        `database, and release without --restore-data. Nothing was changed.`,
    );
  }

  migration(name: string, args: Parameters<Platform["migration"]>[1], opts: StepOptions): PlatformStep {
    const settings = this.service(args.service);
    if (!settings.migrationCommand) {
      throw new Error(
        `shipgate:aws.services.${args.service}.migrationCommand: the release migrates data (${args.migrations.join(", ")}) ` +
          `but the stack does not say how; expected a command run in the release's image as a one-off ECS task`,
      );
    }
    const router = this.router$(args.service, opts);
    const shared = this.ensureShared(opts);
    const taskDefinition = declareMigrationTask(`${name}-task`, {
      config: this.config,
      service: args.service,
      artifact: args.artifact,
      router,
      settings,
      opts: this.opts(opts),
    });
    const resource = new AwsStep(
      "Task",
      name,
      {
        aws: this.target,
        service: args.service,
        purpose: "migration",
        digest: args.artifact.digest,
        migrations: [...args.migrations],
        runKey: `${args.artifact.version}@${args.artifact.digest} ${args.migrations.join(",")}`,
        run: {
          cluster: this.config.cluster,
          taskDefinition: taskDefinition.arn,
          subnets: this.config.network.subnetIds,
          securityGroups: [shared.tasksSecurityGroup.id],
          assignPublicIp: this.config.network.assignPublicIp,
          container: {
            name: args.service,
            command: settings.migrationCommand,
            environment: { MIGRATIONS: args.migrations.join(","), BACKUP_ID: args.backupId },
          },
          startedBy: `shipgate-migration`,
        },
        timeoutMs: minutes(this.config.deployTimeoutMinutes),
        ...this.failureInputs(args.service, args.release, opts),
      },
      ["taskArn", "summary", "stoppedAt"],
      this.stepOpts(opts, [taskDefinition]),
    );
    return { resource };
  }

  maintenance(name: string, args: Parameters<Platform["maintenance"]>[1], opts: StepOptions): PlatformStep {
    const router = this.router$(args.service, opts);
    const names = awsNames(this.config.namePrefix, args.service);
    if (args.stop) this.stopped.set(args.service, args.stop);
    const resource = new AwsStep(
      "Maintenance",
      name,
      {
        aws: this.target,
        service: args.service,
        releaseKey: args.release.key,
        ruleArn: router.productionRule.arn,
        message: args.message,
        stop: args.stop ? { cluster: this.config.cluster, service: names.ecsService(args.stop) } : null,
        timeoutMs: minutes(this.config.deployTimeoutMinutes),
        ...this.failureInputs(args.service, args.release, opts),
      },
      ["startedAt"],
      this.stepOpts(opts, [router.productionRule]),
    );
    return { resource };
  }

  gate(name: string, args: Parameters<Platform["gate"]>[1], opts: StepOptions): GateStep {
    const router = this.router$(args.service, opts);
    const resource = new AwsStep(
      "Gate",
      name,
      {
        aws: this.target,
        testRuleArn: router.testRule.arn,
        targetGroups: this.targetGroupArns(router),
        service: args.service,
        releaseKey: args.release.key,
        target: args.target,
        candidate: args.color,
        digest: args.artifact.digest,
        checks: args.checks,
        policy: args.policy,
        rolledBackAt: this.observeService(args.service).rolledBackAt,
        ...this.failureInputs(args.service, args.release, opts),
      },
      ["verdict", "rounds", "passedAt"],
      this.stepOpts(opts, [router.testRule]),
    );
    return {
      resource,
      verdict: resource.output<"passed">("verdict"),
      rounds: resource.output<number>("rounds"),
      passedAt: resource.output<string>("passedAt"),
    };
  }

  trafficSwitch(name: string, args: Parameters<Platform["trafficSwitch"]>[1], opts: StepOptions): SwitchStep {
    const router = this.router$(args.service, opts);
    const resource = new AwsStep(
      "Switch",
      name,
      {
        aws: this.target,
        service: args.service,
        releaseKey: args.release.key,
        ruleArn: router.productionRule.arn,
        targetGroups: this.targetGroupArns(router),
        color: args.color,
        warmWindowMinutes: args.warmWindowMinutes,
        rolledBackAt: this.observeService(args.service).rolledBackAt,
        ...this.failureInputs(args.service, args.release, opts),
      },
      ["active", "previous", "switchedAt"],
      this.stepOpts(opts, [router.productionRule]),
    );
    return {
      resource,
      active: resource.output<Color>("active"),
      switchedAt: resource.output<string>("switchedAt"),
    };
  }

  verification(
    name: string,
    args: Parameters<Platform["verification"]>[1],
    opts: StepOptions,
  ): VerificationStep {
    const router = this.router$(args.service, opts);
    const shared = this.ensureShared(opts);
    const resource = new AwsStep(
      "Verification",
      name,
      {
        aws: this.target,
        service: args.service,
        releaseKey: args.release.key,
        url: args.url,
        checks: args.checks,
        spec: args.spec,
        fastTrack: args.fastTrack,
        promoted: args.promoted,
        rollbackTo: args.rollbackTo,
        ruleArn: router.productionRule.arn,
        targetGroups: this.targetGroupArns(router),
        loadBalancerArn: shared.loadBalancerArn,
        alarms: router.alarms
          .filter((alarm) => alarm.color === args.promoted)
          .map((alarm) => ({ name: alarm.name, measures: alarm.measures })),
        record: args.record,
        bucket: shared.bucket.bucket,
        recordsPrefix: "records/",
        topicArn: shared.topic.arn,
        rolledBackAt: this.observeService(args.service).rolledBackAt,
        ...this.failureInputs(args.service, args.release, opts),
      },
      ["verdict", "errorRate", "p95LatencyMs", "verifiedAt", "fastTrackBakeMs"],
      this.stepOpts(opts),
    );
    return {
      resource,
      verdict: resource.output<"passed">("verdict"),
      errorRate: resource.output<number>("errorRate"),
      p95LatencyMs: resource.output<number | null>("p95LatencyMs"),
      verifiedAt: resource.output<string>("verifiedAt"),
      fastTrackBakeMs: resource.output<number | null | undefined>("fastTrackBakeMs"),
    };
  }

  record(name: string, args: Parameters<Platform["record"]>[1], opts: StepOptions): RecordStep {
    const shared = this.ensureShared(opts);
    const resource = new AwsStep(
      "Record",
      name,
      {
        aws: this.target,
        bucket: shared.bucket.bucket,
        prefix: "records/",
        releaseKey: args.release.key,
        record: args.record,
      },
      ["jsonKey", "markdownKey", "location"],
      // Records are documentation: deleting the resource keeps the objects (the handler never deletes).
      { ...this.stepOpts(opts), retainOnDelete: true },
    );
    return { resource, location: resource.output<string>("location") };
  }

  notification(name: string, args: Parameters<Platform["notification"]>[1], opts: StepOptions): PlatformStep {
    const shared = this.ensureShared(opts);
    const resource = new AwsStep(
      "Notification",
      name,
      {
        aws: this.target,
        topicArn: shared.topic.arn,
        // Known at preview (the topic's ARN is not on a first release), so policies see the channel.
        channel: `sns:${this.config.namePrefix}-releases`,
        releaseKey: args.release.key,
        changeId: args.release.changeId,
        version: args.release.version,
        event: args.event,
      },
      ["sentAt", "delivery"],
      this.stepOpts(opts),
    );
    return { resource };
  }
}
