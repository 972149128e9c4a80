// The pack's approval gates run outside the engine, on a manifest and a stack's policy config, for
// `shipgate verify --policy-config`: the same policy objects the pack serves, called with the args the
// policy server would build for the release anchor's evidence, so the verdict cannot drift from the
// pack's.
import type { EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { type Manifest, manifestDigest } from "../../release";
import { approvalGates, policiesForStack } from "../pack";
import { evidenceType } from "./roles";

export interface GateFinding {
  readonly policy: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly message: string;
}

class NotApplicable extends Error {}

/** The evidence the program registers on the release anchor for a manifest (components/anchor.ts). */
function evidenceProps(manifest: Manifest): Record<string, unknown> {
  return {
    changeId: manifest.changeId,
    version: manifest.version,
    deploymentType: manifest.deploymentType,
    digest: manifestDigest(manifest),
    manifest,
  };
}

/** A policy's config as the engine hands it over: the schema's defaults, then the stack's values. */
function policyConfig(
  policy: ResourceValidationPolicy,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(policy.configSchema?.properties ?? {})) {
    if (typeof property === "object" && property !== null && "default" in property)
      defaults[key] = property.default;
  }
  const { enforcementLevel: _level, ...values } = given;
  return { ...defaults, ...values };
}

function entryOf(packConfig: Record<string, unknown>, name: string): Record<string, unknown> {
  const entry = packConfig[name];
  if (typeof entry === "string") return { enforcementLevel: entry };
  return typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>) : {};
}

/**
 * Runs every approval gate the pack runs on `stack` (its levels, overridden by the policy config's)
 * on the manifest data, and returns each violation with its level. Disabled gates do not run.
 */
export async function runApprovalGates(
  manifest: Manifest,
  packConfig: Record<string, unknown>,
  stack: string,
): Promise<GateFinding[]> {
  const names = new Set(approvalGates.map((policy) => policy.name));
  const findings: GateFinding[] = [];
  for (const policy of policiesForStack(stack)) {
    if (!names.has(policy.name) || !("validateResource" in policy)) continue;
    const resourcePolicy = policy as ResourceValidationPolicy;
    const entry = entryOf(packConfig, policy.name);
    const level =
      (entry["enforcementLevel"] as EnforcementLevel | undefined) ?? policy.enforcementLevel ?? "advisory";
    if (level === "disabled") continue;
    const config = policyConfig(resourcePolicy, entry);
    const args: ResourceValidationArgs = {
      type: evidenceType,
      name: "release-anchor-evidence",
      urn: `urn:pulumi:${stack}::shipgate::shipgate:release:ReleaseAnchor$${evidenceType}::release-anchor-evidence`,
      props: evidenceProps(manifest),
      opts: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
      },
      stackTags: new Map(),
      isType: () => false,
      asType: () => undefined,
      getConfig: <T extends object>() => config as T,
      notApplicable: (reason?: string): never => {
        throw new NotApplicable(reason ?? "");
      },
    };
    const validations = Array.isArray(resourcePolicy.validateResource)
      ? resourcePolicy.validateResource
      : resourcePolicy.validateResource === undefined
        ? []
        : [resourcePolicy.validateResource];
    try {
      for (const validate of validations) {
        await validate(args, (message) =>
          findings.push({ policy: policy.name, enforcementLevel: level, message }),
        );
      }
    } catch (error) {
      if (!(error instanceof NotApplicable)) throw error;
    }
  }
  return findings;
}
