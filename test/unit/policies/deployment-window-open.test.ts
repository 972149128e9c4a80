import { describe, expect, it } from "vitest";
import { deploymentWindowOpen } from "../../../policies/rules/deployment-window-open";
import { defined, evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";

const partial = exampleManifest("releases/examples/standard-partial.yaml");
const hotFix = exampleManifest("releases/examples/hot-fix.yaml"); // window 2026-12-04T09:30Z, 30m, INC-9120
const freezeOver = (manifest: typeof hotFix, reason = "year-end") => {
  const start = new Date(Date.parse(manifest.window.start) - 60_000).toISOString();
  const end = new Date(Date.parse(manifest.window.start) + 60_000).toISOString();
  return { start, end, reason };
};
const run = (manifest: typeof hotFix, config: Record<string, unknown>) =>
  runResourcePolicy(deploymentWindowOpen, evidence(manifest), { config });
const key = (m: typeof hotFix) => `${m.changeId}@${m.version} (release-anchor-evidence)`;
const planned = (m: typeof hotFix) => `its planned window (${m.window.start}, ${m.window.expectedDuration})`;

describe("deployment-window-open", () => {
  it("is named, described and mandatory by default, with no freezes and the fast lane allowed", () => {
    expect(deploymentWindowOpen.name).toBe("deployment-window-open");
    expect(deploymentWindowOpen.enforcementLevel).toBe("mandatory");
    expect(deploymentWindowOpen.description).toMatch(/^A .+\.$/);
    expect(deploymentWindowOpen.configSchema?.properties["allowedInFreeze"]).toMatchObject({
      default: ["hot-fix", "emergency-patch"],
    });
  });

  it("passes releases outside every freeze", async () => {
    const elsewhere = { start: "2020-01-01T00:00:00Z", end: "2020-01-02T00:00:00Z", reason: "old" };
    expect(await run(partial, { freezes: [elsewhere] })).toEqual({ violations: [] });
  });

  it("reports a standard release planned into a freeze", async () => {
    const freeze = freezeOver(partial);
    expect(await run(partial, { freezes: [freeze] })).toEqual({
      violations: [
        `Move ${key(partial)} out of the year-end freeze (${freeze.start} to ${freeze.end}): ${planned(partial)} ` +
          "falls inside it, and only hot-fix and emergency-patch releases with an incident id may run in a freeze.",
      ],
    });
  });

  it("reports a release run now, inside a freeze", async () => {
    const now = {
      start: new Date(Date.now() - 60_000).toISOString(),
      end: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const result = await run(partial, { freezes: [now] });
    expect(result.violations).toEqual([
      `Move ${key(partial)} out of the change freeze (${now.start} to ${now.end}): now falls inside it, and only ` +
        "hot-fix and emergency-patch releases with an incident id may run in a freeze.",
    ]);
  });

  it("passes a hot fix with an incident id inside a freeze", async () => {
    expect(await run(hotFix, { freezes: [freezeOver(hotFix)] })).toEqual({ violations: [] });
  });

  it("reports a hot fix in a freeze without an incident, or with an id that is no tracker id", async () => {
    const freeze = freezeOver(hotFix);
    const { incident: _dropped, ...withoutIncident } = hotFix;
    expect(await run(withoutIncident, { freezes: [freeze] })).toEqual({
      violations: [
        `Reference the incident that ${key(hotFix)} answers in incident.id to release it in the year-end freeze ` +
          `(${freeze.start} to ${freeze.end}) (${planned(hotFix)} falls inside it): it references no incident.`,
      ],
    });
    const tbd = { ...hotFix, incident: { ...defined(hotFix.incident, "the incident"), id: "tbd" } };
    expect((await run(tbd, { freezes: [freeze] })).violations).toEqual([
      `Reference the incident that ${key(hotFix)} answers in incident.id to release it in the year-end freeze ` +
        `(${freeze.start} to ${freeze.end}) (${planned(hotFix)} falls inside it): its incident id "tbd" does not ` +
        "match ^[A-Z][A-Z0-9]*-[0-9]+$.",
    ]);
  });

  it("takes the types allowed in a freeze from its config", async () => {
    const result = await run(hotFix, { freezes: [freezeOver(hotFix)], allowedInFreeze: ["emergency-patch"] });
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toMatch(
      /^Move HF-311@2\.4\.1 .+ only emergency-patch releases with an incident id/,
    );
  });
});
