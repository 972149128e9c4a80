// The local platform: every step of a release as a Node.js dynamic resource whose logic lives in
// platforms/local/handlers (compiled to dist/ and loaded by the provider process at call time).
import * as pulumi from "@pulumi/pulumi";
import type {
  BackupStep,
  Color,
  GateStep,
  VerificationStep,
  ObservedService,
  Platform,
  PlatformAdapter,
  PlatformStep,
  RecordStep,
  ReleaseRef,
  RouterStep,
  RecordSummary,
  SlotSpec,
  SlotStep,
  StepOptions,
  SwitchStep,
} from "../../components/platform";
import type { ServiceSettings } from "../../contract";
import { readFileSync, readdirSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { join } from "node:path";
import { digestOfFiles, listTreeFilesSync } from "./artifact-ops";
import { LATEST_RECORD_FILE, parseDeploymentRecord } from "./record-ops";
import { Directory } from "./directory";
import { notificationsLog, recordsDir, servicePaths, servicePorts } from "./layout";
import { observeLocalService } from "./observe";
import { LocalResource } from "./resource";

export { localKinds, localType, type LocalKind } from "./resource";

export interface LocalPlatformArgs {
  /** The project folder (the engine's working directory). */
  readonly projectDir: string;
  /** The stack's working folder, relative to the project (shipgate:workDir). */
  readonly workDir: string;
  readonly services: Readonly<Record<string, ServiceSettings>>;
  readonly webhookUrl?: string;
}

export class LocalPlatform implements Platform {
  public readonly name = "local" as const;

  constructor(private readonly args: LocalPlatformArgs) {}

  private settings(service: string): ServiceSettings {
    const settings = this.args.services[service];
    if (!settings) {
      throw new Error(
        `shipgate:services.${service}: the manifest releases "${service}" but the stack's config does not say how it runs ` +
          `(expected at least a port). Add it under shipgate:services in the stack's config.`,
      );
    }
    return settings;
  }

  /** The stack's webhook URL as a secret input (it may carry a token), or null for none. */
  private webhookUrl(): pulumi.Output<string> | null {
    return this.args.webhookUrl ? pulumi.secret(this.args.webhookUrl) : null;
  }

  /**
   * The inputs a step needs to record its own failure (failure-ops.ts): the service's record draft,
   * what served users, where records and notifications go, the router to ask and the webhook.
   * None for a step outside a service's release.
   */
  private failureInputs(service: string, release: ReleaseRef | undefined): Record<string, unknown> {
    if (release?.failure === undefined) return {};
    const { failure } = release;
    return {
      failure: {
        service,
        release: { changeId: release.changeId, version: release.version, key: release.key },
        record: failure.record,
        served: failure.served,
        candidate: failure.candidate,
        restarts: failure.restarts,
        recordsDir: recordsDir(this.args.workDir),
        notificationsLog: notificationsLog(this.args.workDir),
        adminPort: servicePorts(this.settings(service).port).admin,
      },
      webhookUrl: this.webhookUrl(),
    };
  }

  private opts(opts: StepOptions): pulumi.CustomResourceOptions {
    return { parent: opts.parent, dependsOn: opts.dependsOn };
  }

  observe(service: string): ObservedService {
    return observeLocalService(this.args.projectDir, this.args.workDir, service);
  }

  lastRecordOf(release: { readonly key: string; readonly digest: string }): RecordSummary | undefined {
    const [changeId, version] = [
      release.key.slice(0, release.key.lastIndexOf("@")),
      release.key.slice(release.key.lastIndexOf("@") + 1),
    ];
    const dir = join(this.args.projectDir, recordsDir(this.args.workDir));
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => name.endsWith(".json") && name !== LATEST_RECORD_FILE);
    } catch {
      return undefined; // no records yet
    }
    const found: RecordSummary[] = [];
    for (const name of names) {
      const parsed = parseDeploymentRecord(JSON.parse(readFileSync(join(dir, name), "utf8")));
      if (!parsed.ok) continue;
      const record = parsed.value;
      if (record.issue.changeId !== changeId || record.release.version !== version) continue;
      if (record.release.digest !== release.digest) continue;
      found.push({ id: name.slice(0, -".json".length), outcome: record.outcome, date: record.date });
    }
    return found.sort((a, b) => Date.parse(b.date) - Date.parse(a.date) || (a.id < b.id ? 1 : -1))[0];
  }

  /**
   * The build must hold only regular files and folders and have the manifest's digest. A build a
   * colour already runs with this very spec was checked when it was deployed, and is not copied again.
   */
  checkBuild(service: string, spec: SlotSpec): void {
    const running = Object.values(this.observe(service).slots).some((slot) => isDeepStrictEqual(slot, spec));
    if (running) return;
    const dir = `${spec.artifact.source}/${spec.artifact.version}`;
    let digest: string;
    try {
      digest = digestOfFiles(listTreeFilesSync(join(this.args.projectDir, dir)));
    } catch (error) {
      const missing = error instanceof Error && "code" in error && error.code === "ENOENT";
      const reason = missing
        ? `${dir} does not exist`
        : error instanceof Error
          ? error.message
          : String(error);
      throw new Error(
        `The build of ${service} ${spec.version} cannot be released: ${reason}. ` +
          `Nothing was changed; put the approved build in ${dir} and release again.`,
      );
    }
    if (digest !== spec.artifact.digest) {
      throw new Error(
        `The build of ${service} ${spec.version} in ${dir} has digest ${digest}, but the manifest pins ` +
          `${spec.artifact.digest}: the build changed after it was approved, or is another build. ` +
          `Nothing was changed; restore the approved build (or approve a manifest for this one) and release again.`,
      );
    }
  }

  /**
   * The stack's working folder, where releases keep their data, backups and records. It waits for
   * `dependsOn` (the release anchor), so an unapproved release changes nothing at all.
   */
  workspace(opts: { dependsOn: pulumi.Resource[] }): {
    resource: pulumi.Resource;
    path: pulumi.Output<string>;
  } {
    const directory = new Directory(
      "workdir",
      { path: this.args.workDir, removeOnDelete: "ifEmpty" },
      { dependsOn: opts.dependsOn },
    );
    return { resource: directory, path: directory.absolutePath };
  }

  router(name: string, args: { service: string }, opts: StepOptions): RouterStep {
    const ports = servicePorts(this.settings(args.service).port);
    const paths = servicePaths(this.args.workDir, args.service);
    const resource = new LocalResource(
      "Router",
      name,
      { service: args.service, dir: paths.routerDir, port: ports.router, adminPort: ports.admin },
      ["pid", "url", "running"],
      this.opts(opts),
    );
    return { resource, url: resource.output<string>("url") };
  }

  slot(name: string, args: Parameters<Platform["slot"]>[1], opts: StepOptions): SlotStep {
    const settings = this.settings(args.service);
    const paths = servicePaths(this.args.workDir, args.service);
    const resource = new LocalResource(
      "Slot",
      name,
      {
        service: args.service,
        color: args.color,
        dir: paths.slot(args.color).dir,
        dataDir: paths.dataDir,
        port: servicePorts(settings.port).slot[args.color],
        command: settings.command,
        spec: args.spec,
        artifactDir: `${args.spec.artifact.source}/${args.spec.artifact.version}`,
        // The values reach the process through its environment only: never its spec file.
        ...(args.secrets ? { secrets: pulumi.secret(args.secrets) } : {}),
        keepFailedBuilds: settings.keepFailedBuilds,
        ...this.failureInputs(args.service, args.release),
      },
      ["pid", "url", "running", "startedAt"],
      this.opts(opts),
    );
    return { resource, url: resource.output<string>("url") };
  }

  backup(
    name: string,
    args: { service: string; release: import("../../components/platform").ReleaseRef },
    opts: StepOptions,
  ): BackupStep {
    const settings = this.settings(args.service);
    const paths = servicePaths(this.args.workDir, args.service);
    const resource = new LocalResource(
      "Backup",
      name,
      {
        service: args.service,
        dataDir: paths.dataDir,
        backupRoot: paths.backupsDir,
        backupId: `${args.release.changeId}-${args.release.version}`.replace(/[^A-Za-z0-9._-]/g, "_"),
        keep: settings.keepBackups,
        ...this.failureInputs(args.service, args.release),
      },
      ["digest", "files", "bytes", "createdAt", "path"],
      this.opts(opts),
    );
    return {
      resource,
      backupId: resource.output<string>("backupId"),
      digest: resource.output<string>("digest"),
      createdAt: resource.output<string>("createdAt"),
    };
  }

  restore(
    name: string,
    args: { service: string; backupId: string; release?: ReleaseRef },
    opts: StepOptions,
  ): PlatformStep {
    const paths = servicePaths(this.args.workDir, args.service);
    const resource = new LocalResource(
      "Restore",
      name,
      {
        service: args.service,
        dataDir: paths.dataDir,
        backupRoot: paths.backupsDir,
        backupId: args.backupId,
        ...this.failureInputs(args.service, args.release),
      },
      ["restoredDigest", "previousDataDir", "restoredAt"],
      this.opts(opts),
    );
    return { resource };
  }

  migration(
    name: string,
    args: {
      service: string;
      artifact: import("../../components/platform").ArtifactRef;
      migrations: readonly string[];
      backupId: pulumi.Input<string>;
      release?: ReleaseRef;
    },
    opts: StepOptions,
  ): PlatformStep {
    const paths = servicePaths(this.args.workDir, args.service);
    const resource = new LocalResource(
      "Migration",
      name,
      {
        service: args.service,
        artifactDir: `${args.artifact.source}/${args.artifact.version}`,
        digest: args.artifact.digest,
        migrations: [...args.migrations],
        dataDir: paths.dataDir,
        backupId: args.backupId,
        ...this.failureInputs(args.service, args.release),
      },
      ["applied", "migratedAt"],
      this.opts(opts),
    );
    return { resource };
  }

  maintenance(
    name: string,
    args: {
      service: string;
      stop: Color | null;
      release: import("../../components/platform").ReleaseRef;
      message: string;
    },
    opts: StepOptions,
  ): PlatformStep {
    const settings = this.settings(args.service);
    const paths = servicePaths(this.args.workDir, args.service);
    const resource = new LocalResource(
      "Maintenance",
      name,
      {
        service: args.service,
        releaseKey: args.release.key,
        adminPort: servicePorts(settings.port).admin,
        message: args.message,
        stopPidFile: args.stop ? paths.slot(args.stop).pidFile : null,
        ...this.failureInputs(args.service, args.release),
      },
      ["startedAt", "drained"],
      this.opts(opts),
    );
    return { resource };
  }

  gate(name: string, args: Parameters<Platform["gate"]>[1], opts: StepOptions): GateStep {
    const resource = new LocalResource(
      "Gate",
      name,
      {
        service: args.service,
        releaseKey: args.release.key,
        target: args.target,
        digest: args.artifact.digest,
        checks: args.checks,
        policy: args.policy,
        notificationsLog: notificationsLog(this.args.workDir),
        slotDir: servicePaths(this.args.workDir, args.service).slot(args.color).dir,
        keepFailedBuilds: this.settings(args.service).keepFailedBuilds,
        // Only to redact a failed build kept for inspection: the gate's outputs never hold them.
        ...(args.secrets ? { secrets: pulumi.secret(args.secrets) } : {}),
        ...this.failureInputs(args.service, args.release),
      },
      ["verdict", "rounds", "passedAt"],
      this.opts(opts),
    );
    return {
      resource,
      verdict: resource.output<"passed">("verdict"),
      rounds: resource.output<number | null>("rounds"),
      passedAt: resource.output<string>("passedAt"),
    };
  }

  trafficSwitch(name: string, args: Parameters<Platform["trafficSwitch"]>[1], opts: StepOptions): SwitchStep {
    const settings = this.settings(args.service);
    const resource = new LocalResource(
      "Switch",
      name,
      {
        service: args.service,
        releaseKey: args.release.key,
        adminPort: servicePorts(settings.port).admin,
        color: args.color,
        target: args.target,
        warmWindowMinutes: args.warmWindowMinutes,
        switchFile: servicePaths(this.args.workDir, args.service).switchFile,
        ...this.failureInputs(args.service, args.release),
      },
      ["active", "previous", "switchedAt"],
      this.opts(opts),
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
    const settings = this.settings(args.service);
    const resource = new LocalResource(
      "Verification",
      name,
      {
        service: args.service,
        releaseKey: args.release.key,
        url: args.url,
        adminPort: servicePorts(settings.port).admin,
        checks: args.checks,
        spec: args.spec,
        fastTrack: args.fastTrack,
        promoted: args.promoted,
        rollbackTo: args.rollbackTo,
        switchFile: servicePaths(this.args.workDir, args.service).switchFile,
        record: args.record,
        recordsDir: recordsDir(this.args.workDir),
        notificationsLog: notificationsLog(this.args.workDir),
        ...this.failureInputs(args.service, args.release),
        webhookUrl: this.webhookUrl(),
      },
      ["verdict", "errorRate", "p95LatencyMs", "verifiedAt", "fastTrackBakeMs"],
      this.opts(opts),
    );
    return {
      resource,
      verdict: resource.output<"passed">("verdict"),
      errorRate: resource.output<number | null>("errorRate"),
      p95LatencyMs: resource.output<number | null>("p95LatencyMs"),
      verifiedAt: resource.output<string>("verifiedAt"),
      fastTrackBakeMs: resource.output<number | null | undefined>("fastTrackBakeMs"),
    };
  }

  record(name: string, args: Parameters<Platform["record"]>[1], opts: StepOptions): RecordStep {
    const resource = new LocalResource(
      "Record",
      name,
      {
        releaseKey: args.release.key,
        dir: recordsDir(this.args.workDir),
        record: args.record,
        retention: Object.fromEntries(
          Object.entries(this.args.services).map(([service, settings]) => [
            service,
            { backupRoot: servicePaths(this.args.workDir, service).backupsDir, keep: settings.keepBackups },
          ]),
        ),
      },
      ["jsonPath", "markdownPath"],
      this.opts(opts),
    );
    return { resource, location: resource.output<string>("markdownPath") };
  }

  notification(name: string, args: Parameters<Platform["notification"]>[1], opts: StepOptions): PlatformStep {
    const resource = new LocalResource(
      "Notification",
      name,
      {
        releaseKey: args.release.key,
        changeId: args.release.changeId,
        version: args.release.version,
        event: args.event,
        logFile: notificationsLog(this.args.workDir),
        webhookUrl: this.webhookUrl(),
      },
      ["sentAt", "webhook"],
      this.opts(opts),
    );
    return { resource };
  }
}

/** The local platform as the program composes it: no settings of its own beyond shipgate:services. */
export const localAdapter: PlatformAdapter = {
  name: "local",
  create: (context) =>
    new LocalPlatform({
      projectDir: context.projectDir,
      workDir: context.workDir,
      services: context.services,
      ...(context.webhookUrl ? { webhookUrl: context.webhookUrl } : {}),
    }),
};
