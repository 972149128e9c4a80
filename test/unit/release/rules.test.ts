import { describe, expect, it } from "vitest";
import {
  type DeploymentType,
  type Manifest,
  DEPLOYMENT_TYPE_RULES,
  checkManifest,
  checkRules,
} from "../../../release";
import { exampleManifest, present } from "./fixtures";

/** A valid example, changed by `edit`, and the rule issues that follow. */
function issuesAfter(
  type: DeploymentType,
  edit: (manifest: Manifest) => void,
): { path: string; message: string }[] {
  const manifest = structuredClone(exampleManifest(type));
  edit(manifest);
  return checkRules(manifest);
}

describe("deployment-type rules", () => {
  it("a hot fix needs an incident", () => {
    expect(issuesAfter("hot-fix", (m) => delete m.incident)).toEqual([
      { path: "incident", message: "a hot-fix release must reference the incident it fixes" },
    ]);
  });

  it("a hot fix may test less, but never nothing", () => {
    expect(
      issuesAfter("hot-fix", (m) => {
        m.tests = { ...m.tests, passed: 0, total: 0 };
      }),
    ).toEqual([
      {
        path: "tests.passed",
        message: "testing may be reduced but never zero: expected at least one passed test",
      },
    ]);
  });

  it("an emergency patch needs a security or compliance reason", () => {
    expect(
      issuesAfter("emergency-patch", (m) => {
        m.incident = { ...present(m.incident), reason: "critical-issue" };
      }),
    ).toEqual([
      {
        path: "incident.reason",
        message:
          "an emergency-patch release needs incident reason security-fix or compliance-update, not critical-issue",
      },
    ]);
  });

  it("an emergency release's review is due after the window opens", () => {
    expect(
      issuesAfter("emergency-patch", (m) => {
        m.incident = { ...present(m.incident), reviewDue: m.window.start };
      }),
    ).toEqual([
      {
        path: "incident.reviewDue",
        message: "expected the post-release review to be due after window.start",
      },
    ]);
  });

  it("a full-scope release needs the whole communication checklist and every people group", () => {
    expect(
      issuesAfter("standard-full", (m) => {
        m.communication = {
          usersNotified: false,
          teamBriefed: true,
          supportInformed: false,
          managementUpdated: true,
        };
        m.people = { ...m.people, management: [] };
      }),
    ).toEqual([
      {
        path: "communication.usersNotified",
        message: "a standard-full release needs this checklist item done",
      },
      {
        path: "communication.supportInformed",
        message: "a standard-full release needs this checklist item done",
      },
      { path: "people.management", message: "a standard-full release needs at least one person here" },
    ]);
  });

  it("a full-scope release needs full testing, where a partial one may target its tests", () => {
    expect(issuesAfter("standard-full", (m) => (m.tests.scope = "targeted"))).toEqual([
      { path: "tests.scope", message: "a standard-full release needs test scope full, not targeted" },
    ]);
    expect(issuesAfter("standard-partial", (m) => (m.tests.scope = "reduced"))).toEqual([
      {
        path: "tests.scope",
        message: "a standard-partial release needs test scope full or targeted, not reduced",
      },
    ]);
  });

  it.each(["high", "critical"] as const)("a %s-risk release needs a rollback plan", (level) => {
    expect(
      issuesAfter("standard-full", (m) => {
        m.risk = { level, impact: m.risk.impact, mitigation: m.risk.mitigation };
      }),
    ).toEqual([{ path: "risk.rollbackPlan", message: `a ${level}-risk release needs a rollback plan` }]);
  });

  it("a low-risk standard release may go without a rollback plan, an emergency one may not", () => {
    expect(
      issuesAfter("standard-full", (m) => {
        m.risk = { level: "low", impact: m.risk.impact, mitigation: m.risk.mitigation };
      }),
    ).toEqual([]);
    expect(
      issuesAfter("hot-fix", (m) => {
        m.risk = { level: "low", impact: m.risk.impact, mitigation: m.risk.mitigation };
      }),
    ).toEqual([{ path: "risk.rollbackPlan", message: "a hot-fix release needs a rollback plan" }]);
  });

  it("blue-green refuses a migration the old version cannot live with", () => {
    expect(
      issuesAfter("standard-full", (m) => {
        present(present(present(m.components[0]).database).migrations[0]).backwardCompatible = false;
      }),
    ).toEqual([
      {
        path: "components[0].database.migrations[0].backwardCompatible",
        message:
          "blue-green needs backward-compatible migrations; otherwise use strategy recreate with a maintenance window",
      },
    ]);
  });

  it("recreate needs users notified and a maintenance window inside the release window", () => {
    expect(
      issuesAfter("standard-partial", (m) => {
        m.communication.usersNotified = false;
        if (m.strategy.type === "recreate") m.strategy.maintenanceWindow.duration = "2h";
      }),
    ).toEqual([
      {
        path: "communication.usersNotified",
        message: "strategy recreate takes the service down: notify users first",
      },
      {
        path: "strategy.maintenanceWindow",
        message:
          "expected the maintenance window to lie within the release window (window.start + window.expectedDuration)",
      },
    ]);
  });

  it("says once that users must be notified when two rules ask for it", () => {
    const issues = issuesAfter("standard-full", (m) => {
      m.strategy = {
        type: "recreate",
        maintenanceWindow: { start: m.window.start, duration: "10m", userMessage: "Back soon." },
      };
      m.communication.usersNotified = false;
    });
    expect(issues).toEqual([
      {
        path: "communication.usersNotified",
        message: "strategy recreate takes the service down: notify users first",
      },
    ]);
  });

  it("test counts add up, and nothing failed", () => {
    expect(
      issuesAfter("standard-full", (m) => {
        m.tests = { ...m.tests, passed: 10, failed: 2, skipped: 0, total: 13 };
      }),
    ).toEqual([
      { path: "tests.total", message: "expected passed + failed + skipped (12) to equal total (13)" },
      { path: "tests.failed", message: "expected no failed tests before release, found 2" },
    ]);
  });

  it("component names are unique, and a rejected change request is never released", () => {
    expect(
      issuesAfter("standard-full", (m) => {
        present(m.components[1]).name = present(m.components[0]).name;
        m.changeRequest.status = "rejected";
      }),
    ).toEqual([
      { path: "changeRequest.status", message: "a rejected change request cannot be released" },
      { path: "components[1].name", message: "duplicate component name shop-api" },
    ]);
  });

  it("rule issues come out of checkManifest too, with no digest", () => {
    const manifest = structuredClone(exampleManifest("hot-fix"));
    delete manifest.incident;
    const check = checkManifest(manifest);
    expect(check.ok).toBe(false);
    expect(check.issues).toEqual([
      { path: "incident", message: "a hot-fix release must reference the incident it fixes" },
    ]);
    expect("digest" in check).toBe(false);
  });

  it("only the emergency types may run inside a freeze", () => {
    expect(
      Object.entries(DEPLOYMENT_TYPE_RULES)
        .filter(([, rules]) => rules.allowedInFreeze)
        .map(([type]) => type),
    ).toEqual(["hot-fix", "emergency-patch"]);
  });
});
