import * as pulumi from "@pulumi/pulumi";
import type { ColorPlan } from "./colors";
import {
  dependencyList,
  type Platform,
  type PlatformStep,
  type SlotSecrets,
  type SlotSpec,
} from "./platform";

export interface BlueGreenServiceArgs {
  readonly platform: Platform;
  readonly service: string;
  /** Which colour gets the build, which stays live or warm (from planColors). */
  readonly plan: ColorPlan;
  /** The build this release deploys. */
  readonly build: SlotSpec;
  /** Migration ids of this release, run after the backup and before the new colour starts. */
  readonly migrations: readonly string[];
  /** The release's verified backup; required when there are migrations. */
  readonly backupId?: pulumi.Input<string>;
  /** The release, whose key re-runs the steps. */
  readonly release: import("./platform").ReleaseRef;
  /** The secret values a colour running a spec needs (a Pulumi secret), or undefined for none. */
  readonly secretsFor?: (spec: SlotSpec) => SlotSecrets | undefined;
}

/**
 * A service with two colours behind a router: the live colour keeps running unchanged while the
 * idle one gets the new build (blue-green), or, for the recreate strategy, the colour the release's
 * maintenance window stopped is migrated and started again with the new build.
 */
export class BlueGreenService extends pulumi.ComponentResource {
  /** Where users are served. */
  public readonly url: pulumi.Output<string>;
  /** The candidate colour's own address, for the pre-promotion gate. */
  public readonly candidateUrl: pulumi.Output<string>;

  constructor(name: string, args: BlueGreenServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("shipgate:deploy:BlueGreenService", name, {}, opts);
    const deps = dependencyList(opts?.dependsOn);
    const { platform, plan, service } = args;
    const router = platform.router(`${name}-router`, { service }, { parent: this, dependsOn: deps });

    for (const [color, spec] of Object.entries(plan.keep)) {
      if (color === plan.candidate || !spec) continue;
      const secrets = args.secretsFor?.(spec);
      platform.slot(
        `${name}-${color}`,
        {
          service,
          color: color as "blue" | "green",
          spec,
          release: args.release,
          ...(secrets ? { secrets } : {}),
        },
        { parent: this, dependsOn: deps },
      );
    }

    const before: PlatformStep[] = [router];
    if (args.migrations.length > 0) {
      if (args.backupId === undefined) {
        throw new pulumi.ResourceError(
          `${service}: the release migrates data (${args.migrations.join(", ")}) but has no backup to return to; ` +
            `mark the service stateful in shipgate:services.${service}.stateful`,
          this,
        );
      }
      before.push(
        platform.migration(
          `${name}-migrate`,
          {
            service,
            artifact: args.build.artifact,
            migrations: args.migrations,
            backupId: args.backupId,
            release: args.release,
          },
          { parent: this, dependsOn: [...deps, ...before.map((s) => s.resource)] },
        ),
      );
    }
    const candidateSecrets = args.secretsFor?.(args.build);
    const candidate = platform.slot(
      `${name}-${plan.candidate}`,
      {
        service,
        color: plan.candidate,
        spec: args.build,
        release: args.release,
        ...(candidateSecrets ? { secrets: candidateSecrets } : {}),
      },
      { parent: this, dependsOn: [...deps, ...before.map((s) => s.resource)] },
    );

    this.url = router.url;
    this.candidateUrl = candidate.url;
    this.registerOutputs({ url: this.url, candidateUrl: this.candidateUrl });
  }
}
