/**
 * shipgate's release model: the manifest, its rules, its digest and its approvals. Pure TypeScript with
 * no Pulumi imports, shared by the program, the policy pack, the CLI and the tests.
 */
export * from "./schema";
export {
  DEPLOYMENT_TYPE_RULES,
  ROLLBACK_PLAN_RISK_LEVELS,
  type DeploymentTypeRules,
  checkRules,
} from "./rules";
export { type ManifestIssue, type Checked, describeIssue, formatPath } from "./issues";
export { CanonicalJsonError, DIGEST_PREFIX, canonicalJson, manifestDigest, sha256Digest } from "./digest";
export {
  type ApproverKeyPair,
  type TrustedApprover,
  type TrustedKeys,
  addTrustedKeyToText,
  checkTrustedKeys,
  decodePublicKey,
  encodePublicKey,
  generateApproverKeyPair,
  parsePrivateKey,
  parseTrustedKeys,
  trustedApprover,
  trustedKeysSchema,
} from "./keys";
export {
  APPROVAL_CONTEXT,
  CLOCK_SKEW_MS,
  DEFAULT_APPROVAL_REQUIREMENTS,
  type ApprovalJudgement,
  type ApprovalRequirements,
  type ApprovalClaims,
  type ApprovalVerification,
  type RejectedApproval,
  type RejectionReason,
  type SignApprovalArgs,
  type ValidApproval,
  type VerifyApprovalsOptions,
  approvalMessage,
  judgeApprovals,
  missingRoles,
  requiredRoles,
  signApproval,
  verifyApprovals,
} from "./approvals";
export {
  type ManifestCheck,
  type ManifestFileRead,
  MAX_MANIFEST_BYTES,
  addApprovalToManifestText,
  checkManifest,
  loadManifestFile,
  parseManifest,
  readManifestInProject,
} from "./manifest";
export { type TemplateOptions, createManifestTemplate, renderManifestYaml } from "./template";
export { DEVELOPMENT_STACKS, DEVELOPMENT_STACK_PREFIX, isDevelopmentStack } from "./stacks";
export {
  type StackApprovalPolicy,
  approvalPolicyFromPackConfig,
  approvalProblems,
  checkStackApprovals,
} from "./stack-approvals";
