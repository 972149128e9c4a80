import { describe, expect, it } from "vitest";
import { riskAssessmentComplete } from "../../../policies/rules/risk-assessment-complete";
import { evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";

const partial = exampleManifest("releases/sample-app/v2.yaml"); // medium risk, with a rollback plan
const hotFix = exampleManifest("releases/examples/hot-fix.yaml"); // HF-311@2.4.1, high risk
const withoutPlan = <T extends typeof partial>(manifest: T, level?: T["risk"]["level"]): T => {
  const { rollbackPlan: _dropped, ...risk } = manifest.risk;
  return { ...manifest, risk: { ...risk, level: level ?? manifest.risk.level } };
};
const run = (manifest: typeof partial, config?: Record<string, unknown>) =>
  runResourcePolicy(riskAssessmentComplete, evidence(manifest), config ? { config } : {});

describe("risk-assessment-complete", () => {
  it("is named, described and mandatory by default", () => {
    expect(riskAssessmentComplete.name).toBe("risk-assessment-complete");
    expect(riskAssessmentComplete.enforcementLevel).toBe("mandatory");
    expect(riskAssessmentComplete.description).toMatch(/^The .+\.$/);
  });

  it("passes complete assessments, and a low-risk standard release without a plan", async () => {
    expect(await run(partial)).toEqual({ violations: [] });
    expect(await run(hotFix)).toEqual({ violations: [] });
    expect(await run(withoutPlan(partial, "low"))).toEqual({ violations: [] });
  });

  it.each(["high", "critical"] as const)(
    "reports a %s-risk release without a rollback plan",
    async (level) => {
      expect(await run(withoutPlan(partial, level))).toEqual({
        violations: [
          "Add a rollback plan (risk.rollbackPlan: triggers, steps, restoresData) to CHG-101@2.0.0 " +
            `(release-anchor-evidence): a ${level}-risk standard-partial release needs one.`,
        ],
      });
    },
  );

  it("reports a hot fix without a rollback plan, whatever its risk", async () => {
    expect(await run(withoutPlan(hotFix, "low"))).toEqual({
      violations: [
        "Add a rollback plan (risk.rollbackPlan: triggers, steps, restoresData) to HF-311@2.4.1 " +
          "(release-anchor-evidence): a low-risk hot-fix release needs one.",
      ],
    });
  });

  it("fails closed on a blank impact or an empty plan, which the schema refuses", async () => {
    const blank = {
      ...partial,
      risk: { ...partial.risk, impact: " ", rollbackPlan: { triggers: [], steps: [], restoresData: false } },
    };
    expect(await run(blank)).toEqual({
      violations: [
        "Fix the release manifest carried by release-anchor-evidence: it is not a shipgate.dev/v1 manifest " +
          "(risk.impact: expected a non-empty text; risk.rollbackPlan.triggers: expected at least one rollback " +
          "trigger; risk.rollbackPlan.steps: expected at least one rollback step).",
      ],
    });
  });

  it("takes the risk levels that need a plan from its config", async () => {
    const result = await run(withoutPlan(partial), {
      rollbackPlanRiskLevels: ["medium", "high", "critical"],
    });
    expect(result.violations).toHaveLength(1);
  });
});
