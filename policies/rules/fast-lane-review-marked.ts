import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { releaseKey, releaseWindow, validateEvidence } from "../lib/evidence";
import { type Freeze, describeFreeze, freezesSchema, overlappingFreezes } from "../lib/fast-lane";
import { fastLaneIncidentReferencedDefaults } from "./fast-lane-incident-referenced";

export interface FastLaneReviewMarkedConfig {
  /** Deployment types reviewed after every release. */
  readonly fastLaneTypes: string[];
  /** The same freeze calendar as deployment-window-open, to say when a release ran inside one. */
  readonly freezes: Freeze[];
}

export const fastLaneReviewMarkedDefaults: FastLaneReviewMarkedConfig = {
  fastLaneTypes: fastLaneIncidentReferencedDefaults.fastLaneTypes,
  freezes: [],
};

/**
 * The mark for the review a fast-lane release owes: an advisory violation on every hot fix and
 * emergency patch, never blocking, so it shows in the preview, the update's log and the pipeline
 * (policies cannot set stack tags; the deployment record carries the incident and its reviewDue).
 */
export const fastLaneReviewMarked: ResourceValidationPolicy = {
  name: "fast-lane-review-marked",
  description:
    "Every hot fix and emergency patch is marked for the review it owes after the release, with its incident and review date.",
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps:
    "Hold the post-release review by incident.reviewDue and record its outcome on the incident.",
  configSchema: configSchema(fastLaneReviewMarkedDefaults, {
    fastLaneTypes: stringList,
    freezes: freezesSchema,
  }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(fastLaneReviewMarkedDefaults, args.getConfig());
    if (!config.fastLaneTypes.includes(manifest.deploymentType)) return;
    const planned = releaseWindow(manifest);
    const now = Date.now();
    const freezes = config.freezes.filter(
      (freeze) =>
        overlappingFreezes([freeze], planned.start, planned.end).length > 0 ||
        overlappingFreezes([freeze], now, now).length > 0,
    );
    const inFreeze = freezes.length > 0 ? `, inside ${freezes.map(describeFreeze).join(" and ")}` : "";
    const incident = manifest.incident;
    reportViolation(
      `Review ${manifest.deploymentType} ${releaseKey(manifest)} (${args.name}) after it ships${inFreeze}: ` +
        (incident === undefined
          ? "it references no incident."
          : `incident ${incident.id} (${incident.reason}), review due ${incident.reviewDue}.`),
    );
  }),
};
