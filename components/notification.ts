import * as pulumi from "@pulumi/pulumi";
import type { NotificationNotice } from "../contract";
import type { Platform, ReleaseRef } from "./platform";

export interface NotificationArgs {
  readonly platform: Platform;
  readonly release: ReleaseRef;
  /** What is said, to whom, at which stage of the release. */
  readonly event: NotificationNotice;
}

/** A notification at one stage of a release, through the channel the stack names. */
export class Notification extends pulumi.ComponentResource {
  constructor(name: string, args: NotificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:notify:Notification", name, {}, opts);
    args.platform.notification(
      `${name}-send`,
      { release: args.release, event: args.event },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.registerOutputs({});
  }
}
