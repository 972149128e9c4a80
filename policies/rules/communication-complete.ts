import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Communication, DEPLOYMENT_TYPES, DEPLOYMENT_TYPE_RULES } from "../../release";
import { configSchema, listPerDeploymentType, withDefaults } from "../lib/config";
import { releaseKey, validateEvidence } from "../lib/evidence";

export interface CommunicationCompleteConfig {
  /** Checklist items (usersNotified, teamBriefed, supportInformed, managementUpdated) per deployment type. */
  readonly requiredItems: Record<string, string[]>;
}

export const communicationCompleteDefaults: CommunicationCompleteConfig = {
  requiredItems: Object.fromEntries(
    DEPLOYMENT_TYPES.map((type) => [type, [...DEPLOYMENT_TYPE_RULES[type].requiredCommunication]]),
  ),
};

/**
 * The seed's communication checklist: all four items for a full-scope release, what the deployment
 * type needs otherwise, and users notified whenever the strategy takes the service down.
 */
export const communicationComplete: ResourceValidationPolicy = {
  name: "communication-complete",
  description:
    "The release's communication checklist must be complete for its deployment type (every item for a full-scope release), and users must be notified before a recreate takes the service down.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Notify users, brief the team, inform support and update management as the checklist asks, record it in communication, then collect approvals again.",
  configSchema: configSchema(communicationCompleteDefaults, { requiredItems: listPerDeploymentType }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(communicationCompleteDefaults, args.getConfig());
    const required = new Set(
      config.requiredItems[manifest.deploymentType] ??
        DEPLOYMENT_TYPE_RULES[manifest.deploymentType].requiredCommunication,
    );
    if (manifest.strategy.type === "recreate") required.add("usersNotified");
    const missing = [...required].filter(
      (item) => manifest.communication[item as keyof Communication] !== true,
    );
    if (missing.length > 0) {
      reportViolation(
        `Complete the communication checklist of ${releaseKey(manifest)} (${args.name}) before it starts: ` +
          `${missing.join(", ")} (a ${manifest.deploymentType} release with strategy ${manifest.strategy.type} needs ` +
          `${[...required].join(", ")}).`,
      );
    }
  }),
};
