import { describe, expect, it } from "vitest";
import { testsReviewedAndPassed } from "../../../policies/rules/tests-reviewed-and-passed";
import { evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";

const partial = exampleManifest("releases/sample-app/v2.yaml"); // targeted, 12 passed, reviewed by sam
const hotFix = exampleManifest("releases/examples/hot-fix.yaml"); // reduced, 86 passed
const withTests = (manifest: typeof partial, tests: Partial<typeof partial.tests>) => ({
  ...manifest,
  tests: { ...manifest.tests, ...tests },
});
const run = (manifest: typeof partial, config?: Record<string, unknown>) =>
  runResourcePolicy(testsReviewedAndPassed, evidence(manifest), config ? { config } : {});
const partialKey = "CHG-101@2.0.0 (release-anchor-evidence)";

describe("tests-reviewed-and-passed", () => {
  it("is named, described and mandatory by default, with the model's scopes as defaults", () => {
    expect(testsReviewedAndPassed.name).toBe("tests-reviewed-and-passed");
    expect(testsReviewedAndPassed.enforcementLevel).toBe("mandatory");
    expect(testsReviewedAndPassed.description).toMatch(/^The .+\.$/);
    expect(testsReviewedAndPassed.configSchema?.properties["allowedScopes"]).toMatchObject({
      default: { "standard-full": ["full"], "hot-fix": ["full", "targeted", "reduced"] },
    });
  });

  it("passes reviewed, passing tests; a hot fix with the reduced set", async () => {
    expect(await run(partial)).toEqual({ violations: [] });
    expect(await run(hotFix)).toEqual({ violations: [] });
  });

  it("reports a scope the deployment type does not allow, as the stack's config sets it", async () => {
    expect(await run(withTests(partial, { scope: "reduced" }))).toEqual({
      violations: [
        `Run the full or targeted test set for ${partialKey}: a standard-partial release may not ship with reduced testing.`,
      ],
    });
    const strict = { allowedScopes: { "hot-fix": ["full", "targeted"] } };
    expect(await run(hotFix, strict)).toEqual({
      violations: [
        "Run the full or targeted test set for HF-311@2.4.1 (release-anchor-evidence): a hot-fix release may not " +
          "ship with reduced testing.",
      ],
    });
  });

  it("reports failures, too few passed tests and counts that do not add up", async () => {
    expect(await run(withTests(partial, { passed: 0, failed: 2, total: 3 }))).toEqual({
      violations: [
        `Fix the 2 failing test(s) of ${partialKey} and record a passing run.`,
        `Run at least 1 passing test(s) for ${partialKey}: 0 passed; testing may be reduced, never zero.`,
        `Correct the test counts of ${partialKey}: passed + failed + skipped is 2, total says 3.`,
      ],
    });
    const result = await run(hotFix, { minimumPassed: { "hot-fix": 100 } });
    expect(result.violations).toEqual([
      "Run at least 100 passing test(s) for HF-311@2.4.1 (release-anchor-evidence): 86 passed; testing may be " +
        "reduced, never zero.",
    ]);
  });

  it("reports results reviewed by the change request's author, unless the config allows it", async () => {
    const selfReviewed = withTests(partial, { reviewedBy: "riley" });
    expect(await run(selfReviewed)).toEqual({
      violations: [
        `Have someone other than riley, the change request's author, review the test results of ${partialKey}.`,
      ],
    });
    expect(await run(selfReviewed, { independentReview: false })).toEqual({ violations: [] });
  });
});
