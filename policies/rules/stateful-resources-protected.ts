import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { roleOf, stackOfUrn } from "../lib/roles";

export interface StatefulResourcesProtectedConfig {
  /** Stacks whose stateful resources must be protected. */
  readonly stacks: string[];
  /** Roles of the resources that hold data. */
  readonly statefulRoles: string[];
}

export const statefulResourcesProtectedDefaults: StatefulResourcesProtectedConfig = {
  stacks: ["production"],
  statefulRoles: ["backup"],
};

/** In production, the resources that hold data cannot be deleted by a `pulumi destroy` or a rename. */
export const statefulResourcesProtected: ResourceValidationPolicy = {
  name: "stateful-resources-protected",
  description:
    "On the stacks the policy config names (production by default), resources that hold data must be protected from deletion.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Register the resource with `protect: true`; remove a protected resource deliberately with `pulumi state unprotect` first.",
  configSchema: configSchema(statefulResourcesProtectedDefaults, {
    stacks: stringList,
    statefulRoles: stringList,
  }),
  validateResource: (args, reportViolation) => {
    const config = withDefaults(statefulResourcesProtectedDefaults, args.getConfig());
    const role = roleOf(args.type, args.urn, args.props);
    const stack = stackOfUrn(args.urn);
    if (role === undefined || !config.statefulRoles.includes(role) || !config.stacks.includes(stack)) return;
    if (!args.opts.protect) {
      reportViolation(
        `Protect ${role} ${args.name} on stack ${stack}: set protect: true so a destroy or rename cannot delete the data it holds.`,
      );
    }
  },
};
