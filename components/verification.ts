import * as pulumi from "@pulumi/pulumi";
import type { ResolvedHttpCheck, VerificationPolicy } from "../contract";
import type { Color, Platform, RecordDraft, ReleaseRef } from "./platform";

export interface PostPromotionVerificationArgs {
  readonly platform: Platform;
  readonly service: string;
  readonly release: ReleaseRef;
  /** Where users are served. */
  readonly url: pulumi.Input<string>;
  readonly checks: readonly ResolvedHttpCheck[];
  /** Bake time, probe interval, error budget and latency bound: the service's policy. */
  readonly spec: VerificationPolicy;
  /**
   * True for a fast-tracked rollback (contract/judge.ts `fastTrackRollback`): the step bakes
   * `verificationPolicyFor(spec, true)`, and the policies bound that bake by their own limit.
   */
  readonly fastTrack: boolean;
  readonly promoted: Color;
  /** Where traffic goes back when verification fails (null on a first release: nowhere to go). */
  readonly rollbackTo: Color | null;
  /** The deployment record so far, completed and written when verification fails. */
  readonly record: pulumi.Input<RecordDraft>;
}

/**
 * Watches the promoted colour under real traffic for a bake time. On failure it sends traffic back
 * to the previous colour without anyone acting, writes the record, and fails the update naming the
 * rollback trigger (system failure, errors, performance, business impact).
 */
export class PostPromotionVerification extends pulumi.ComponentResource {
  public readonly errorRate: pulumi.Output<number | null>;
  public readonly p95LatencyMs: pulumi.Output<number | null>;
  public readonly verifiedAt: pulumi.Output<string>;
  /** The bake a fast-tracked rollback ran (null: a full bake; undefined: a step from before). */
  public readonly fastTrackBakeMs: pulumi.Output<number | null | undefined>;

  constructor(name: string, args: PostPromotionVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:verify:PostPromotionVerification", name, {}, opts);
    const { platform, ...verification } = args;
    const step = platform.verification(`${name}-bake`, verification, {
      parent: this,
      dependsOn: opts?.dependsOn,
    });
    this.errorRate = step.errorRate;
    this.p95LatencyMs = step.p95LatencyMs;
    this.verifiedAt = step.verifiedAt;
    this.fastTrackBakeMs = step.fastTrackBakeMs;
    this.registerOutputs({
      errorRate: this.errorRate,
      p95LatencyMs: this.p95LatencyMs,
      verifiedAt: this.verifiedAt,
    });
  }
}
