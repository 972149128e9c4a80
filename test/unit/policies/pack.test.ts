import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Policy } from "@pulumi/policy";
import {
  DEVELOPMENT_STACKS,
  approvalGates,
  platformGuards,
  policiesForStack,
  qualityGates,
} from "../../../policies/pack";

const levels = (policies: readonly Policy[]) =>
  Object.fromEntries(policies.map((policy) => [policy.name, policy.enforcementLevel]));

describe("the pack", () => {
  const all = [...approvalGates, ...qualityGates, ...platformGuards];

  it("has one stable kebab-case name per policy, each with a full-sentence description and remediation", () => {
    const names = all.map((policy) => policy.name);
    expect(new Set(names).size).toBe(names.length);
    for (const policy of all) {
      expect(policy.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(policy.description).toMatch(/^[A-Z].+\.$/);
      expect(policy.enforcementLevel).toMatch(/^(advisory|mandatory)$/);
      expect(policy.configSchema?.properties).toBeDefined();
    }
    for (const policy of [...approvalGates, ...qualityGates]) {
      expect(policy.severity).toMatch(/^(low|medium|high|critical)$/);
      expect(policy.remediationSteps).toMatch(/\.$/);
      for (const property of Object.values(policy.configSchema?.properties ?? {})) {
        expect(property).toHaveProperty("default");
      }
    }
  });

  it("makes every release gate mandatory on a stack that is not for development (the review mark advises)", () => {
    expect(levels(policiesForStack("production"))).toEqual({
      "release-manifest-valid": "mandatory",
      "change-request-approved": "mandatory",
      "approvals-verified": "mandatory",
      "risk-assessment-complete": "mandatory",
      "tests-reviewed-and-passed": "mandatory",
      "deployment-window-open": "mandatory",
      "fast-lane-incident-referenced": "mandatory",
      "fast-lane-review-marked": "advisory",
      "communication-complete": "mandatory",
      "switch-gated-and-verified": "mandatory",
      "gate-thresholds-within-bounds": "mandatory",
      "backup-before-stateful-change": "mandatory",
      "strategy-matches-migrations": "mandatory",
      "previous-version-kept-warm": "mandatory",
      "artifacts-immutable": "mandatory",
      "services-monitored": "mandatory",
      "stateful-resources-protected": "mandatory",
      "local-files-in-named-folders": "mandatory",
    });
    expect(levels(policiesForStack(""))).toEqual(levels(policiesForStack("staging")));
  });

  it("makes the release gates advisory on the local stack, keeping the platform's own guard mandatory", () => {
    expect(DEVELOPMENT_STACKS).toEqual(["local"]);
    const local = levels(policiesForStack("local"));
    expect(Object.entries(local).filter(([, level]) => level === "mandatory")).toEqual([
      ["local-files-in-named-folders", "mandatory"],
    ]);
    expect(local["approvals-verified"]).toBe("advisory");
  });

  it.each(readdirSync(join(__dirname, "../../../policies/config")))(
    "policies/config/%s names only the pack's policies and their parameters",
    (file) => {
      const config = JSON.parse(
        readFileSync(join(__dirname, "../../../policies/config", file), "utf8"),
      ) as Record<string, Record<string, unknown>>;
      const policies = new Map(all.map((policy) => [policy.name, policy]));
      for (const [name, settings] of Object.entries(config)) {
        const schema = policies.get(name)?.configSchema?.properties;
        expect(schema, name).toBeDefined();
        for (const key of Object.keys(settings)) {
          if (key !== "enforcementLevel") expect(Object.keys(schema ?? {}), `${name}.${key}`).toContain(key);
        }
      }
    },
  );
});
