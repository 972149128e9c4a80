import { describe, expect, it } from "vitest";
import { changeRequestApproved } from "../../../policies/rules/change-request-approved";
import { approve, approvers, evidence, exampleManifest } from "./fixtures";
import { runResourcePolicy } from "./harness";

const base = exampleManifest("releases/sample-app/v2.yaml"); // CR-101 by riley, approved
const run = (manifest: typeof base, config?: Record<string, unknown>) =>
  runResourcePolicy(changeRequestApproved, evidence(manifest), config ? { config } : {});

describe("change-request-approved", () => {
  it("is named, described and mandatory by default", () => {
    expect(changeRequestApproved.name).toBe("change-request-approved");
    expect(changeRequestApproved.enforcementLevel).toBe("mandatory");
    expect(changeRequestApproved.description).toMatch(/^The .+\.$/);
    expect(changeRequestApproved.configSchema?.properties["releasableStatuses"]).toMatchObject({
      default: ["approved"],
    });
  });

  it("passes an approved change request approved by others than its author", async () => {
    expect(await run(approve(base, [approvers.tara, approvers.bea]))).toEqual({ violations: [] });
  });

  it.each(["draft", "submitted", "rejected"] as const)("reports a %s change request", async (status) => {
    const manifest = { ...base, changeRequest: { ...base.changeRequest, status } };
    expect(await run(manifest)).toEqual({
      violations: [
        `Get change request CR-101 of CHG-101@2.0.0 (release-anchor-evidence) approved before releasing it: ` +
          `its status is ${status}, expected approved.`,
      ],
    });
  });

  it("reports every approval by the change request's author", async () => {
    const selfApproved = approve(approve(base, [approvers.tara]), [approvers.riley]);
    expect(await run(selfApproved)).toEqual({
      violations: [
        `Remove approvals[1] (riley as technical) from CHG-101@2.0.0 (release-anchor-evidence): riley wrote ` +
          `change request CR-101, and an author's approval is not counted; ask another technical approver.`,
      ],
    });
  });

  it("takes the releasable statuses from its config", async () => {
    const submitted = { ...base, changeRequest: { ...base.changeRequest, status: "submitted" as const } };
    expect(await run(submitted, { releasableStatuses: ["approved", "submitted"] })).toEqual({
      violations: [],
    });
  });
});
