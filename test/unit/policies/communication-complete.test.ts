import { describe, expect, it } from "vitest";
import { communicationComplete } from "../../../policies/rules/communication-complete";
import { evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";

const full = exampleManifest("releases/examples/standard-full.yaml");
const partial = exampleManifest("releases/sample-app/v2.yaml");
const told = (manifest: typeof full, communication: Partial<typeof full.communication>) => ({
  ...manifest,
  communication: { ...manifest.communication, ...communication },
});
const run = (manifest: typeof full, config?: Record<string, unknown>) =>
  runResourcePolicy(communicationComplete, evidence(manifest), config ? { config } : {});
const fullKey = `${full.changeId}@${full.version} (release-anchor-evidence)`;

describe("communication-complete", () => {
  it("is named, described and mandatory by default", () => {
    expect(communicationComplete.name).toBe("communication-complete");
    expect(communicationComplete.enforcementLevel).toBe("mandatory");
    expect(communicationComplete.description).toMatch(/^The .+\.$/);
  });

  it("passes complete checklists", async () => {
    expect(await run(full)).toEqual({ violations: [] });
    expect(await run(partial)).toEqual({ violations: [] });
  });

  it("needs every item for a full-scope release", async () => {
    expect(await run(told(full, { managementUpdated: false, usersNotified: false }))).toEqual({
      violations: [
        `Complete the communication checklist of ${fullKey} before it starts: usersNotified, managementUpdated ` +
          `(a standard-full release with strategy ${full.strategy.type} needs usersNotified, teamBriefed, ` +
          `supportInformed, managementUpdated).`,
      ],
    });
  });

  it("needs users notified before a recreate, and the items the config names", async () => {
    const recreate = {
      ...told(partial, { usersNotified: false }),
      strategy: {
        type: "recreate" as const,
        maintenanceWindow: { start: partial.window.start, duration: "10m", userMessage: "Back soon" },
      },
    };
    expect((await run(recreate)).violations).toEqual([
      "Complete the communication checklist of CHG-101@2.0.0 (release-anchor-evidence) before it starts: " +
        "usersNotified (a standard-partial release with strategy recreate needs teamBriefed, supportInformed, usersNotified).",
    ]);
    const stricter = {
      requiredItems: { "standard-partial": ["teamBriefed", "supportInformed", "managementUpdated"] },
    };
    expect((await run(partial, stricter)).violations).toHaveLength(1);
  });
});
