import type { ResourceValidationPolicy } from "@pulumi/policy";
import { verificationPolicyFor, verificationPolicySchema } from "../../contract";
import { configSchema, withDefaults } from "../lib/config";
import { roleOf, stepInputs } from "../lib/roles";

export interface GateThresholdsWithinBoundsConfig {
  /** Pre-promotion gate: the fewest consecutive passing rounds before a switch. */
  readonly minConsecutiveSuccesses: number;
  /** Pre-promotion gate: the most failing rounds tolerated before the gate fails. */
  readonly maxFailureThreshold: number;
  /** Pre-promotion gate: the longest it may wait for the candidate, in milliseconds. */
  readonly maxTimeoutMs: number;
  /** Post-promotion verification: the shortest bake time under real traffic, in milliseconds. */
  readonly minBakeTimeMs: number;
  /**
   * Post-promotion verification of a fast-tracked rollback (back to a build that succeeded in the
   * same release before, on a colour that still runs it): the shortest bake, in milliseconds.
   */
  readonly minRollbackBakeTimeMs: number;
  /** Post-promotion verification: the highest error rate it may accept (0..1). */
  readonly maxErrorRate: number;
  /** Post-promotion verification: the highest p95 latency it may accept, in milliseconds. */
  readonly maxP95LatencyMs: number;
  /** Whether gates and verification must run at least one business check (a smoke request) too. */
  readonly requireBusinessCheck: boolean;
}

export const gateThresholdsWithinBoundsDefaults: GateThresholdsWithinBoundsConfig = {
  minConsecutiveSuccesses: 2,
  maxFailureThreshold: 5,
  maxTimeoutMs: 600_000,
  minBakeTimeMs: 5_000,
  minRollbackBakeTimeMs: 0,
  maxErrorRate: 0.05,
  maxP95LatencyMs: 2_000,
  requireBusinessCheck: false,
};

type Bound = readonly [field: string, value: unknown, kind: "min" | "max", limit: number];

function checkKinds(checks: unknown): Set<string> {
  if (!Array.isArray(checks)) return new Set();
  return new Set(
    checks.map((check: unknown) =>
      typeof check === "object" && check !== null ? String((check as Record<string, unknown>)["kind"]) : "",
    ),
  );
}

/**
 * The thresholds a stack's gates run with are the platform team's to bound: a gate that passes after
 * one lucky round or a verification that accepts any error rate is no gate. Reads the gate's `policy`
 * and the verification's `spec` inputs (every platform's gate step carries them under these names).
 */
export const gateThresholdsWithinBounds: ResourceValidationPolicy = {
  name: "gate-thresholds-within-bounds",
  description:
    "Pre-promotion gates and post-promotion verification must run technical checks with thresholds inside the bounds the policy config sets.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Set shipgate:services.<name>.gate and .verification in the stack's config within the bounds, and keep the technical checks (and smoke checks where required).",
  configSchema: configSchema(gateThresholdsWithinBoundsDefaults, {
    minConsecutiveSuccesses: { type: "integer", minimum: 1 },
    maxFailureThreshold: { type: "integer", minimum: 1 },
    maxTimeoutMs: { type: "integer", minimum: 1 },
    minBakeTimeMs: { type: "integer", minimum: 0 },
    minRollbackBakeTimeMs: { type: "integer", minimum: 0 },
    maxErrorRate: { type: "number", minimum: 0, maximum: 1 },
    maxP95LatencyMs: { type: "number", minimum: 1 },
    requireBusinessCheck: { type: "boolean" },
  }),
  validateResource: (args, reportViolation) => {
    const role = roleOf(args.type, args.urn, args.props);
    if (role !== "gate" && role !== "verification") return;
    const inputs = stepInputs(args);
    const config = withDefaults(gateThresholdsWithinBoundsDefaults, args.getConfig());
    const what = role === "gate" ? `gate ${args.name}` : `verification ${args.name}`;
    const settings = (role === "gate" ? inputs["policy"] : inputs["spec"]) as
      Record<string, unknown> | undefined;
    // A fast-tracked rollback bakes briefly (the judge's verificationPolicyFor); the platform team
    // bounds that bake apart from a new build's.
    const fastTrack = role === "verification" && inputs["fastTrack"] === true;
    const rollbackBake = (): unknown => {
      const parsed = verificationPolicySchema.safeParse(settings);
      return parsed.success ? verificationPolicyFor(parsed.data, true).bakeTimeMs : settings?.["bakeTimeMs"];
    };
    const bounds: Bound[] =
      role === "gate"
        ? [
            [
              "consecutiveSuccesses",
              settings?.["consecutiveSuccesses"],
              "min",
              config.minConsecutiveSuccesses,
            ],
            ["failureThreshold", settings?.["failureThreshold"], "max", config.maxFailureThreshold],
            ["timeoutMs", settings?.["timeoutMs"], "max", config.maxTimeoutMs],
          ]
        : [
            fastTrack
              ? ["rollbackBakeTimeMs", rollbackBake(), "min", config.minRollbackBakeTimeMs]
              : ["bakeTimeMs", settings?.["bakeTimeMs"], "min", config.minBakeTimeMs],
            ["maxErrorRate", settings?.["maxErrorRate"], "max", config.maxErrorRate],
            ["maxP95LatencyMs", settings?.["maxP95LatencyMs"], "max", config.maxP95LatencyMs],
          ];
    for (const [field, value, kind, limit] of bounds) {
      const ok = typeof value === "number" && (kind === "min" ? value >= limit : value <= limit);
      if (ok) continue;
      reportViolation(
        `${kind === "min" ? "Raise" : "Lower"} ${field} of ${what} to ${kind === "min" ? "at least" : "at most"} ` +
          `${limit} (it is ${JSON.stringify(value) ?? "unset"}), in shipgate:services.<service>.` +
          `${role === "gate" ? "gate" : "verification"} of the stack's config.`,
      );
    }
    const kinds = checkKinds(inputs["checks"]);
    if (!kinds.has("technical")) {
      reportViolation(`Add the technical checks (up, healthy, right version, fast enough) to ${what}.`);
    }
    if (config.requireBusinessCheck && !kinds.has("business")) {
      reportViolation(
        `Add a business check (a smoke request) to ${what}, in shipgate:services.<service>.smoke of the stack's config.`,
      );
    }
  },
};
