import * as pulumi from "@pulumi/pulumi";
import type { Platform, ReleaseRef } from "./platform";

export interface BackupArgs {
  readonly platform: Platform;
  /** The service whose data is backed up. */
  readonly service: string;
  /** The release the backup belongs to: each release takes its own. */
  readonly release: ReleaseRef;
}

/** A verified backup of a service's data, taken before any migration or deployment step. */
export class Backup extends pulumi.ComponentResource {
  public readonly backupId: pulumi.Output<string>;
  public readonly digest: pulumi.Output<string>;
  public readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:backup:Backup", name, {}, opts);
    const step = args.platform.backup(
      `${name}-data`,
      { service: args.service, release: args.release },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.backupId = step.backupId;
    this.digest = step.digest;
    this.createdAt = step.createdAt;
    this.registerOutputs({ backupId: this.backupId, digest: this.digest, createdAt: this.createdAt });
  }
}
