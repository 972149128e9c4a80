import type { ResourceValidationPolicy } from "@pulumi/policy";
import { checkManifest, describeIssue, manifestDigest } from "../../release";
import { configSchema, withDefaults } from "../lib/config";
import { evidenceType } from "../lib/roles";

export interface ReleaseManifestValidConfig {
  /** Evidence fields that must repeat the manifest's value exactly. */
  readonly consistentFields: string[];
}

export const releaseManifestValidDefaults: ReleaseManifestValidConfig = {
  consistentFields: ["changeId", "version", "deploymentType"],
};

/**
 * The evidence's manifest passes the release model's schema and deployment-type rules, and what the
 * program derived from it (ids, type, digest) agrees with it: the other gates read the manifest, so a
 * program that registered something else is caught here.
 */
export const releaseManifestValid: ResourceValidationPolicy = {
  name: "release-manifest-valid",
  description:
    "The release manifest on the release anchor must pass the release model's schema and deployment-type rules, and the anchor's ids and digest must match it.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Run `npx shipgate validate <manifest>` and fix every problem it lists; build the program from the unchanged release model.",
  configSchema: configSchema(releaseManifestValidDefaults, {
    consistentFields: { type: "array", items: { type: "string" } },
  }),
  validateResource: (args, reportViolation) => {
    if (args.type !== evidenceType) return;
    const config = withDefaults(releaseManifestValidDefaults, args.getConfig());
    const manifest: unknown = args.props["manifest"];
    const check = checkManifest(manifest);
    const path = String(args.props["manifestPath"] ?? "the manifest");
    if (!check.ok) {
      reportViolation(
        `Fix the release manifest ${path} carried by ${args.name} (check it with \`npx shipgate validate ${path}\`): ` +
          check.issues.map(describeIssue).join("; ") +
          ".",
      );
      return;
    }
    const fields = check.manifest as unknown as Record<string, unknown>;
    for (const field of config.consistentFields) {
      if (args.props[field] !== fields[field]) {
        reportViolation(
          `Register ${args.name} with the manifest's ${field} (${JSON.stringify(fields[field])}), ` +
            `not ${JSON.stringify(args.props[field])}: the anchor must describe the release it carries.`,
        );
      }
    }
    const digest = manifestDigest(check.manifest);
    if (args.props["digest"] !== digest) {
      reportViolation(
        `Register ${args.name} with the manifest's digest ${digest}, not ${JSON.stringify(args.props["digest"])}: ` +
          `the policies recompute it from the manifest and check approvals against ${digest}.`,
      );
    }
  },
};
