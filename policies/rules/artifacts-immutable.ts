import type { ResourceValidationPolicy } from "@pulumi/policy";
import { FLOATING_VERSIONS, SHA256_DIGEST_PATTERN } from "../../release";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { readManifest, releaseKey } from "../lib/evidence";
import { roleOf, stepInputs } from "../lib/roles";

export interface ArtifactsImmutableConfig {
  /** Whether every component of a manifest must name its artifact's content digest, not only a version. */
  readonly requireDigest: boolean;
  /** Version names that move, refused wherever a step names a version. */
  readonly floatingVersions: string[];
}

export const artifactsImmutableDefaults: ArtifactsImmutableConfig = {
  requireDigest: true,
  floatingVersions: [...FLOATING_VERSIONS],
};

const isDigest = (value: unknown): boolean => typeof value === "string" && SHA256_DIGEST_PATTERN.test(value);

/**
 * What was approved and gated is what runs: every artifact a release deploys, migrates with or gates
 * is pinned by its content digest (sha256), in the manifest and in each step that uses it.
 */
export const artifactsImmutable: ResourceValidationPolicy = {
  name: "artifacts-immutable",
  description:
    "Every artifact a release deploys, migrates with or gates must be pinned by a sha256 content digest, never by a floating version.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set components[].artifact.digest (sha256:<64 hex>) and a fixed version in the manifest, then collect approvals again.",
  configSchema: configSchema(artifactsImmutableDefaults, {
    requireDigest: { type: "boolean" },
    floatingVersions: stringList,
  }),
  validateResource: (args, reportViolation) => {
    const role = roleOf(args.type, args.urn, args.props);
    const config = withDefaults(artifactsImmutableDefaults, args.getConfig());
    const floating = (version: unknown) =>
      typeof version === "string" && config.floatingVersions.includes(version.toLowerCase());
    if (role === "evidence") {
      const read = readManifest(args.props);
      if (!read.ok) return; // release-manifest-valid reports it.
      for (const component of read.manifest.components) {
        if (config.requireDigest && !isDigest(component.artifact.digest)) {
          reportViolation(
            `Pin component ${component.name} of ${releaseKey(read.manifest)} (${args.name}) by its content digest ` +
              `(artifact.digest: sha256:<64 hex>), not only its version.`,
          );
        }
      }
      return;
    }
    if (role === "slot") {
      const spec = stepInputs(args)["spec"] as
        { version?: unknown; artifact?: Record<string, unknown> } | undefined;
      const artifact = spec?.artifact;
      if (!isDigest(artifact?.["digest"]) || floating(artifact?.["version"]) || floating(spec?.version)) {
        reportViolation(
          `Deploy ${args.name} from an artifact pinned by a sha256 digest and a fixed version ` +
            `(it names digest ${JSON.stringify(artifact?.["digest"]) ?? "none"}, version ${JSON.stringify(spec?.version) ?? "none"}).`,
        );
      }
      return;
    }
    if (role === "migration" || role === "gate") {
      const digest = stepInputs(args)["digest"];
      if (!isDigest(digest)) {
        reportViolation(
          `Pin the artifact ${role} ${args.name} uses by its sha256 digest (it names ${JSON.stringify(digest) ?? "none"}).`,
        );
      }
    }
  },
};
