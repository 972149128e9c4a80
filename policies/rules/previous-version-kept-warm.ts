import type { StackValidationPolicy } from "@pulumi/policy";
import { configSchema, withDefaults } from "../lib/config";
import { resourcesWithRole, serviceOf, stepInputs } from "../lib/roles";

export interface PreviousVersionKeptWarmConfig {
  /** The shortest time the previous colour may be kept running after a switch. */
  readonly minimumWarmWindowMinutes: number;
  /** The program's default for shipgate:services.<name>.warmWindowMinutes (config.ts). */
  readonly programDefaultWarmWindowMinutes: number;
}

export const previousVersionKeptWarmDefaults: PreviousVersionKeptWarmConfig = {
  minimumWarmWindowMinutes: 30,
  programDefaultWarmWindowMinutes: 60,
};

/** The warm window a service's plan declares on its switch; the program's default when it says none. */
function warmWindowMinutes(
  switchProps: Record<string, unknown> | undefined,
  programDefault: number,
): number | undefined {
  const declared = switchProps?.["warmWindowMinutes"];
  if (declared === undefined) return programDefault;
  return typeof declared === "number" ? declared : undefined;
}

/**
 * Rollback is a routing change only while the previous version still runs: when post-promotion
 * verification names a colour to roll back to, that colour's slot stays in the plan, and the stack
 * keeps it for at least the configured window.
 */
export const previousVersionKeptWarm: StackValidationPolicy = {
  name: "previous-version-kept-warm",
  description:
    "After a switch, the previous version must stay in the plan as the rollback target and be kept warm for at least the configured window.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Keep the previous colour's slot declared (blue-green), and raise shipgate:services.<name>.warmWindowMinutes to the policy's minimum.",
  configSchema: configSchema(previousVersionKeptWarmDefaults, {
    minimumWarmWindowMinutes: { type: "integer", minimum: 0 },
    programDefaultWarmWindowMinutes: { type: "integer", minimum: 0 },
  }),
  validateStack: (args, reportViolation) => {
    const config = withDefaults(previousVersionKeptWarmDefaults, args.getConfig());
    const slots = resourcesWithRole(args.resources, "slot");
    const switches = resourcesWithRole(args.resources, "switch");
    for (const verification of resourcesWithRole(args.resources, "verification")) {
      const service = serviceOf(verification);
      const previous: unknown = stepInputs(verification)["rollbackTo"];
      if (service === undefined || typeof previous !== "string") continue;
      if (!slots.some((slot) => serviceOf(slot) === service && stepInputs(slot)["color"] === previous)) {
        reportViolation(
          `Keep the ${previous} colour of ${service} in the plan: ${verification.name} rolls back to it, ` +
            `but no slot declares it, so it would be stopped and rollback would need a redeploy.`,
          verification.urn,
        );
      }
      const traffic = switches.find((candidate) => serviceOf(candidate) === service);
      const minutes = warmWindowMinutes(
        traffic && stepInputs(traffic),
        config.programDefaultWarmWindowMinutes,
      );
      if (minutes === undefined || minutes < config.minimumWarmWindowMinutes) {
        reportViolation(
          `Keep the previous version of ${service} warm for at least ${config.minimumWarmWindowMinutes} minutes: ` +
            `set shipgate:services.${service}.warmWindowMinutes to ${config.minimumWarmWindowMinutes} or more ` +
            `(it is ${minutes ?? "not a number"}).`,
          verification.urn,
        );
      }
    }
  },
};
