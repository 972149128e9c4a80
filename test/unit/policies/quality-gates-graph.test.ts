// The stack policies of the quality gates on release plans shaped like the program's.
import { describe, expect, it } from "vitest";
import { backupBeforeStatefulChange } from "../../../policies/rules/backup-before-stateful-change";
import { previousVersionKeptWarm } from "../../../policies/rules/previous-version-kept-warm";
import { servicesMonitored } from "../../../policies/rules/services-monitored";
import { strategyMatchesMigrations } from "../../../policies/rules/strategy-matches-migrations";
import { switchGatedAndVerified } from "../../../policies/rules/switch-gated-and-verified";
import { defined, exampleManifest } from "./fixtures";
import { policyResources, runStackPolicy } from "./harness";
import { releasePlan } from "./plan";

const graph = (options: Parameters<typeof releasePlan>[0] = {}) => policyResources(releasePlan(options));
const v2 = exampleManifest("releases/sample-app/v2.yaml"); // migration 0002_add_created_at, backward-compatible

describe("switch-gated-and-verified", () => {
  it("is named, described and mandatory by default", () => {
    expect(switchGatedAndVerified.name).toBe("switch-gated-and-verified");
    expect(switchGatedAndVerified.enforcementLevel).toBe("mandatory");
    expect(switchGatedAndVerified.description).toMatch(/^Every .+\.$/);
  });

  it("passes a switch after a gate and before verification", async () => {
    expect(await runStackPolicy(switchGatedAndVerified, graph())).toEqual({ violations: [] });
  });

  it("reports a switch without a gate, and one without verification after it", async () => {
    expect(await runStackPolicy(switchGatedAndVerified, graph({ gate: false, verification: false }))).toEqual(
      {
        violations: [
          {
            resource: "sample-app-switch-route",
            message:
              "Make switch sample-app-switch-route of sample-app depend on a pre-promotion health gate of sample-app: " +
              "no gate runs before it, so an unchecked version could take users' traffic.",
          },
          {
            resource: "sample-app-switch-route",
            message:
              "Add post-promotion verification after switch sample-app-switch-route of sample-app: nothing watches the " +
              "new version once it serves users, so no rollback trigger can fire.",
          },
        ],
      },
    );
    const lenient = { config: { requireVerification: false } };
    expect(
      (await runStackPolicy(switchGatedAndVerified, graph({ verification: false }), lenient)).violations,
    ).toEqual([]);
  });
});

describe("backup-before-stateful-change", () => {
  it("is named, described and mandatory by default", () => {
    expect(backupBeforeStatefulChange.name).toBe("backup-before-stateful-change");
    expect(backupBeforeStatefulChange.enforcementLevel).toBe("mandatory");
    expect(backupBeforeStatefulChange.description).toMatch(/^Every .+\.$/);
  });

  it("passes a plan whose slots and migrations wait for the backup", async () => {
    const plan = graph({ migrations: ["0002_add_created_at"], rollbackTo: "green" });
    expect(await runStackPolicy(backupBeforeStatefulChange, plan)).toEqual({ violations: [] });
  });

  it("reports every stateful change without a backup, unless the config says the service keeps no data", async () => {
    const plan = graph({ backup: false, migrations: ["0002_add_created_at"] });
    const message = (role: string, name: string) =>
      `Back up sample-app before ${role} ${name}: it changes a stateful service and waits for no backup of it. ` +
      "Set shipgate:services.sample-app.stateful to true in the stack's config, or list sample-app in this " +
      "policy's statelessServices if it keeps no data.";
    expect(await runStackPolicy(backupBeforeStatefulChange, plan)).toEqual({
      violations: [
        { resource: "sample-app-migrate", message: message("migration", "sample-app-migrate") },
        { resource: "sample-app-blue", message: message("slot", "sample-app-blue") },
      ],
    });
    const stateless = { config: { statelessServices: ["sample-app"] } };
    expect(await runStackPolicy(backupBeforeStatefulChange, plan, stateless)).toEqual({ violations: [] });
  });
});

describe("strategy-matches-migrations", () => {
  it("is named, described and mandatory by default", () => {
    expect(strategyMatchesMigrations.name).toBe("strategy-matches-migrations");
    expect(strategyMatchesMigrations.enforcementLevel).toBe("mandatory");
    expect(strategyMatchesMigrations.description).toMatch(/^A .+\.$/);
  });

  it("passes blue-green with backward-compatible migrations declared in the manifest", async () => {
    const plan = graph({ manifest: v2, migrations: ["0002_add_created_at"] });
    expect(await runStackPolicy(strategyMatchesMigrations, plan)).toEqual({ violations: [] });
  });

  it("reports blue-green with a migration that is not backward-compatible", async () => {
    const component = defined(v2.components[0], "the component");
    const breaking = {
      ...v2,
      components: [
        {
          ...component,
          database: {
            name: "sample-app-data",
            migrations: [{ id: "0003_drop", description: "Drops a column", backwardCompatible: false }],
          },
        },
      ],
    };
    expect(
      await runStackPolicy(
        strategyMatchesMigrations,
        graph({ manifest: breaking, migrations: ["0003_drop"] }),
      ),
    ).toEqual({
      violations: [
        {
          resource: "release-anchor-evidence",
          message:
            "Release CHG-101@2.0.0 with strategy recreate and a maintenance window, or make migration 0003_drop of " +
            "sample-app backward-compatible: blue-green runs the old and new versions against one database.",
        },
      ],
    });
  });

  it("reports a migration the manifest does not declare, and one that runs before the maintenance step", async () => {
    const nodes = releasePlan({
      manifest: v2,
      migrations: ["0002_add_created_at", "9999_secret"],
      maintenance: true,
    });
    const migrate = defined(
      nodes.find((node) => node.name === "sample-app-migrate"),
      "the migration",
    );
    const unordered = nodes.map((node) =>
      node === migrate
        ? { ...node, dependencies: ["release-anchor-evidence", "sample-app-backup-data"] }
        : node,
    );
    expect(await runStackPolicy(strategyMatchesMigrations, policyResources(unordered))).toEqual({
      violations: [
        {
          resource: "sample-app-migrate",
          message:
            "Declare migration 9999_secret of sample-app in CHG-101@2.0.0's manifest, or remove it from " +
            "sample-app-migrate: approvers did not see it.",
        },
        {
          resource: "sample-app-migrate",
          message:
            "Run migration sample-app-migrate after maintenance step sample-app-maintenance of sample-app: a " +
            "recreate migrates only once users see the maintenance page and the old version is stopped.",
        },
      ],
    });
  });
});

describe("previous-version-kept-warm", () => {
  it("is named, described and mandatory by default", () => {
    expect(previousVersionKeptWarm.name).toBe("previous-version-kept-warm");
    expect(previousVersionKeptWarm.enforcementLevel).toBe("mandatory");
    expect(previousVersionKeptWarm.description).toMatch(/^After .+\.$/);
  });

  it("passes a plan that keeps the previous colour for the program's default window, and a first release", async () => {
    expect(await runStackPolicy(previousVersionKeptWarm, graph({ rollbackTo: "green" }))).toEqual({
      violations: [],
    });
    expect(await runStackPolicy(previousVersionKeptWarm, graph({ rollbackTo: null }))).toEqual({
      violations: [],
    });
  });

  it("reports a plan that drops the previous colour", async () => {
    expect(
      await runStackPolicy(previousVersionKeptWarm, graph({ rollbackTo: "green", keepPrevious: false })),
    ).toEqual({
      violations: [
        {
          resource: "sample-app-verify-bake",
          message:
            "Keep the green colour of sample-app in the plan: sample-app-verify-bake rolls back to it, but no slot " +
            "declares it, so it would be stopped and rollback would need a redeploy.",
        },
      ],
    });
  });

  it("reports a warm window shorter than the minimum, from the switch's input or the program's default", async () => {
    const message = (minutes: number) => ({
      resource: "sample-app-verify-bake",
      message:
        "Keep the previous version of sample-app warm for at least 30 minutes: set " +
        `shipgate:services.sample-app.warmWindowMinutes to 30 or more (it is ${minutes}).`,
    });
    // The policy reads the plan only, never the stack's config: a switch without the input gets the
    // program's default from the policy config.
    const defaulted = { config: { programDefaultWarmWindowMinutes: 5 } };
    expect(await runStackPolicy(previousVersionKeptWarm, graph({ rollbackTo: "green" }), defaulted)).toEqual({
      violations: [message(5)],
    });
    const declared = graph({ rollbackTo: "green", switchProps: { warmWindowMinutes: 10 } });
    expect(await runStackPolicy(previousVersionKeptWarm, declared)).toEqual({ violations: [message(10)] });
    const lenient = { config: { minimumWarmWindowMinutes: 5 } };
    expect(await runStackPolicy(previousVersionKeptWarm, graph({ rollbackTo: "green" }), lenient)).toEqual({
      violations: [],
    });
  });
});

describe("services-monitored", () => {
  it("is named, described and mandatory by default", () => {
    expect(servicesMonitored.name).toBe("services-monitored");
    expect(servicesMonitored.enforcementLevel).toBe("mandatory");
    expect(servicesMonitored.description).toMatch(/^Every .+\.$/);
  });

  it("passes a service watched by its gate and verification, or alerting a channel", async () => {
    expect(await runStackPolicy(servicesMonitored, graph())).toEqual({ violations: [] });
    const alerting = graph({
      gate: false,
      verification: false,
      notificationProps: { webhookUrl: "https://hooks.example.com/x" },
    });
    expect(await runStackPolicy(servicesMonitored, alerting)).toEqual({ violations: [] });
  });

  it("reports a service nothing watches, and one without alerting where the config requires it", async () => {
    expect(await runStackPolicy(servicesMonitored, graph({ gate: false, verification: false }))).toEqual({
      violations: [
        {
          resource: "sample-app-blue",
          message:
            "Monitor sample-app: add a health gate or post-promotion verification, or a notification channel " +
            "(shipgate:notifications.webhookUrl); nothing watches it after the release.",
        },
      ],
    });
    expect(await runStackPolicy(servicesMonitored, graph(), { config: { requireAlerting: true } })).toEqual({
      violations: [
        {
          resource: "sample-app-blue",
          message:
            "Set a notification channel for sample-app (shipgate:notifications.webhookUrl in the stack's config): " +
            "this stack requires alerting.",
        },
      ],
    });
  });
});
