import * as pulumi from "@pulumi/pulumi";
import type { Platform, RecordDraft, ReleaseRef } from "./platform";

export interface DeploymentRecordArgs {
  readonly platform: Platform;
  readonly release: ReleaseRef;
  /** The seed's deployment documentation: issue, release, date, changes, verification, issues, sign-off. */
  readonly record: pulumi.Input<RecordDraft>;
}

/** The deployment record, stored where the platform keeps such things. */
export class DeploymentRecord extends pulumi.ComponentResource {
  public readonly location: pulumi.Output<string>;

  constructor(name: string, args: DeploymentRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:record:DeploymentRecord", name, {}, opts);
    this.location = args.platform.record(
      `${name}-write`,
      { release: args.release, record: args.record },
      { parent: this, dependsOn: opts?.dependsOn },
    ).location;
    this.registerOutputs({ location: this.location });
  }
}
