import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DEPLOYMENT_TYPES, DEPLOYMENT_TYPE_RULES } from "../../release";
import { configSchema, listPerDeploymentType, withDefaults } from "../lib/config";
import { releaseKey, validateEvidence } from "../lib/evidence";

export interface TestsReviewedAndPassedConfig {
  /** Test scopes each deployment type may ship with: hot fixes may run the reduced set. */
  readonly allowedScopes: Record<string, string[]>;
  /** The fewest passed tests each deployment type needs: testing may be reduced, never zero. */
  readonly minimumPassed: Record<string, number>;
  /** Whether the test results must be reviewed by someone other than the change request's author. */
  readonly independentReview: boolean;
}

export const testsReviewedAndPassedDefaults: TestsReviewedAndPassedConfig = {
  allowedScopes: Object.fromEntries(
    DEPLOYMENT_TYPES.map((type) => [type, [...DEPLOYMENT_TYPE_RULES[type].allowedTestScopes]]),
  ),
  minimumPassed: Object.fromEntries(DEPLOYMENT_TYPES.map((type) => [type, 1])),
  independentReview: true,
};

/** The seed's "test results reviewed": a scope the deployment type allows, all passed, reviewed. */
export const testsReviewedAndPassed: ResourceValidationPolicy = {
  name: "tests-reviewed-and-passed",
  description:
    "The release's test results must be reviewed by someone other than the author, cover a scope its deployment type allows, add up, and have no failures.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Run the test set the deployment type needs, fix failures, have an independent reviewer record the results in tests, then collect approvals again.",
  configSchema: configSchema(testsReviewedAndPassedDefaults, {
    allowedScopes: listPerDeploymentType,
    minimumPassed: { type: "object", additionalProperties: { type: "integer", minimum: 1 } },
    independentReview: { type: "boolean" },
  }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(testsReviewedAndPassedDefaults, args.getConfig());
    const { tests, deploymentType } = manifest;
    const release = `${releaseKey(manifest)} (${args.name})`;
    const scopes = config.allowedScopes[deploymentType] ?? [
      ...DEPLOYMENT_TYPE_RULES[deploymentType].allowedTestScopes,
    ];
    if (!scopes.includes(tests.scope)) {
      reportViolation(
        `Run the ${scopes.join(" or ")} test set for ${release}: a ${deploymentType} release may not ship ` +
          `with ${tests.scope} testing.`,
      );
    }
    if (tests.failed > 0) {
      reportViolation(`Fix the ${tests.failed} failing test(s) of ${release} and record a passing run.`);
    }
    const minimum = config.minimumPassed[deploymentType] ?? 1;
    if (tests.passed < minimum) {
      reportViolation(
        `Run at least ${minimum} passing test(s) for ${release}: ${tests.passed} passed; testing may be reduced, never zero.`,
      );
    }
    if (tests.passed + tests.failed + tests.skipped !== tests.total) {
      reportViolation(
        `Correct the test counts of ${release}: passed + failed + skipped is ` +
          `${tests.passed + tests.failed + tests.skipped}, total says ${tests.total}.`,
      );
    }
    if (config.independentReview && tests.reviewedBy === manifest.changeRequest.author) {
      reportViolation(
        `Have someone other than ${tests.reviewedBy}, the change request's author, review the test results of ${release}.`,
      );
    }
  }),
};
