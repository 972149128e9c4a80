// The release contract: what a check is, what a gate policy and a verification spec are, what a
// notification says, and every default in one table. zod schemas, with every type inferred from them.
// The program, each platform (in process or in a bundle that runs in a cluster) and the policy pack
// read these, so a stack's settings mean the same thing wherever they are judged.
import { z } from "zod";
import { describeIssue, issuesFromZod, type Checked } from "../release/issues";

/** Every default of the contract. Schemas apply them; nothing else does. */
export const CONTRACT_DEFAULTS = {
  check: { kind: "business", method: "GET", status: 200 },
  gate: {
    consecutiveSuccesses: 3,
    /** Failed rounds in total (not in a row), so a flapping build ends the gate instead of outliving it. */
    failureThreshold: 3,
    intervalMs: 500,
    timeoutMs: 30_000,
    requestTimeoutMs: 5_000,
  },
  verification: {
    bakeTimeMs: 10_000,
    /** Short, because each interval is time users may spend on a failing version. */
    intervalMs: 250,
    maxErrorRate: 0.01,
    maxP95LatencyMs: 1_000,
    requestTimeoutMs: 5_000,
  },
  webhook: { attempts: 3, baseDelayMs: 200, timeoutMs: 5_000 },
} as const;

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const CHECK_KINDS = ["technical", "business"] as const;

const statusCode = z
  .number("expected an HTTP status code")
  .int("expected an HTTP status code")
  .min(100, "expected an HTTP status code from 100 to 599")
  .max(599, "expected an HTTP status code from 100 to 599");

/** A number field whose error says "required" when it is missing and what it expects otherwise. */
const numberField = (expected: string) =>
  z.number({
    error: (issue) => (issue.input === undefined ? `required: expected ${expected}` : `expected ${expected}`),
  });

const positiveMs = (what: string) =>
  numberField(`${what} in milliseconds`)
    .int(`expected ${what} as whole milliseconds`)
    .positive(`expected ${what} above 0 ms`);

const rounds = (what: string) =>
  z
    .number(`expected a number of ${what}`)
    .int(`expected a whole number of ${what}`)
    .min(1, `expected 1 or more ${what}`);

function isRegExpSource(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** One HTTP request and what its response must show. */
export const httpCheckSchema = z.strictObject({
  name: z.string("expected a check name").trim().min(1, "expected a non-empty check name"),
  /** A technical check's failure is judged by what failed; a business check's is business impact. */
  kind: z
    .enum(CHECK_KINDS, `expected one of ${CHECK_KINDS.join(", ")}`)
    .default(CONTRACT_DEFAULTS.check.kind),
  method: z
    .enum(HTTP_METHODS, `expected one of ${HTTP_METHODS.join(", ")}`)
    .default(CONTRACT_DEFAULTS.check.method),
  path: z
    .string("expected a request path")
    .regex(/^\/\S*$/, "expected a path starting with / and without spaces, e.g. /health"),
  headers: z.record(z.string(), z.string("expected a header value as text")).optional(),
  /** A string is sent as it is; anything else as JSON. */
  body: z.union([z.string(), z.json()], "expected text or a JSON value").optional(),
  expect: z
    .strictObject({
      /** One status or a list of accepted ones. */
      status: z
        .union([statusCode, z.array(statusCode).min(1, "expected at least one status code")])
        .default(CONTRACT_DEFAULTS.check.status),
      bodyContains: z.string("expected text").min(1, "expected non-empty text").optional(),
      /** A JavaScript regular expression source, without slashes. */
      bodyMatches: z
        .string("expected a regular expression")
        .refine(isRegExpSource, "expected a valid JavaScript regular expression")
        .optional(),
      /** A dotted path into a JSON body: `version`, `build.commit`, `items.0.id`. */
      jsonPath: z
        .string("expected a dotted path")
        .regex(/^[^.\s]+(\.[^.\s]+)*$/, "expected a dotted path such as version or build.commit")
        .optional(),
      equals: z.json("expected a JSON value").optional(),
      /** Shorthand: the JSON body's `version` must equal this. */
      version: z.string("expected a version").min(1, "expected a non-empty version").optional(),
      maxLatencyMs: positiveMs("a latency bound").optional(),
    })
    .refine((expect) => (expect.jsonPath === undefined) === (expect.equals === undefined), {
      message: "expected jsonPath and equals together: equals is the value found at jsonPath",
      path: ["jsonPath"],
    })
    .prefault({}),
});
/** A check as written (defaults may be left out). */
export type HttpCheck = z.input<typeof httpCheckSchema>;
/** A check with its defaults applied: what platforms receive and store. */
export type ResolvedHttpCheck = z.output<typeof httpCheckSchema>;

/** A list of checks whose names are unique (a failure names its check). */
export const checksSchema = z
  .array(httpCheckSchema, "expected a list of checks")
  .superRefine((checks, context) => {
    const seen = new Set<string>();
    checks.forEach((check, index) => {
      if (seen.has(check.name)) {
        context.addIssue({
          code: "custom",
          path: [index, "name"],
          message: `expected a unique check name; "${check.name}" is used twice`,
        });
      }
      seen.add(check.name);
    });
  });

const gateDefaults = CONTRACT_DEFAULTS.gate;
/** When a pre-promotion gate passes or fails. */
export const gatePolicySchema = z.strictObject({
  consecutiveSuccesses: rounds("rounds").default(gateDefaults.consecutiveSuccesses),
  /** This many failed rounds in total end the gate as failed. */
  failureThreshold: rounds("rounds").default(gateDefaults.failureThreshold),
  /** From the start of one round to the start of the next. */
  intervalMs: z
    .number("expected an interval in milliseconds")
    .int("expected whole milliseconds")
    .min(0, "expected 0 ms or more")
    .default(gateDefaults.intervalMs),
  /** Overall: no round starts after it, and requests are cut off at it. */
  timeoutMs: positiveMs("a timeout").default(gateDefaults.timeoutMs),
  minRounds: rounds("rounds").optional(),
  /** Each request's own timeout. */
  requestTimeoutMs: positiveMs("a request timeout").default(gateDefaults.requestTimeoutMs),
});
export type GatePolicyInput = z.input<typeof gatePolicySchema>;
export type GatePolicy = z.output<typeof gatePolicySchema>;

export const gateSpecSchema = z.strictObject({
  checks: checksSchema.min(1, "expected at least one check"),
  policy: gatePolicySchema.prefault({}),
});
export type GateSpec = z.output<typeof gateSpecSchema>;

const verificationDefaults = CONTRACT_DEFAULTS.verification;
/** The thresholds of post-promotion verification over its bake time. */
export const verificationPolicySchema = z.strictObject({
  bakeTimeMs: positiveMs("a bake time").default(verificationDefaults.bakeTimeMs),
  intervalMs: positiveMs("an interval").default(verificationDefaults.intervalMs),
  /** The share of failed probes allowed over the bake time, from 0 to 1. */
  maxErrorRate: numberField("an error rate from 0 to 1")
    .min(0, "expected an error rate from 0 to 1")
    .max(1, "expected an error rate from 0 to 1")
    .default(verificationDefaults.maxErrorRate),
  maxP95LatencyMs: positiveMs("a p95 latency bound").default(verificationDefaults.maxP95LatencyMs),
  requestTimeoutMs: positiveMs("a request timeout").default(verificationDefaults.requestTimeoutMs),
  /**
   * The bake after a fast-tracked rollback (contract/judge.ts `fastTrackRollback`); unset: one
   * interval, that is two rounds of every check. Longer than bakeTimeMs counts as bakeTimeMs.
   */
  rollbackBakeTimeMs: positiveMs("a rollback bake time").optional(),
});
export type VerificationPolicyInput = z.input<typeof verificationPolicySchema>;
export type VerificationPolicy = z.output<typeof verificationPolicySchema>;

export const verificationSpecSchema = verificationPolicySchema.extend({
  checks: checksSchema.min(1, "expected at least one check"),
});
export type VerificationSpecInput = z.input<typeof verificationSpecSchema>;
export type VerificationSpec = z.output<typeof verificationSpecSchema>;

export const SEVERITIES = ["info", "warning", "critical"] as const;
export const AUDIENCES = ["users", "team", "support", "management"] as const;
/** The stages a release tells people about. */
export const NOTIFICATION_STAGES = [
  "starting",
  "maintenance",
  "rolled-back",
  "failed",
  "completed",
  "restarted",
] as const;

/** One notification as it is delivered: a log line, a webhook body, a topic message. */
export const notificationEventSchema = z.strictObject({
  stage: z.enum(NOTIFICATION_STAGES, `expected one of ${NOTIFICATION_STAGES.join(", ")}`),
  release: z.strictObject({
    changeId: z.string("expected a change id").min(1, "expected a non-empty change id"),
    version: z.string("expected a version").min(1, "expected a non-empty version"),
  }),
  service: z.string("expected a service name").min(1, "expected a non-empty service name").optional(),
  message: z.string("expected a message").trim().min(1, "expected a non-empty message"),
  severity: z.enum(SEVERITIES, `expected one of ${SEVERITIES.join(", ")}`),
  audience: z
    .array(z.enum(AUDIENCES, `expected one of ${AUDIENCES.join(", ")}`), "expected a list of audiences")
    .min(1, "expected at least one audience"),
  at: z.iso.datetime({ offset: true, message: "expected an ISO timestamp with an offset" }),
});
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

/** What a component asks a platform to tell people: the release and the time are the platform's to add. */
export const notificationNoticeSchema = notificationEventSchema.pick({
  stage: true,
  message: true,
  severity: true,
  audience: true,
});
export type NotificationNotice = z.infer<typeof notificationNoticeSchema>;

/** A value, or every problem with it, each naming its field path. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): Checked<z.output<S>> {
  const parsed = schema.safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: issuesFromZod(parsed.error) };
}

/** The value, or an error that lists every problem and says to fix those fields. */
export function parseOrThrow<S extends z.ZodType>(what: string, schema: S, raw: unknown): z.output<S> {
  const checked = parseWith(schema, raw);
  if (checked.ok) return checked.value;
  throw new Error(
    `${what} is not valid: ${checked.issues.map(describeIssue).join("; ")}; fix these fields and run again`,
  );
}
