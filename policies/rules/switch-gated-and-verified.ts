import type { StackValidationPolicy } from "@pulumi/policy";
import { configSchema, withDefaults } from "../lib/config";
import { dependsOn } from "../lib/graph";
import { resourcesWithRole, serviceOf } from "../lib/roles";

export interface SwitchGatedAndVerifiedConfig {
  /** Whether a post-promotion verification must follow every switch. */
  readonly requireVerification: boolean;
}

export const switchGatedAndVerifiedDefaults: SwitchGatedAndVerifiedConfig = { requireVerification: true };

/**
 * The brief's order of a release: a traffic switch happens only after the candidate passed its
 * pre-promotion gate, and post-promotion verification watches it afterwards (and rolls back).
 * Checked on the resource graph, so it holds whichever platform implements the steps.
 */
export const switchGatedAndVerified: StackValidationPolicy = {
  name: "switch-gated-and-verified",
  description:
    "Every traffic switch must depend, directly or transitively, on a pre-promotion health gate of its service and be followed by post-promotion verification of that service.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Compose the release with shipgate's components: HealthGate before TrafficSwitch (dependsOn) and PostPromotionVerification after it.",
  configSchema: configSchema(switchGatedAndVerifiedDefaults, { requireVerification: { type: "boolean" } }),
  validateStack: (args, reportViolation) => {
    const config = withDefaults(switchGatedAndVerifiedDefaults, args.getConfig());
    const gates = resourcesWithRole(args.resources, "gate");
    const verifications = resourcesWithRole(args.resources, "verification");
    for (const traffic of resourcesWithRole(args.resources, "switch")) {
      const service = serviceOf(traffic);
      const sameService = (resource: (typeof gates)[number]) =>
        service === undefined || serviceOf(resource) === service;
      const label = service === undefined ? traffic.name : `${traffic.name} of ${service}`;
      if (!gates.some((gate) => sameService(gate) && dependsOn(traffic, gate))) {
        reportViolation(
          `Make switch ${label} depend on a pre-promotion health gate of ${service ?? "its service"}: ` +
            `no gate runs before it, so an unchecked version could take users' traffic.`,
          traffic.urn,
        );
      }
      if (
        config.requireVerification &&
        !verifications.some((verification) => sameService(verification) && dependsOn(verification, traffic))
      ) {
        reportViolation(
          `Add post-promotion verification after switch ${label}: nothing watches the new version once it ` +
            `serves users, so no rollback trigger can fire.`,
          traffic.urn,
        );
      }
    }
  },
};
