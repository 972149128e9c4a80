import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DEPLOYMENT_TYPES, DEPLOYMENT_TYPE_RULES } from "../../release";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { releaseKey, releaseWindow, validateEvidence } from "../lib/evidence";
import {
  DEFAULT_INCIDENT_ID_PATTERN,
  type Freeze,
  describeFreeze,
  freezesSchema,
  incidentProblem,
  overlappingFreezes,
} from "../lib/fast-lane";

export interface DeploymentWindowOpenConfig {
  /** Change freezes: RFC 3339 start and end, and why. */
  readonly freezes: Freeze[];
  /** Deployment types that may run inside a freeze, and then only with an incident id. */
  readonly allowedInFreeze: string[];
  /** What an incident id must look like (a regular expression). */
  readonly incidentIdPattern: string;
}

export const deploymentWindowOpenDefaults: DeploymentWindowOpenConfig = {
  freezes: [],
  allowedInFreeze: DEPLOYMENT_TYPES.filter((type) => DEPLOYMENT_TYPE_RULES[type].allowedInFreeze),
  incidentIdPattern: DEFAULT_INCIDENT_ID_PATTERN,
};

/**
 * Change freezes from the stack's policy config. A release may neither be planned into a freeze nor
 * run during one; hot fixes and emergency patches may, with an incident id, and fast-lane-review-marked
 * then marks them for review.
 */
export const deploymentWindowOpen: ResourceValidationPolicy = {
  name: "deployment-window-open",
  description:
    "A release must not be planned into or run during a change freeze from the policy config, unless it is a hot fix or emergency patch that references its incident.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Move window.start out of the freeze and run the release then, or, for a hot fix or emergency patch, reference the incident it answers in incident.id.",
  configSchema: configSchema(deploymentWindowOpenDefaults, {
    freezes: freezesSchema,
    allowedInFreeze: stringList,
    incidentIdPattern: { type: "string" },
  }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(deploymentWindowOpenDefaults, args.getConfig());
    const release = `${releaseKey(manifest)} (${args.name})`;
    const planned = releaseWindow(manifest);
    const now = Date.now();
    const freezes = [
      ...overlappingFreezes(config.freezes, planned.start, planned.end).map((freeze) => ({
        freeze,
        when: `its planned window (${manifest.window.start}, ${manifest.window.expectedDuration})`,
      })),
      ...overlappingFreezes(config.freezes, now, now).map((freeze) => ({ freeze, when: "now" })),
    ];
    for (const { freeze, when } of freezes) {
      if (!config.allowedInFreeze.includes(manifest.deploymentType)) {
        reportViolation(
          `Move ${release} out of ${describeFreeze(freeze)}: ${when} falls inside it, and only ` +
            `${config.allowedInFreeze.join(" and ")} releases with an incident id may run in a freeze.`,
        );
        continue;
      }
      const problem = incidentProblem(manifest, config.incidentIdPattern);
      if (problem !== undefined) {
        reportViolation(
          `Reference the incident that ${release} answers in incident.id to release it in ${describeFreeze(freeze)} ` +
            `(${when} falls inside it): ${problem}.`,
        );
      }
    }
  }),
};
