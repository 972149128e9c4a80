// The pack's policies and their default enforcement levels per stack. index.ts constructs the pack
// from here; tests import this module (importing index.ts would start the pack's gRPC server).
import type { Policies } from "@pulumi/policy";
import { isDevelopmentStack } from "../release";
import { approvalsVerified } from "./rules/approvals-verified";
import { artifactsImmutable } from "./rules/artifacts-immutable";
import { backupBeforeStatefulChange } from "./rules/backup-before-stateful-change";
import { changeRequestApproved } from "./rules/change-request-approved";
import { communicationComplete } from "./rules/communication-complete";
import { deploymentWindowOpen } from "./rules/deployment-window-open";
import { fastLaneIncidentReferenced } from "./rules/fast-lane-incident-referenced";
import { fastLaneReviewMarked } from "./rules/fast-lane-review-marked";
import { gateThresholdsWithinBounds } from "./rules/gate-thresholds-within-bounds";
import { localFilesInNamedFolders } from "./rules/local-files-in-named-folders";
import { previousVersionKeptWarm } from "./rules/previous-version-kept-warm";
import { releaseManifestValid } from "./rules/release-manifest-valid";
import { riskAssessmentComplete } from "./rules/risk-assessment-complete";
import { servicesMonitored } from "./rules/services-monitored";
import { statefulResourcesProtected } from "./rules/stateful-resources-protected";
import { strategyMatchesMigrations } from "./rules/strategy-matches-migrations";
import { switchGatedAndVerified } from "./rules/switch-gated-and-verified";
import { testsReviewedAndPassed } from "./rules/tests-reviewed-and-passed";

/** The approval gates: resource policies on the release anchor's evidence, run before anything changes. */
export const approvalGates: Policies = [
  releaseManifestValid,
  changeRequestApproved,
  approvalsVerified,
  riskAssessmentComplete,
  testsReviewedAndPassed,
  deploymentWindowOpen,
  fastLaneIncidentReferenced,
  fastLaneReviewMarked,
  communicationComplete,
];

/** The quality gates: the plan's shape, over the resource graph or one step at a time. */
export const qualityGates: Policies = [
  switchGatedAndVerified,
  gateThresholdsWithinBounds,
  backupBeforeStatefulChange,
  strategyMatchesMigrations,
  previousVersionKeptWarm,
  artifactsImmutable,
  servicesMonitored,
  statefulResourcesProtected,
];

/** Guards of the local platform itself, at their own level on every stack. */
export const platformGuards: Policies = [localFilesInNamedFolders];

/**
 * Stacks where the release gates only advise (a developer's machine previews and releases unapproved
 * manifests): the release model's list, which the program's own approval check uses too. Every other
 * stack gets each policy's own default (mandatory, but for review markers).
 */
export { DEVELOPMENT_STACKS } from "../release";

/**
 * The pack's policies for a stack, with their default enforcement levels: mandatory gates become
 * advisory on development stacks. The stack's policy config (`--policy-pack-config
 * policies/config/<stack>.json`) overrides any level, per policy, on any stack.
 */
export function policiesForStack(stack: string): Policies {
  const development = isDevelopmentStack(stack);
  const gates = [...approvalGates, ...qualityGates].map((policy) =>
    development && policy.enforcementLevel === "mandatory"
      ? { ...policy, enforcementLevel: "advisory" as const }
      : policy,
  );
  return [...gates, ...platformGuards];
}
