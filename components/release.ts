import * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "../release";
import type { SecretValues, ServiceSettings } from "../contract";
import { ReleaseAnchor } from "./anchor";
import { Notification } from "./notification";
import type { Platform, ReleaseRef } from "./platform";
import { DeploymentRecord } from "./record";
import { buildRecordDraft } from "./record-draft";
import { releaseService, type ServiceOutcome } from "./service-release";

export { desiredBuild, type ServiceOutcome, type StackSecrets } from "./service-release";

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
  /** The stack's secrets (shipgate:secrets), which the manifest's config changes may name. */
  readonly secrets?: SecretValues;
}

/**
 * One release of a manifest, in order: anchor, notice, backup, deploy to
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

    // Services are released one after another in the manifest's order; each returns what the
    // record and the stack's outputs need.
    const released = manifest.components.map((component) => {
      const settings = args.services[component.name];
      if (!settings) {
        throw new pulumi.ResourceError(
          `shipgate:services.${component.name}: the manifest releases "${component.name}" but the stack's config ` +
            `does not say how it runs (expected at least a port)`,
          this,
        );
      }
      return releaseService({
        parent: this,
        platform,
        manifest,
        digest: args.digest,
        stack: args.stack,
        release,
        component,
        settings,
        after: [anchor, announce],
        ...(args.restoreBackup ? { restoreBackup: args.restoreBackup } : {}),
        ...(args.secrets ? { secrets: args.secrets } : {}),
      });
    });
    const byService = <T>(pick: (service: (typeof released)[number]) => T): Record<string, T> =>
      Object.fromEntries(released.map((service) => [service.name, pick(service)]));
    const outcomes = byService((service) => service.outcome);

    const record = new DeploymentRecord(
      `${name}-record`,
      {
        platform,
        release,
        // pulumi.output waits for every Output inside the object: the record is complete data.
        record: pulumi.output({
          ...buildRecordDraft({ manifest, digest: args.digest, stack: args.stack, plans: outcomes }),
          results: byService((service) => service.result),
          colors: byService((service) => service.colors),
        }),
      },
      { parent: this, dependsOn: released.map((service) => service.verification) },
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
