import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configSchema, stringList, withDefaults } from "../lib/config";
import { releaseKey, validateEvidence } from "../lib/evidence";

export interface ChangeRequestApprovedConfig {
  /** Change request statuses a release may go ahead with. */
  readonly releasableStatuses: string[];
}

export const changeRequestApprovedDefaults: ChangeRequestApprovedConfig = {
  releasableStatuses: ["approved"],
};

/**
 * The seed's first pre-implementation item: the change request is approved. Its author may not
 * approve the release: such an approval is reported here and never counted by approvals-verified.
 */
export const changeRequestApproved: ResourceValidationPolicy = {
  name: "change-request-approved",
  description:
    "The release's change request must be approved, and its author must not be among the release's approvers.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Get the change request approved in the change process, and replace any approval by its author with one by another approver of the same role.",
  configSchema: configSchema(changeRequestApprovedDefaults, { releasableStatuses: stringList }),
  validateResource: validateEvidence((manifest, args, reportViolation) => {
    const config = withDefaults(changeRequestApprovedDefaults, args.getConfig());
    const { id, author, status } = manifest.changeRequest;
    if (!config.releasableStatuses.includes(status)) {
      reportViolation(
        `Get change request ${id} of ${releaseKey(manifest)} (${args.name}) approved before releasing it: ` +
          `its status is ${status}, expected ${config.releasableStatuses.join(" or ")}.`,
      );
    }
    (manifest.approvals ?? []).forEach((approval, index) => {
      if (approval.approverId !== author) return;
      reportViolation(
        `Remove approvals[${index}] (${author} as ${approval.role}) from ${releaseKey(manifest)} (${args.name}): ` +
          `${author} wrote change request ${id}, and an author's approval is not counted; ask another ${approval.role} approver.`,
      );
    });
  }),
};
