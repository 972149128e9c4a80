/** A starting manifest for each deployment type: valid as generated, meant to be edited. */
import { Document } from "yaml";
import { DEPLOYMENT_TYPE_RULES } from "./rules";
import { type DeploymentType, type Manifest, MANIFEST_API_VERSION } from "./schema";

export interface TemplateOptions {
  readonly changeId: string;
  readonly version: string;
  /** The change request's author (a person id). */
  readonly author: string;
  /** When the release window opens. */
  readonly start: Date;
  readonly title?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function createManifestTemplate(type: DeploymentType, options: TemplateOptions): Manifest {
  const rules = DEPLOYMENT_TYPE_RULES[type];
  const emergency = rules.incident !== undefined;
  const start = isoSeconds(options.start);
  return {
    apiVersion: MANIFEST_API_VERSION,
    changeId: options.changeId,
    title: options.title ?? `Release ${options.version}`,
    version: options.version,
    deploymentType: type,
    window: { start, expectedDuration: emergency ? "30m" : "1h", verificationPeriod: "30m" },
    strategy: { type: "blue-green" },
    components: [
      {
        name: "app",
        artifact: { source: "registry.example.com/team/app", version: options.version },
        configChanges: [],
        dependencies: { systems: [], services: [], databases: [], externalApis: [] },
      },
    ],
    changeRequest: { id: options.changeId, author: options.author, status: "submitted" },
    risk: {
      level: emergency ? "high" : "low",
      impact: "Describe who and what is affected while the release runs.",
      mitigation: "Describe what limits the impact (blue-green switch, feature flag, staged rollout).",
      rollbackPlan: {
        triggers: ["system-failure", "errors", "performance", "business-impact"],
        steps: ["Switch traffic back to the previous colour", "Verify the previous version serves"],
        restoresData: false,
      },
    },
    tests: {
      scope: rules.allowedTestScopes[rules.allowedTestScopes.length - 1] ?? "full",
      passed: 1,
      failed: 0,
      skipped: 0,
      total: 1,
      report: "Link to the test report",
      reviewedBy: "reviewer",
    },
    communication: {
      usersNotified: rules.requiredCommunication.includes("usersNotified"),
      teamBriefed: true,
      supportInformed: rules.requiredCommunication.includes("supportInformed"),
      managementUpdated: rules.requiredCommunication.includes("managementUpdated"),
    },
    people: {
      technical: [options.author],
      support: rules.requiredPeople.includes("support") ? ["support-on-call"] : [],
      business: rules.requiredPeople.includes("business") ? ["product-owner"] : [],
      management: rules.requiredPeople.includes("management") ? ["engineering-manager"] : [],
    },
    ...(rules.incident === undefined
      ? {}
      : {
          incident: {
            id: "INC-0000",
            reason: rules.incident.reasons[0] ?? "critical-issue",
            summary: "Describe the incident this release fixes.",
            reviewDue: isoSeconds(new Date(options.start.getTime() + 5 * DAY_MS)),
          },
        }),
    approvals: [],
  };
}

/** YAML text for a manifest, with a header comment. */
export function renderManifestYaml(manifest: Manifest, header?: string): string {
  const document = new Document(manifest, { version: "1.2" });
  if (header !== undefined) document.commentBefore = header;
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}
