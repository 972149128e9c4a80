import * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "../release";
import type { ServiceSettings } from "../contract";
import { ReleaseAnchor } from "./anchor";
import { Backup } from "./backup";
import { BlueGreenService } from "./blue-green-service";
import { releaseChecks } from "./checks";
import { planColors, type ColorPlan } from "./colors";
import { Notification } from "./notification";
import type { Platform, ReleaseRef, SlotSpec } from "./platform";
import { DeploymentRecord } from "./record";
import { buildRecordDraft } from "./record-draft";
import { HealthGate } from "./health-gate";
import { TrafficSwitch } from "./traffic-switch";
import { PostPromotionVerification } from "./verification";

export interface ReleaseArgs {
  readonly platform: Platform;
  /** The validated manifest and its canonical digest. */
  readonly manifest: Manifest;
  readonly digest: string;
  /** Where the manifest was read from, relative to the project. */
  readonly manifestPath: string;
  readonly stack: string;
  /** How each service runs on this stack (shipgate:services). */
  readonly services: Readonly<Record<string, ServiceSettings>>;
  /** Rollback with data restore: the backup to restore before the switch. */
  readonly restoreBackup?: string;
}

export interface ServiceOutcome {
  readonly url: pulumi.Output<string>;
  readonly activeColor: pulumi.Output<string>;
  readonly version: string;
  readonly plan: ColorPlan;
}

/** The desired build of a manifest component on a stack. */
export function desiredBuild(component: Manifest["components"][number], settings: ServiceSettings): SlotSpec {
  const { digest, version } = component.artifact;
  if (!digest || !version) {
    throw new Error(
      `components.${component.name}.artifact: expected both a version and a digest to deploy ${component.name} ` +
        `(the version finds the build, the digest pins it)`,
    );
  }
  const env: Record<string, string> = {};
  for (const change of component.configChanges ?? []) {
    env[change.key] = typeof change.value === "string" ? change.value : JSON.stringify(change.value);
  }
  return {
    version,
    artifact: { source: settings.artifacts ?? component.artifact.source, version, digest },
    env,
  };
}

/**
 * One release of a manifest, in the order of the design brief: anchor, notice, backup, deploy to
 * the idle colour, pre-promotion gate, switch, post-promotion verification, record, notice.
 */
export class Release extends pulumi.ComponentResource {
  /** The release anchor: anything else the program does for the release should depend on it. */
  public readonly anchor: ReleaseAnchor;
  public readonly services: Readonly<Record<string, ServiceOutcome>>;
  public readonly recordLocation: pulumi.Output<string>;

  constructor(name: string, args: ReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:release:Release", name, {}, opts);
    const { manifest, platform } = args;
    const release: ReleaseRef = {
      changeId: manifest.changeId,
      version: manifest.version,
      // A rollback with data restore is its own release event: every step runs again, and the
      // switch at the end lifts the restore's maintenance window.
      key: `${manifest.changeId}@${manifest.version}${args.restoreBackup ? `+restore:${args.restoreBackup}` : ""}`,
    };

    const anchor = new ReleaseAnchor(
      `${name}-anchor`,
      {
        evidence: {
          changeId: manifest.changeId,
          version: manifest.version,
          deploymentType: manifest.deploymentType,
          digest: args.digest,
          manifest,
          manifestPath: args.manifestPath,
          stack: args.stack,
        },
      },
      { parent: this },
    );

    const announce = new Notification(
      `${name}-announce`,
      {
        platform,
        release,
        event: {
          stage: "starting",
          message: `Release ${release.key} (${manifest.title ?? manifest.deploymentType}) is starting.`,
          severity: "info",
          audience: ["users", "team", "support", "management"],
        },
      },
      { parent: this, dependsOn: [anchor] },
    );

    const outcomes: Record<string, ServiceOutcome> = {};
    const results: Record<string, pulumi.Output<unknown>> = {};
    const colors: Record<string, { active: string; previous: string | null }> = {};
    const verifications: pulumi.Resource[] = [];
    const strategy = manifest.strategy.type;
    for (const component of manifest.components) {
      const settings = args.services[component.name];
      if (!settings) {
        throw new pulumi.ResourceError(
          `shipgate:services.${component.name}: the manifest releases "${component.name}" but the stack's config ` +
            `does not say how it runs (expected at least a port)`,
          this,
        );
      }
      const build = desiredBuild(component, settings);
      const plan = planColors(platform.observe(component.name), build, strategy, {
        minutes: settings.warmWindowMinutes,
        now: new Date(),
      });
      const after: pulumi.Resource[] = [anchor, announce];

      if (strategy === "recreate" && plan.live !== null && !plan.reuse) {
        // The recreate strategy stops the service before anything else, so the backup below is a
        // copy of data nobody writes to any more: users are told, then get the maintenance response
        // while requests in flight finish and the running colour stops.
        const message =
          manifest.strategy.type === "recreate"
            ? manifest.strategy.maintenanceWindow.userMessage
            : `${component.name} is being upgraded to ${build.version}. Please retry shortly.`;
        const notice = new Notification(
          `${component.name}-maintenance-notice`,
          {
            platform,
            release,
            event: { stage: "maintenance", message, severity: "warning", audience: ["users", "support"] },
          },
          { parent: this, dependsOn: [...after] },
        );
        after.push(notice);
        after.push(
          platform.maintenance(
            `${component.name}-maintenance`,
            { service: component.name, stop: plan.candidate, release, message },
            { parent: this, dependsOn: [...after] },
          ).resource,
        );
      }

      let backupId: pulumi.Output<string> | undefined;
      let backup: Backup | undefined;
      if (settings.stateful) {
        backup = new Backup(
          `${component.name}-backup`,
          { platform, service: component.name, release },
          { parent: this, dependsOn: [...after] },
        );
        backupId = backup.backupId;
        after.push(backup);
      }
      if (args.restoreBackup) {
        // Rollback with data restore: no user may write to the data while it is swapped, so the
        // restore happens behind the maintenance response; the switch at the end lifts it.
        const maintenance = platform.maintenance(
          `${component.name}-restore-window`,
          {
            service: component.name,
            stop: null,
            release,
            message: `${component.name} is being restored to ${build.version}. Please retry shortly.`,
          },
          { parent: this, dependsOn: [...after] },
        );
        after.push(maintenance.resource);
        after.push(
          platform.restore(
            `${component.name}-restore`,
            { service: component.name, backupId: args.restoreBackup },
            { parent: this, dependsOn: [...after] },
          ).resource,
        );
      }

      const migrations = (component.database?.migrations ?? []).map((m) => m.id);
      const service = new BlueGreenService(
        component.name,
        {
          platform,
          service: component.name,
          plan,
          build,
          migrations,
          release,
          ...(backupId ? { backupId } : {}),
        },
        { parent: this, dependsOn: after },
      );
      const checks = releaseChecks({
        service: component.name,
        healthPath: settings.healthPath,
        version: build.version,
        maxLatencyMs: settings.maxLatencyMs,
        smoke: settings.smoke,
      });
      const gate = new HealthGate(
        `${component.name}-gate`,
        {
          platform,
          service: component.name,
          release,
          color: plan.candidate,
          target: service.candidateUrl,
          artifact: build.artifact,
          checks,
          policy: settings.gate,
        },
        { parent: this, dependsOn: [service] },
      );
      const traffic = new TrafficSwitch(
        `${component.name}-switch`,
        {
          platform,
          service: component.name,
          release,
          color: plan.candidate,
          target: service.candidateUrl,
          warmWindowMinutes: settings.warmWindowMinutes,
        },
        { parent: this, dependsOn: [gate] },
      );
      const verification = new PostPromotionVerification(
        `${component.name}-verify`,
        {
          platform,
          service: component.name,
          release,
          url: service.url,
          checks,
          spec: settings.verification,
          promoted: plan.candidate,
          rollbackTo: plan.live !== null && plan.live !== plan.candidate ? plan.live : null,
          record: buildRecordDraft({
            manifest,
            digest: args.digest,
            stack: args.stack,
            service: component.name,
            plan,
            build,
          }),
        },
        { parent: this, dependsOn: [traffic] },
      );
      verifications.push(verification);
      outcomes[component.name] = {
        url: service.url,
        activeColor: traffic.active,
        version: build.version,
        plan,
      };
      const backupInfo = backup
        ? pulumi
            .all([backup.backupId, backup.digest, backup.createdAt])
            .apply(([id, digest, at]) => ({ id, digest, at }))
        : pulumi.output(null);
      results[component.name] = pulumi
        .all([
          backupInfo,
          gate.rounds,
          gate.passedAt,
          traffic.switchedAt,
          verification.errorRate,
          verification.p95LatencyMs,
          verification.verifiedAt,
        ])
        .apply(([backupResult, rounds, passedAt, switchedAt, errorRate, p95LatencyMs, verifiedAt]) => ({
          backup: backupResult,
          gate: { verdict: "passed", rounds, at: passedAt },
          switchedAt,
          verification: { verdict: "passed", errorRate, p95LatencyMs, at: verifiedAt },
        }));
      colors[component.name] = {
        active: plan.candidate,
        previous: plan.live !== plan.candidate ? plan.live : null,
      };
    }

    const record = new DeploymentRecord(
      `${name}-record`,
      {
        platform,
        release,
        record: pulumi.all(results).apply((serviceResults) => ({
          ...buildRecordDraft({ manifest, digest: args.digest, stack: args.stack, plans: outcomes }),
          results: serviceResults,
          colors,
        })),
      },
      { parent: this, dependsOn: verifications },
    );
    new Notification(
      `${name}-complete`,
      {
        platform,
        release,
        event: {
          stage: "completed",
          message: `Release ${release.key} is live and verified.`,
          severity: "info",
          audience: ["users", "team", "support", "management"],
        },
      },
      { parent: this, dependsOn: [record] },
    );

    this.anchor = anchor;
    this.services = outcomes;
    this.recordLocation = record.location;
    this.registerOutputs({ recordLocation: this.recordLocation });
  }
}
