import { describe, expect, it } from "vitest";
import { fastLaneIncidentReferenced } from "../../../policies/rules/fast-lane-incident-referenced";
import { fastLaneReviewMarked } from "../../../policies/rules/fast-lane-review-marked";
import { defined, evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";

const hotFix = exampleManifest("releases/examples/hot-fix.yaml"); // HF-311@2.4.1, INC-9120
const patch = exampleManifest("releases/examples/emergency-patch.yaml");
const partial = exampleManifest("releases/sample-app/v2.yaml");
const key = "HF-311@2.4.1 (release-anchor-evidence)";

describe("fast-lane-incident-referenced", () => {
  const run = (manifest: typeof hotFix, config?: Record<string, unknown>) =>
    runResourcePolicy(fastLaneIncidentReferenced, evidence(manifest), config ? { config } : {});

  it("is named, described and mandatory by default", () => {
    expect(fastLaneIncidentReferenced.name).toBe("fast-lane-incident-referenced");
    expect(fastLaneIncidentReferenced.enforcementLevel).toBe("mandatory");
    expect(fastLaneIncidentReferenced.description).toMatch(/^A .+\.$/);
  });

  it("passes fast-lane releases with their incident, and ignores standard releases", async () => {
    expect(await run(hotFix)).toEqual({ violations: [] });
    expect(await run(patch)).toEqual({ violations: [] });
    expect(await run(partial)).toEqual({ violations: [] });
  });

  it("reports a hot fix without an incident, or with an id the tracker pattern refuses", async () => {
    const { incident: _dropped, ...withoutIncident } = hotFix;
    expect(await run(withoutIncident)).toEqual({
      violations: [`Reference the incident that hot-fix ${key} answers: it references no incident.`],
    });
    const tbd = { ...hotFix, incident: { ...defined(hotFix.incident, "the incident"), id: "n/a" } };
    expect(await run(tbd)).toEqual({
      violations: [
        `Reference the incident that hot-fix ${key} answers: its incident id "n/a" does not match ^[A-Z][A-Z0-9]*-[0-9]+$.`,
      ],
    });
    expect(await run(tbd, { incidentIdPattern: "^.+$" })).toEqual({ violations: [] });
  });

  it("reports a reason the type does not answer and a review due before the release", async () => {
    const wrong = {
      ...hotFix,
      incident: {
        ...defined(hotFix.incident, "the incident"),
        reason: "security-fix" as const,
        reviewDue: "2026-12-01T00:00:00Z",
      },
    };
    expect(await run(wrong)).toEqual({
      violations: [
        `Release ${key} as the deployment type its incident calls for: a hot-fix answers critical-issue, not security-fix.`,
        `Set incident.reviewDue of ${key} after window.start: the review follows the release.`,
      ],
    });
  });
});

describe("fast-lane-review-marked", () => {
  it("is named, described and advisory by default", () => {
    expect(fastLaneReviewMarked.name).toBe("fast-lane-review-marked");
    expect(fastLaneReviewMarked.enforcementLevel).toBe("advisory");
    expect(fastLaneReviewMarked.description).toMatch(/^Every .+\.$/);
  });

  it("marks every fast-lane release for review, saying when it ran inside a freeze", async () => {
    expect(await runResourcePolicy(fastLaneReviewMarked, evidence(hotFix))).toEqual({
      violations: [
        `Review hot-fix ${key} after it ships: incident INC-9120 (critical-issue), review due 2026-12-09T17:00:00Z.`,
      ],
    });
    const freeze = { start: "2026-12-01T00:00:00Z", end: "2026-12-05T00:00:00Z", reason: "audit" };
    const inFreeze = await runResourcePolicy(fastLaneReviewMarked, evidence(hotFix), {
      config: { freezes: [freeze] },
    });
    expect(inFreeze.violations).toEqual([
      `Review hot-fix ${key} after it ships, inside the audit freeze (2026-12-01T00:00:00Z to 2026-12-05T00:00:00Z): ` +
        "incident INC-9120 (critical-issue), review due 2026-12-09T17:00:00Z.",
    ]);
  });

  it("leaves standard releases alone", async () => {
    expect(await runResourcePolicy(fastLaneReviewMarked, evidence(partial))).toEqual({ violations: [] });
  });
});
