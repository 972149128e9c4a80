import * as pulumi from "@pulumi/pulumi";
import type { GatePolicy, ResolvedHttpCheck } from "../contract";
import type { ArtifactRef, Color, Platform, ReleaseRef, SlotSecrets } from "./platform";

export interface HealthGateArgs {
  readonly platform: Platform;
  readonly service: string;
  readonly release: ReleaseRef;
  /** The candidate colour. */
  readonly color: Color;
  /** The candidate colour's own address (not the users' one). */
  readonly target: pulumi.Input<string>;
  /** The candidate's build: the gate runs again whenever it changes. */
  readonly artifact: ArtifactRef;
  /** Technical checks (up, healthy, right version, fast enough) and business checks (smoke requests). */
  readonly checks: readonly ResolvedHttpCheck[];
  readonly policy: GatePolicy;
  /**
   * The values of the candidate's secret variables, when it has any: a platform that keeps a failed
   * build for inspection redacts them from what it keeps. Never used to judge.
   */
  readonly secrets?: SlotSecrets;
}

/**
 * The pre-promotion gate: checks the candidate colour before any user reaches it. A failing gate
 * fails the update, so the switch that depends on it never happens and the live colour keeps serving.
 */
export class HealthGate extends pulumi.ComponentResource {
  /** Rounds of checks it took to pass (null where the platform cannot read it back). */
  public readonly rounds: pulumi.Output<number | null>;
  public readonly passedAt: pulumi.Output<string>;

  constructor(name: string, args: HealthGateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:gate:HealthGate", name, {}, opts);
    const { platform, ...gate } = args;
    const step = platform.gate(`${name}-checks`, gate, { parent: this, dependsOn: opts?.dependsOn });
    this.rounds = step.rounds;
    this.passedAt = step.passedAt;
    this.registerOutputs({ rounds: this.rounds, passedAt: this.passedAt });
  }
}
