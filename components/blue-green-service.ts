import * as pulumi from "@pulumi/pulumi";
import type { ColorPlan, Strategy } from "./colors";
import { dependencyList, type Platform, type PlatformStep, type SlotSpec } from "./platform";

export interface BlueGreenServiceArgs {
  readonly platform: Platform;
  readonly service: string;
  /** Which colour gets the build, which stays live or warm (from planColors). */
  readonly plan: ColorPlan;
  /** The build this release deploys. */
  readonly build: SlotSpec;
  readonly strategy: Strategy;
  /** Migration ids of this release, run after the backup and before the new colour starts. */
  readonly migrations: readonly string[];
  /** The release's verified backup; required when there are migrations. */
  readonly backupId?: pulumi.Input<string>;
  /** Recreate only: the notice users get while the service is stopped. */
  readonly maintenanceMessage?: string;
  readonly release: import("./platform").ReleaseRef;
}

/**
 * A service with two colours behind a router: the live colour keeps running unchanged while the
 * idle one gets the new build (blue-green), or one colour is stopped, migrated and started in a
 * maintenance window (recreate).
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
      platform.slot(
        `${name}-${color}`,
        { service, color: color as "blue" | "green", spec },
        { parent: this, dependsOn: deps },
      );
    }

    const before: PlatformStep[] = [router];
    if (args.strategy === "recreate" && plan.live !== null && !plan.reuse) {
      before.push(
        platform.maintenance(
          `${name}-maintenance`,
          {
            service,
            stop: plan.candidate,
            release: args.release,
            message:
              args.maintenanceMessage ??
              `${service} is being upgraded to ${args.build.version}. Please retry shortly.`,
          },
          { parent: this, dependsOn: deps },
        ),
      );
    }
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
          { service, artifact: args.build.artifact, migrations: args.migrations, backupId: args.backupId },
          { parent: this, dependsOn: [...deps, ...before.map((s) => s.resource)] },
        ),
      );
    }
    const candidate = platform.slot(
      `${name}-${plan.candidate}`,
      { service, color: plan.candidate, spec: args.build },
      { parent: this, dependsOn: [...deps, ...before.map((s) => s.resource)] },
    );

    this.url = router.url;
    this.candidateUrl = candidate.url;
    this.registerOutputs({ url: this.url, candidateUrl: this.candidateUrl });
  }
}
