import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DEPLOYMENT_TYPE_RULES, ROLLBACK_PLAN_RISK_LEVELS } from "../../release";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { releaseKey, validateEvidence } from "../lib/evidence";

export interface RiskAssessmentCompleteConfig {
  /** Risk levels at which any release needs a rollback plan (hot fixes and emergency patches always do). */
  readonly rollbackPlanRiskLevels: string[];
}

export const riskAssessmentCompleteDefaults: RiskAssessmentCompleteConfig = {
  rollbackPlanRiskLevels: [...ROLLBACK_PLAN_RISK_LEVELS],
};

/** The seed's "risk assessment complete": impact and mitigation written, a rollback plan where needed. */
export const riskAssessmentComplete: ResourceValidationPolicy = {
  name: "risk-assessment-complete",
  description:
    "The release's risk assessment must state its impact and mitigation, and high- and critical-risk releases, hot fixes and emergency patches need a rollback plan with triggers and steps.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Complete risk.impact and risk.mitigation, and add risk.rollbackPlan (triggers, steps, restoresData) to the manifest, then collect approvals again.",
  configSchema: configSchema(riskAssessmentCompleteDefaults, { rollbackPlanRiskLevels: stringList }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(riskAssessmentCompleteDefaults, args.getConfig());
    const { risk, deploymentType } = manifest;
    const release = `${releaseKey(manifest)} (${args.name})`;
    // Impact, mitigation and a plan's triggers and steps are non-empty by the schema (validateEvidence).
    const plan = risk.rollbackPlan;
    const needsPlan =
      DEPLOYMENT_TYPE_RULES[deploymentType].requiresRollbackPlan ||
      config.rollbackPlanRiskLevels.includes(risk.level);
    if (needsPlan && plan === undefined) {
      reportViolation(
        `Add a rollback plan (risk.rollbackPlan: triggers, steps, restoresData) to ${release}: ` +
          `a ${risk.level}-risk ${deploymentType} release needs one.`,
      );
    }
  }),
};
