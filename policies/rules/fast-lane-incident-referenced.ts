import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DEPLOYMENT_TYPES, DEPLOYMENT_TYPE_RULES } from "../../release";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { releaseKey, validateEvidence } from "../lib/evidence";
import { DEFAULT_INCIDENT_ID_PATTERN, incidentProblem } from "../lib/fast-lane";

export interface FastLaneIncidentReferencedConfig {
  /** Deployment types that must reference an incident. */
  readonly fastLaneTypes: string[];
  /** What an incident id must look like (a regular expression). */
  readonly incidentIdPattern: string;
}

export const fastLaneIncidentReferencedDefaults: FastLaneIncidentReferencedConfig = {
  fastLaneTypes: DEPLOYMENT_TYPES.filter((type) => DEPLOYMENT_TYPE_RULES[type].incident !== undefined),
  incidentIdPattern: DEFAULT_INCIDENT_ID_PATTERN,
};

/**
 * Hot fixes and emergency patches trade testing and calendar for urgency: they must say which incident
 * they answer, with an id the incident tracker knows, the reason their type allows, and a review date.
 */
export const fastLaneIncidentReferenced: ResourceValidationPolicy = {
  name: "fast-lane-incident-referenced",
  description:
    "A hot fix or emergency patch must reference its incident with a tracker id, a reason its deployment type allows, and a review due after the release starts.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set incident.id to the tracker's id (e.g. INC-4711), incident.reason and incident.reviewDue in the manifest, then collect approvals again.",
  configSchema: configSchema(fastLaneIncidentReferencedDefaults, {
    fastLaneTypes: stringList,
    incidentIdPattern: { type: "string" },
  }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(fastLaneIncidentReferencedDefaults, args.getConfig());
    if (!config.fastLaneTypes.includes(manifest.deploymentType)) return;
    const release = `${releaseKey(manifest)} (${args.name})`;
    const problem = incidentProblem(manifest, config.incidentIdPattern);
    if (problem !== undefined) {
      reportViolation(
        `Reference the incident that ${manifest.deploymentType} ${release} answers: ${problem}.`,
      );
      return;
    }
    const { incident } = manifest;
    const reasons = DEPLOYMENT_TYPE_RULES[manifest.deploymentType].incident?.reasons;
    if (incident !== undefined && reasons !== undefined && !reasons.includes(incident.reason)) {
      reportViolation(
        `Release ${release} as the deployment type its incident calls for: a ${manifest.deploymentType} answers ` +
          `${reasons.join(" or ")}, not ${incident.reason}.`,
      );
    }
    if (incident !== undefined && Date.parse(incident.reviewDue) <= Date.parse(manifest.window.start)) {
      reportViolation(
        `Set incident.reviewDue of ${release} after window.start: the review follows the release.`,
      );
    }
  }),
};
