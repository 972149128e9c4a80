/**
 * The rules of each deployment type, from the implementation and hot-fix processes: what a release of
 * that type must carry beyond the schema's shape. Every rule lives here, and every broken rule names the
 * field it is about.
 */
import type { ManifestIssue } from "./issues";
import { formatPath } from "./issues";
import {
  type ApprovalRole,
  type Communication,
  type DeploymentType,
  type Manifest,
  type RiskLevel,
  INCIDENT_REASONS,
  TEST_SCOPES,
  parseDuration,
} from "./schema";

type TestScope = (typeof TEST_SCOPES)[number];
type IncidentReason = (typeof INCIDENT_REASONS)[number];
type PeopleGroup = keyof Manifest["people"];

export interface DeploymentTypeRules {
  /** One line for humans, from the seeds. */
  readonly summary: string;
  /** How much testing this type may ship with: reduced testing is allowed only on the fast lane. */
  readonly allowedTestScopes: readonly TestScope[];
  /** Communication checklist items that must be done before the release starts. */
  readonly requiredCommunication: readonly (keyof Communication)[];
  /** People groups that must name at least one person. */
  readonly requiredPeople: readonly PeopleGroup[];
  /** Whether the release must reference an incident, and with which reasons. */
  readonly incident: { readonly required: true; readonly reasons: readonly IncidentReason[] } | undefined;
  /** Whether a rollback plan is required whatever the risk level. */
  readonly requiresRollbackPlan: boolean;
  /** The approval roles a release of this type needs by default; a policy's config may ask for more. */
  readonly requiredApprovalRoles: readonly ApprovalRole[];
  /** Whether the type may be released inside a change freeze (the policy pack enforces freezes). */
  readonly allowedInFreeze: boolean;
}

export const DEPLOYMENT_TYPE_RULES: Readonly<Record<DeploymentType, DeploymentTypeRules>> = {
  "standard-full": {
    summary: "Complete system update: all components, full verification, user impact.",
    allowedTestScopes: ["full"],
    requiredCommunication: ["usersNotified", "teamBriefed", "supportInformed", "managementUpdated"],
    requiredPeople: ["technical", "support", "business", "management"],
    incident: undefined,
    requiresRollbackPlan: false,
    requiredApprovalRoles: ["technical", "business", "support", "change-board"],
    allowedInFreeze: false,
  },
  "standard-partial": {
    summary: "Specific components, limited scope, targeted testing, minimal impact.",
    allowedTestScopes: ["full", "targeted"],
    requiredCommunication: ["teamBriefed", "supportInformed"],
    requiredPeople: ["technical", "support"],
    incident: undefined,
    requiresRollbackPlan: false,
    requiredApprovalRoles: ["technical", "business", "change-board"],
    allowedInFreeze: false,
  },
  "hot-fix": {
    summary: "Critical issue, quick response, limited testing, high priority.",
    allowedTestScopes: ["full", "targeted", "reduced"],
    requiredCommunication: ["teamBriefed", "supportInformed"],
    requiredPeople: ["technical", "support"],
    incident: { required: true, reasons: ["critical-issue"] },
    requiresRollbackPlan: true,
    requiredApprovalRoles: ["technical", "business"],
    allowedInFreeze: true,
  },
  "emergency-patch": {
    summary: "Security fix or compliance update, immediate need, risk mitigation.",
    allowedTestScopes: ["full", "targeted", "reduced"],
    requiredCommunication: ["teamBriefed"],
    requiredPeople: ["technical"],
    incident: { required: true, reasons: ["security-fix", "compliance-update"] },
    requiresRollbackPlan: true,
    requiredApprovalRoles: ["technical", "change-board"],
    allowedInFreeze: true,
  },
};

/** Risk levels at which a rollback plan is required for every deployment type. */
export const ROLLBACK_PLAN_RISK_LEVELS: readonly RiskLevel[] = ["high", "critical"];

/** `a hot-fix release`, `an emergency-patch release`. */
function aRelease(type: DeploymentType): string {
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type} release`;
}

type Report = (path: readonly PropertyKey[], message: string) => void;

function checkTests(manifest: Manifest, rules: DeploymentTypeRules, report: Report): void {
  const { tests, deploymentType } = manifest;
  if (!rules.allowedTestScopes.includes(tests.scope)) {
    report(
      ["tests", "scope"],
      `${aRelease(deploymentType)} needs test scope ${rules.allowedTestScopes.join(" or ")}, not ${tests.scope}`,
    );
  }
  if (tests.passed + tests.failed + tests.skipped !== tests.total) {
    report(
      ["tests", "total"],
      `expected passed + failed + skipped (${tests.passed + tests.failed + tests.skipped}) to equal total (${tests.total})`,
    );
  }
  if (tests.passed === 0) {
    report(["tests", "passed"], "testing may be reduced but never zero: expected at least one passed test");
  }
  if (tests.failed > 0) {
    report(["tests", "failed"], `expected no failed tests before release, found ${tests.failed}`);
  }
}

function checkIncident(manifest: Manifest, rules: DeploymentTypeRules, report: Report): void {
  const { incident, deploymentType } = manifest;
  if (rules.incident === undefined) return;
  if (incident === undefined) {
    report(["incident"], `${aRelease(deploymentType)} must reference the incident it fixes`);
    return;
  }
  if (!rules.incident.reasons.includes(incident.reason)) {
    report(
      ["incident", "reason"],
      `${aRelease(deploymentType)} needs incident reason ${rules.incident.reasons.join(" or ")}, not ${incident.reason}`,
    );
  }
  if (Date.parse(incident.reviewDue) <= Date.parse(manifest.window.start)) {
    report(["incident", "reviewDue"], "expected the post-release review to be due after window.start");
  }
}

function checkRisk(manifest: Manifest, rules: DeploymentTypeRules, report: Report): void {
  if (manifest.risk.rollbackPlan !== undefined) return;
  if (rules.requiresRollbackPlan) {
    report(["risk", "rollbackPlan"], `${aRelease(manifest.deploymentType)} needs a rollback plan`);
  } else if (ROLLBACK_PLAN_RISK_LEVELS.includes(manifest.risk.level)) {
    report(["risk", "rollbackPlan"], `a ${manifest.risk.level}-risk release needs a rollback plan`);
  }
}

function checkStrategy(manifest: Manifest, report: Report): void {
  const { strategy } = manifest;
  if (strategy.type === "blue-green") {
    // Both colours run against one database during the switch, so the old one must survive the migration.
    manifest.components.forEach((component, componentIndex) => {
      component.database?.migrations.forEach((migration, migrationIndex) => {
        if (!migration.backwardCompatible) {
          report(
            ["components", componentIndex, "database", "migrations", migrationIndex, "backwardCompatible"],
            "blue-green needs backward-compatible migrations; otherwise use strategy recreate with a maintenance window",
          );
        }
      });
    });
    return;
  }
  if (!manifest.communication.usersNotified) {
    report(
      ["communication", "usersNotified"],
      "strategy recreate takes the service down: notify users first",
    );
  }
  const windowStart = Date.parse(manifest.window.start);
  const windowEnd = windowStart + (parseDuration(manifest.window.expectedDuration) ?? 0);
  const maintenanceStart = Date.parse(strategy.maintenanceWindow.start);
  const maintenanceEnd = maintenanceStart + (parseDuration(strategy.maintenanceWindow.duration) ?? 0);
  if (maintenanceStart < windowStart || maintenanceEnd > windowEnd) {
    report(
      ["strategy", "maintenanceWindow"],
      "expected the maintenance window to lie within the release window (window.start + window.expectedDuration)",
    );
  }
}

function checkComponents(manifest: Manifest, report: Report): void {
  const seen = new Set<string>();
  manifest.components.forEach((component, index) => {
    if (seen.has(component.name))
      report(["components", index, "name"], `duplicate component name ${component.name}`);
    seen.add(component.name);
  });
}

/**
 * The deployment-type rules broken by a manifest that already has the schema's shape, each naming its
 * field. An empty list means the manifest may be released as far as its content goes; approvals are
 * checked separately (see `verifyApprovals`).
 */
export function checkRules(manifest: Manifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const report: Report = (path, message) => issues.push({ path: formatPath(path), message });
  const rules = DEPLOYMENT_TYPE_RULES[manifest.deploymentType];

  if (manifest.changeRequest.status === "rejected") {
    report(["changeRequest", "status"], "a rejected change request cannot be released");
  }
  checkComponents(manifest, report);
  checkStrategy(manifest, report);
  checkRisk(manifest, rules, report);
  checkTests(manifest, rules, report);
  for (const item of rules.requiredCommunication) {
    if (!manifest.communication[item]) {
      report(["communication", item], `${aRelease(manifest.deploymentType)} needs this checklist item done`);
    }
  }
  for (const group of rules.requiredPeople) {
    if (manifest.people[group].length === 0) {
      report(["people", group], `${aRelease(manifest.deploymentType)} needs at least one person here`);
    }
  }
  checkIncident(manifest, rules, report);
  // Two rules can fault the same field (recreate and full scope both need users notified): say it once.
  return issues.filter((issue, index) => issues.findIndex((other) => other.path === issue.path) === index);
}
