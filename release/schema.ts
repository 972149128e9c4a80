/**
 * The release manifest: one YAML document per release. This module is the single source of the
 * manifest's shape; the cross-field rules per deployment type live in `rules.ts`.
 *
 * Deliberately no schema defaults and no transforms: the document an approver signs (see `digest.ts`)
 * is exactly the document the program acts on, so nothing takes effect that was not written down.
 * Every object is strict, so a misspelt or unknown field is an error instead of being silently ignored.
 */
import { z } from "zod";

export const MANIFEST_API_VERSION = "shipgate.dev/v1";

export const DEPLOYMENT_TYPES = ["standard-full", "standard-partial", "hot-fix", "emergency-patch"] as const;
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];

export const APPROVAL_ROLES = ["technical", "business", "support", "change-board"] as const;
export type ApprovalRole = (typeof APPROVAL_ROLES)[number];

export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const CHANGE_REQUEST_STATUSES = ["draft", "submitted", "approved", "rejected"] as const;
export const TEST_SCOPES = ["full", "targeted", "reduced"] as const;
export const INCIDENT_REASONS = ["critical-issue", "security-fix", "compliance-update"] as const;
export const ROLLBACK_TRIGGERS = [
  "system-failure",
  "data-corruption",
  "integration-break",
  "security-breach",
  "errors",
  "performance",
  "business-impact",
] as const;
export type RollbackTrigger = (typeof ROLLBACK_TRIGGERS)[number];

/** A person or team id: what approvers, authors and reviewers are called everywhere. */
export const PRINCIPAL_ID_PATTERN = /^[a-z0-9](?:[a-z0-9._@-]{0,126}[a-z0-9])?$/;
const principalId = z
  .string()
  .regex(
    PRINCIPAL_ID_PATTERN,
    "expected an id of lower-case letters, digits and . _ @ - (e.g. alice or alice@example.com)",
  );

// No .trim(): a transform would make the document the program acts on (and signs) differ from the one
// written, so padding added after signing would keep the approvals. Blank text is refused instead.
const nonEmptyText = z.string().refine((text) => text.trim().length > 0, "expected a non-empty text");

/** SemVer 2.0.0, without a leading `v`. */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** `90s`, `45m`, `2h`, `1h30m`, `7d`: days, hours, minutes, seconds in that order, at least one. */
export const DURATION_PATTERN = /^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds in a duration written as DURATION_PATTERN allows, or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return undefined;
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? "0")) as [
    number,
    number,
    number,
    number,
  ];
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}

const duration = z
  .string()
  .refine((text) => (parseDuration(text) ?? 0) > 0, "expected a positive duration such as 45m, 2h or 1h30m");

/** An RFC 3339 timestamp with an explicit offset (`Z` or `+02:00`): a window is never in "local time". */
const timestamp = z.iso.datetime({
  offset: true,
  message: "expected an RFC 3339 timestamp with an offset, e.g. 2025-07-01T20:00:00Z",
});

/** Names that move: an artifact pinned to one of these is not pinned at all. */
export const FLOATING_VERSIONS = [
  "latest",
  "stable",
  "edge",
  "nightly",
  "main",
  "master",
  "head",
  "current",
  "dev",
] as const;

export const SHA256_DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

const artifactSchema = z
  .strictObject({
    /** The image repository or package name, without a tag or digest. */
    source: nonEmptyText
      .refine(
        (source) => !/[@]|:[^/]*$/.test(source),
        "expected a name without a tag or digest; put them in artifact.version or artifact.digest",
      )
      .refine(
        (source) => !source.startsWith("/") && !source.includes("\\") && !source.split("/").includes(".."),
        "expected a repository or package name, not an absolute path or one that climbs with ..",
      ),
    version: z
      .string()
      .min(1, "expected a pinned version")
      .refine(
        (version) => !(FLOATING_VERSIONS as readonly string[]).includes(version.toLowerCase()),
        "expected a pinned version, not a floating tag such as latest",
      )
      .refine(
        (version) => /^[0-9A-Za-z][0-9A-Za-z._+-]*$/.test(version) && !/(^|\.)[xX*](\.|$)/.test(version),
        "expected a pinned version (letters, digits, . _ + -), not a range or wildcard",
      )
      .optional(),
    digest: z
      .string()
      .regex(SHA256_DIGEST_PATTERN, "expected a content digest sha256:<64 lower-case hex digits>")
      .optional(),
  })
  .refine((artifact) => artifact.version !== undefined || artifact.digest !== undefined, {
    message: "expected an immutable artifact: set artifact.digest or a pinned artifact.version",
  });

const migrationSchema = z.strictObject({
  id: nonEmptyText,
  description: nonEmptyText,
  /** The old version keeps working against the migrated schema (expand/contract). */
  backwardCompatible: z.boolean(),
});

const databaseChangesSchema = z.strictObject({
  /** The database instance the migrations run against: a stateful target the release backs up. */
  name: nonEmptyText,
  migrations: z
    .array(migrationSchema)
    .min(1, "expected at least one migration")
    .superRefine((migrations, ctx) => {
      // A migration id names one step: a second step under the same id would run as "already done".
      const seen = new Map<string, number>();
      migrations.forEach((migration, index) => {
        const first = seen.get(migration.id);
        if (first === undefined) seen.set(migration.id, index);
        else
          ctx.addIssue({
            code: "custom",
            path: [index, "id"],
            message: `duplicate migration id ${JSON.stringify(migration.id)}: migrations[${first}] has it already`,
          });
      });
    }),
});

/** What a config change's key must look like: it reaches the service as an environment variable. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A stack secret's name (`shipgate:secrets.<name>`), as a config change names it. */
export const SECRET_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * A config change sets an environment variable of the service: to a `value` written in the manifest,
 * or to the stack secret it names with `secret` (its value is the stack's, set with `pulumi config set
 * --secret`, and never appears in the manifest, the state, the records or the logs). One of the two.
 */
const configChangeSchema = z
  .strictObject({
    key: z
      .string()
      .regex(
        ENV_NAME_PATTERN,
        "expected an environment variable name: letters, digits and _, not starting with a digit",
      ),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    secret: z
      .string()
      .regex(
        SECRET_NAME_PATTERN,
        "expected a secret name: a letter, then letters, digits, _ or -, at most 64 characters",
      )
      .optional(),
    description: nonEmptyText.optional(),
  })
  .superRefine((change, ctx) => {
    if ((change.value === undefined) === (change.secret === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: change.value === undefined ? ["value"] : ["secret"],
        message:
          "expected either a value or the name of a stack secret (secret: <name>), exactly one of the two",
      });
    }
  });

const dependenciesSchema = z.strictObject({
  systems: z.array(nonEmptyText),
  services: z.array(nonEmptyText),
  databases: z.array(nonEmptyText),
  externalApis: z.array(nonEmptyText),
});

const COMPONENT_NAME_PATTERN = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const componentSchema = z.strictObject({
  name: z.string().regex(COMPONENT_NAME_PATTERN, "expected a DNS label: lower-case letters, digits and -"),
  artifact: artifactSchema,
  configChanges: z.array(configChangeSchema),
  database: databaseChangesSchema.optional(),
  dependencies: dependenciesSchema,
});

const windowSchema = z.strictObject({
  start: timestamp,
  expectedDuration: duration,
  /** How long post-promotion verification watches the new version before the release is done. */
  verificationPeriod: duration,
});

const strategySchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("blue-green") }),
  z.strictObject({
    type: z.literal("recreate"),
    maintenanceWindow: z.strictObject({
      start: timestamp,
      duration,
      /** What users see while the service is down. */
      userMessage: nonEmptyText,
    }),
  }),
]);

const changeRequestSchema = z.strictObject({
  id: nonEmptyText,
  /** Who asked for the change: a later policy refuses approvals by this id (no self-approval). */
  author: principalId,
  status: z.enum(CHANGE_REQUEST_STATUSES),
});

const rollbackPlanSchema = z.strictObject({
  triggers: z.array(z.enum(ROLLBACK_TRIGGERS)).min(1, "expected at least one rollback trigger"),
  steps: z.array(nonEmptyText).min(1, "expected at least one rollback step"),
  /** Whether rolling back restores data from the release's backup, not only the previous version. */
  restoresData: z.boolean(),
});

const riskSchema = z.strictObject({
  level: z.enum(RISK_LEVELS),
  impact: nonEmptyText,
  mitigation: nonEmptyText,
  rollbackPlan: rollbackPlanSchema.optional(),
});

const count = z.number().int("expected a whole number").min(0, "expected a count of zero or more");

const testResultsSchema = z.strictObject({
  scope: z.enum(TEST_SCOPES),
  passed: count,
  failed: count,
  skipped: count,
  total: count,
  report: nonEmptyText,
  reviewedBy: principalId,
});

const communicationSchema = z.strictObject({
  usersNotified: z.boolean(),
  teamBriefed: z.boolean(),
  supportInformed: z.boolean(),
  managementUpdated: z.boolean(),
});

const peopleSchema = z.strictObject({
  technical: z.array(principalId),
  support: z.array(principalId),
  business: z.array(principalId),
  management: z.array(principalId),
});

const incidentSchema = z.strictObject({
  id: nonEmptyText,
  reason: z.enum(INCIDENT_REASONS),
  summary: nonEmptyText,
  /** The mandatory review after an emergency release: the date it is due by. */
  reviewDue: timestamp,
});

/** Base64 of the 64-byte Ed25519 signature. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{86}==$/;

export const approvalSchema = z.strictObject({
  approverId: principalId,
  role: z.enum(APPROVAL_ROLES),
  signature: z.string().regex(SIGNATURE_PATTERN, "expected a base64 Ed25519 signature (88 characters)"),
  signedAt: timestamp,
  expiresAt: timestamp,
});

export const manifestSchema = z.strictObject({
  apiVersion: z.literal(MANIFEST_API_VERSION),
  changeId: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      "expected an id of letters, digits and . _ - (e.g. CHG-2041)",
    ),
  title: nonEmptyText,
  version: z.string().regex(SEMVER_PATTERN, "expected a semantic version such as 2.4.0 (quote it in YAML)"),
  deploymentType: z.enum(DEPLOYMENT_TYPES),
  window: windowSchema,
  strategy: strategySchema,
  components: z.array(componentSchema).min(1, "expected at least one component"),
  changeRequest: changeRequestSchema,
  risk: riskSchema,
  tests: testResultsSchema,
  communication: communicationSchema,
  people: peopleSchema,
  incident: incidentSchema.optional(),
  approvals: z.array(approvalSchema).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type Approval = z.infer<typeof approvalSchema>;
export type Component = z.infer<typeof componentSchema>;
export type Strategy = z.infer<typeof strategySchema>;
export type TestResults = z.infer<typeof testResultsSchema>;
export type Communication = z.infer<typeof communicationSchema>;
