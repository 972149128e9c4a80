import * as pulumi from "@pulumi/pulumi";
import type { Color, Platform, ReleaseRef } from "./platform";

export interface TrafficSwitchArgs {
  readonly platform: Platform;
  readonly service: string;
  readonly release: ReleaseRef;
  /** The colour users are sent to. */
  readonly color: Color;
  /** That colour's address, registered with the router. */
  readonly target: pulumi.Input<string>;
  /** How long the previous colour stays warm after the switch. */
  readonly warmWindowMinutes: number;
}

/** Sends users to a colour without dropping a request. Ordered after the pre-promotion gate. */
export class TrafficSwitch extends pulumi.ComponentResource {
  public readonly active: pulumi.Output<Color>;
  public readonly switchedAt: pulumi.Output<string>;

  constructor(name: string, args: TrafficSwitchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:traffic:TrafficSwitch", name, {}, opts);
    const { platform, ...route } = args;
    const step = platform.trafficSwitch(`${name}-route`, route, { parent: this, dependsOn: opts?.dependsOn });
    this.active = step.active;
    this.switchedAt = step.switchedAt;
    this.registerOutputs({ active: this.active, switchedAt: this.switchedAt });
  }
}
