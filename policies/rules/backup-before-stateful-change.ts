import type { StackValidationPolicy } from "@pulumi/policy";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { dependsOn } from "../lib/graph";
import { type ReleaseRole, resourcesWithRole, serviceOf } from "../lib/roles";

export interface BackupBeforeStatefulChangeConfig {
  /** Services that keep no data. Every other service is stateful, whatever the stack's config says. */
  readonly statelessServices: string[];
  /** Roles of the steps that change a stateful service. */
  readonly statefulRoles: string[];
}

export const backupBeforeStatefulChangeDefaults: BackupBeforeStatefulChangeConfig = {
  statelessServices: [],
  statefulRoles: ["migration", "restore", "slot"],
};

/**
 * The seed's "backup complete" before the change: every migration, restore and deployment of a
 * stateful service waits for a backup of that service. Which services are stateless is the platform
 * team's call (this policy's config), not the release's: a stack marked stateless by mistake is caught.
 */
export const backupBeforeStatefulChange: StackValidationPolicy = {
  name: "backup-before-stateful-change",
  description:
    "Every migration, restore and deployment of a stateful service must depend, directly or transitively, on a backup of that service.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Mark the service stateful in the stack's config (shipgate:services.<name>.stateful: true) so the release backs it up first, or list it in statelessServices if it keeps no data.",
  configSchema: configSchema(backupBeforeStatefulChangeDefaults, {
    statelessServices: stringList,
    statefulRoles: stringList,
  }),
  validateStack: (args, reportViolation) => {
    const config = withDefaults(backupBeforeStatefulChangeDefaults, args.getConfig());
    const backups = resourcesWithRole(args.resources, "backup");
    for (const role of config.statefulRoles as ReleaseRole[]) {
      for (const change of resourcesWithRole(args.resources, role)) {
        const service = serviceOf(change);
        if (service === undefined || config.statelessServices.includes(service)) continue;
        if (backups.some((backup) => serviceOf(backup) === service && dependsOn(change, backup))) continue;
        reportViolation(
          `Back up ${service} before ${role} ${change.name}: it changes a stateful service and waits for no backup ` +
            `of it. Set shipgate:services.${service}.stateful to true in the stack's config, or list ${service} ` +
            `in this policy's statelessServices if it keeps no data.`,
          change.urn,
        );
      }
    }
  },
};
