// HTTP gates, as plain functions: the pre-promotion gate and post-promotion verification share this
// engine; the dynamic providers only call it. No Pulumi imports, so a provider can load it with
// `await import()` inside its methods.
//
// Vocabulary: a check is one HTTP request with expectations; a round runs every check once, in the
// order given (business smoke requests may depend on each other); a round passes when all its checks
// pass. A failed check carries the rollback trigger category the seeds name.
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { describeIssue, issuesFromZod, type Checked } from "../../release/issues";

/** The rollback triggers a check failure maps to, most severe first. */
export const GATE_TRIGGERS = ["system-failure", "errors", "performance", "business"] as const;
export type GateTrigger = (typeof GATE_TRIGGERS)[number];

/** The most severe trigger present, or undefined for none. */
export function mostSevere(triggers: Iterable<GateTrigger>): GateTrigger | undefined {
  let best: number | undefined;
  for (const trigger of triggers) {
    const rank = GATE_TRIGGERS.indexOf(trigger);
    if (best === undefined || rank < best) best = rank;
  }
  return best === undefined ? undefined : GATE_TRIGGERS[best];
}

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

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

function isRegExpSource(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export const httpCheckSchema = z.strictObject({
  name: z.string("expected a check name").trim().min(1, "expected a non-empty check name"),
  kind: z.enum(["technical", "business"], 'expected "technical" or "business"'),
  method: z.enum(HTTP_METHODS, `expected one of ${HTTP_METHODS.join(", ")}`).default("GET"),
  path: z
    .string("expected a request path")
    .regex(/^\/\S*$/, "expected a path starting with / and without spaces, e.g. /health"),
  headers: z.record(z.string(), z.string("expected a header value as text")).optional(),
  /** A string is sent as it is; anything else as JSON. */
  body: z.union([z.string(), z.json()], "expected text or a JSON value").optional(),
  expect: z
    .strictObject({
      /** One status or a list of accepted ones; default 200. */
      status: z
        .union([statusCode, z.array(statusCode).min(1, "expected at least one status code")])
        .default(200),
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
    }),
});
export type HttpCheck = z.input<typeof httpCheckSchema>;
export type ResolvedHttpCheck = z.output<typeof httpCheckSchema>;

export const gatePolicySchema = z.strictObject({
  consecutiveSuccesses: z
    .number("expected a number of rounds")
    .int("expected a whole number of rounds")
    .min(1, "expected 1 or more rounds")
    .default(3),
  /** This many failed rounds (in total, not in a row) end the gate as failed. */
  failureThreshold: z
    .number("expected a number of rounds")
    .int("expected a whole number of rounds")
    .min(1, "expected 1 or more rounds")
    .default(3),
  /** From the start of one round to the start of the next. */
  intervalMs: z
    .number("expected an interval in milliseconds")
    .int("expected whole milliseconds")
    .min(0, "expected 0 ms or more")
    .default(500),
  /** Overall: no round starts after it, and requests are cut off at it. */
  timeoutMs: positiveMs("a timeout").default(30_000),
  minRounds: z
    .number("expected a number of rounds")
    .int("expected a whole number of rounds")
    .min(1, "expected 1 or more rounds")
    .optional(),
  /** Each request's own timeout. */
  requestTimeoutMs: positiveMs("a request timeout").default(5_000),
});
export type GatePolicy = z.input<typeof gatePolicySchema>;
export type ResolvedGatePolicy = z.output<typeof gatePolicySchema>;

const checksSchema = z
  .array(httpCheckSchema, "expected a list of checks")
  .min(1, "expected at least one check")
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

export const gateSpecSchema = z.strictObject({
  checks: checksSchema,
  policy: gatePolicySchema.prefault({}),
});
export type GateSpec = z.output<typeof gateSpecSchema>;

export const verificationSpecSchema = z.strictObject({
  checks: checksSchema,
  bakeTimeMs: positiveMs("a bake time"),
  intervalMs: positiveMs("an interval").default(1_000),
  /** The share of failed probes allowed over the bake time, from 0 to 1. */
  maxErrorRate: numberField("an error rate from 0 to 1")
    .min(0, "expected an error rate from 0 to 1")
    .max(1, "expected an error rate from 0 to 1"),
  maxP95LatencyMs: positiveMs("a p95 latency bound"),
  requestTimeoutMs: positiveMs("a request timeout").default(5_000),
});
export type VerificationSpec = z.output<typeof verificationSpecSchema>;

function parseWith<S extends z.ZodType>(schema: S, raw: unknown): Checked<z.output<S>> {
  const parsed = schema.safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, issues: issuesFromZod(parsed.error) };
}

/** A gate's checks and policy, defaults applied; every problem at once, each naming its field path. */
export function parseGateSpec(raw: unknown): Checked<GateSpec> {
  return parseWith(gateSpecSchema, raw);
}

/** Post-promotion verification's checks and thresholds, defaults applied. */
export function parseVerificationSpec(raw: unknown): Checked<VerificationSpec> {
  return parseWith(verificationSpecSchema, raw);
}

function parseOrThrow<T>(what: string, checked: Checked<T>): T {
  if (checked.ok) return checked.value;
  throw new Error(
    `${what} is not valid: ${checked.issues.map(describeIssue).join("; ")}; fix these fields and run again`,
  );
}

/** One run of one check. */
export interface CheckOutcome {
  readonly check: string;
  readonly kind: "technical" | "business";
  readonly ok: boolean;
  /** The HTTP status, or null when no response came. */
  readonly status: number | null;
  readonly latencyMs: number;
  /** For a failure: the trigger category and what was observed. */
  readonly trigger?: GateTrigger;
  readonly reason?: string;
}

export interface GateRound {
  /** 1-based. */
  readonly index: number;
  readonly startedAt: string;
  readonly passed: boolean;
  readonly outcomes: CheckOutcome[];
}

export type FetchImpl = (input: string, init: RequestInit) => Promise<Response>;

interface ProbeOptions {
  readonly baseUrl: string;
  readonly fetchImpl: FetchImpl;
  readonly signal?: AbortSignal;
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}

/** A short, quoted excerpt of a body for a failure reason. */
function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 80)}…` : flat);
}

function valueAt(value: unknown, path: string): { found: boolean; value?: unknown } {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) {
      return { found: false };
    }
    current = (current as Record<string, unknown>)[key];
  }
  return { found: true, value: current };
}

function expectedStatusText(status: number | number[]): string {
  return Array.isArray(status) ? status.join(" or ") : String(status);
}

/** What a response fails of a check's expectations, with the category each failure belongs to. */
function judgeResponse(
  check: ResolvedHttpCheck,
  status: number,
  body: string,
  latencyMs: number,
): { trigger: GateTrigger; reason: string } | undefined {
  const { expect } = check;
  const failures: { trigger: GateTrigger; reason: string }[] = [];
  const accepted = Array.isArray(expect.status) ? expect.status : [expect.status];
  if (!accepted.includes(status)) {
    failures.push({
      // 502-504 say the service behind a proxy is down or unreachable: a system failure. Any other
      // unexpected status, a 500 included, comes from a service that runs but errs.
      trigger: status >= 502 && status <= 504 ? "system-failure" : "errors",
      reason: `expected HTTP ${expectedStatusText(expect.status)}, got ${status}`,
    });
  }
  if (expect.bodyContains !== undefined && !body.includes(expect.bodyContains)) {
    failures.push({
      trigger: "errors",
      reason: `expected the body to contain ${JSON.stringify(expect.bodyContains)}, got ${excerpt(body)}`,
    });
  }
  if (expect.bodyMatches !== undefined && !new RegExp(expect.bodyMatches).test(body)) {
    failures.push({
      trigger: "errors",
      reason: `expected the body to match /${expect.bodyMatches}/, got ${excerpt(body)}`,
    });
  }
  const jsonExpectations: [string, unknown][] = [];
  if (expect.version !== undefined) jsonExpectations.push(["version", expect.version]);
  if (expect.jsonPath !== undefined) jsonExpectations.push([expect.jsonPath, expect.equals]);
  if (jsonExpectations.length > 0) {
    let json: unknown;
    let parsed = true;
    try {
      json = JSON.parse(body);
    } catch {
      parsed = false;
    }
    for (const [path, wanted] of jsonExpectations) {
      const found = parsed ? valueAt(json, path) : { found: false };
      if (!parsed) {
        failures.push({
          trigger: "errors",
          reason: `expected a JSON body with .${path}, got ${excerpt(body)}`,
        });
      } else if (!found.found || !isDeepStrictEqual(found.value, wanted)) {
        failures.push({
          trigger: "errors",
          reason: `expected JSON .${path} to equal ${JSON.stringify(wanted)}, got ${
            found.found ? JSON.stringify(found.value) : "nothing"
          }`,
        });
      }
    }
  }
  if (expect.maxLatencyMs !== undefined && latencyMs > expect.maxLatencyMs) {
    failures.push({
      trigger: "performance",
      reason: `expected a response within ${expect.maxLatencyMs} ms, took ${latencyMs} ms`,
    });
  }
  if (failures.length === 0) return undefined;
  const worst = mostSevere(failures.map((failure) => failure.trigger)) ?? "errors";
  // A system failure is one whatever the check; any other failure of a business check is business.
  const trigger = worst !== "system-failure" && check.kind === "business" ? "business" : worst;
  return { trigger, reason: failures.map((failure) => failure.reason).join("; ") };
}

function errorCause(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("cause" in error)) return undefined;
  const cause = error.cause;
  return typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
}

function describeRequestError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no response within ${timeoutMs} ms`;
  const code = errorCause(error);
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  const message = error instanceof Error ? error.message : String(error);
  return `request failed: ${code === undefined ? message : `${message} (${code})`}`;
}

/** Runs one check once. Never throws for what the server does; a cancelled run rethrows the abort. */
export async function runCheck(
  options: ProbeOptions,
  check: ResolvedHttpCheck,
  requestTimeoutMs: number,
): Promise<CheckOutcome> {
  const headers = new Headers(check.headers);
  let body: string | undefined;
  if (typeof check.body === "string") body = check.body;
  else if (check.body !== undefined) {
    body = JSON.stringify(check.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const timeout = AbortSignal.timeout(requestTimeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const base = { check: check.name, kind: check.kind };
  try {
    const response = await options.fetchImpl(joinUrl(options.baseUrl, check.path), {
      method: check.method,
      headers,
      body,
      signal,
      redirect: "manual",
    });
    const text = await response.text();
    const latencyMs = elapsed();
    const failure = judgeResponse(check, response.status, text, latencyMs);
    return failure === undefined
      ? { ...base, ok: true, status: response.status, latencyMs }
      : { ...base, ok: false, status: response.status, latencyMs, ...failure };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    return {
      ...base,
      ok: false,
      status: null,
      latencyMs: elapsed(),
      trigger: "system-failure",
      reason: describeRequestError(error, requestTimeoutMs),
    };
  }
}

async function runRound(
  options: ProbeOptions,
  checks: readonly ResolvedHttpCheck[],
  index: number,
  requestTimeoutMs: number,
): Promise<GateRound> {
  const startedAt = new Date().toISOString();
  const outcomes: CheckOutcome[] = [];
  for (const check of checks) outcomes.push(await runCheck(options, check, requestTimeoutMs));
  return { index, startedAt, passed: outcomes.every((outcome) => outcome.ok), outcomes };
}

/** Waits, unless the signal fires first; true when it did. */
function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((done) => {
    const onAbort = () => {
      clearTimeout(timer);
      done(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      done(false);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true && (error === signal.reason || error instanceof DOMException);
}

export interface GateReport {
  readonly kind: "gate";
  readonly verdict: "passed" | "failed" | "aborted";
  readonly endedBy: "consecutive-successes" | "failure-threshold" | "timeout" | "aborted";
  /** For a failed gate: the most severe trigger among its failures (a timeout alone is a system failure). */
  readonly trigger?: GateTrigger;
  readonly baseUrl: string;
  readonly policy: ResolvedGatePolicy;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly rounds: GateRound[];
  readonly totals: {
    readonly rounds: number;
    readonly passedRounds: number;
    readonly failedRounds: number;
    readonly checkRuns: number;
    readonly failedCheckRuns: number;
    /** Passing rounds in a row at the end. */
    readonly finalStreak: number;
  };
}

export interface RunGateArgs {
  readonly baseUrl: string;
  readonly checks: readonly HttpCheck[];
  readonly policy?: GatePolicy;
  /** Cancels the gate: the report's verdict is then `aborted`. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (round: GateRound) => void;
  /** Default: Node's global fetch. */
  readonly fetchImpl?: FetchImpl;
}

function failedTriggers(rounds: readonly GateRound[]): GateTrigger[] {
  return rounds.flatMap((round) =>
    round.outcomes.flatMap((outcome) => (outcome.trigger ? [outcome.trigger] : [])),
  );
}

/**
 * Runs rounds until `consecutiveSuccesses` passing rounds in a row (and at least `minRounds`), or
 * `failureThreshold` failed rounds, or `timeoutMs`. Throws only for invalid arguments.
 */
export async function runGate(args: RunGateArgs): Promise<GateReport> {
  const { checks, policy } = parseOrThrow(
    "gate",
    parseGateSpec({ checks: args.checks, policy: args.policy ?? {} }),
  );
  const options: ProbeOptions = {
    baseUrl: args.baseUrl,
    fetchImpl: args.fetchImpl ?? fetch,
    signal: args.signal,
  };
  const startedAt = new Date();
  const started = performance.now();
  const deadline = started + policy.timeoutMs;
  const rounds: GateRound[] = [];
  let streak = 0;
  let failedRounds = 0;
  let endedBy: GateReport["endedBy"] | undefined;
  while (endedBy === undefined) {
    const roundStart = performance.now();
    const remaining = Math.max(1, Math.round(deadline - roundStart));
    let round: GateRound;
    try {
      round = await runRound(
        options,
        checks,
        rounds.length + 1,
        Math.min(policy.requestTimeoutMs, remaining),
      );
    } catch (error) {
      if (!isAbort(error, args.signal)) throw error;
      endedBy = "aborted";
      break;
    }
    rounds.push(round);
    args.onProgress?.(round);
    streak = round.passed ? streak + 1 : 0;
    if (!round.passed) failedRounds++;
    if (streak >= policy.consecutiveSuccesses && rounds.length >= (policy.minRounds ?? 1)) {
      endedBy = "consecutive-successes";
    } else if (failedRounds >= policy.failureThreshold) {
      endedBy = "failure-threshold";
    } else {
      const nextStart = roundStart + policy.intervalMs;
      if (nextStart >= deadline) endedBy = "timeout";
      else if (await pause(Math.max(0, nextStart - performance.now()), args.signal)) endedBy = "aborted";
    }
  }
  const verdict =
    endedBy === "consecutive-successes" ? "passed" : endedBy === "aborted" ? "aborted" : "failed";
  const checkRuns = rounds.reduce((sum, round) => sum + round.outcomes.length, 0);
  const failedCheckRuns = failedTriggers(rounds).length;
  return {
    kind: "gate",
    verdict,
    endedBy,
    ...(verdict === "failed" ? { trigger: mostSevere(failedTriggers(rounds)) ?? "system-failure" } : {}),
    baseUrl: args.baseUrl,
    policy,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    rounds,
    totals: {
      rounds: rounds.length,
      passedRounds: rounds.length - failedRounds,
      failedRounds,
      checkRuns,
      failedCheckRuns,
      finalStreak: streak,
    },
  };
}

export interface VerificationReport {
  readonly kind: "verification";
  readonly verdict: "passed" | "failed" | "aborted";
  readonly endedBy: "bake-time-elapsed" | "error-budget-exceeded" | "aborted";
  readonly trigger?: GateTrigger;
  readonly baseUrl: string;
  readonly spec: VerificationSpec;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly rounds: GateRound[];
  readonly totals: {
    readonly rounds: number;
    /** Check runs. */
    readonly samples: number;
    readonly errors: number;
    readonly errorRate: number;
    /** Nearest-rank p95 over the samples that got a response; null when none did. */
    readonly p95LatencyMs: number | null;
    readonly errorsByTrigger: Readonly<Record<GateTrigger, number>>;
  };
}

export interface RunVerificationArgs {
  readonly baseUrl: string;
  readonly checks: readonly HttpCheck[];
  readonly bakeTimeMs: number;
  /** From the start of one round to the start of the next. Default 1000 ms. */
  readonly intervalMs?: number;
  /** From 0 to 1. */
  readonly maxErrorRate: number;
  readonly maxP95LatencyMs: number;
  /** Default 5000 ms. */
  readonly requestTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (round: GateRound) => void;
  readonly fetchImpl?: FetchImpl;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/**
 * Probes for the whole bake time (a round every `intervalMs`, the first at once), then judges the
 * error rate and p95 latency. Ends early, as failed, once the errors so far exceed the budget even if
 * every remaining probe succeeded.
 */
export async function runVerification(args: RunVerificationArgs): Promise<VerificationReport> {
  const { signal, onProgress, fetchImpl, baseUrl, ...raw } = args;
  const spec = parseOrThrow("verification", parseVerificationSpec(raw));
  const options: ProbeOptions = { baseUrl, fetchImpl: fetchImpl ?? fetch, signal };
  const startedAt = new Date();
  const started = performance.now();
  const bakeEnd = started + spec.bakeTimeMs;
  // Rounds start on a fixed schedule, so this many is the most the bake time can hold.
  const maxSamples = (Math.floor(spec.bakeTimeMs / spec.intervalMs) + 1) * spec.checks.length;
  const rounds: GateRound[] = [];
  let errors = 0;
  let endedBy: VerificationReport["endedBy"] | undefined;
  for (let index = 0; endedBy === undefined; index++) {
    const scheduled = started + index * spec.intervalMs;
    if (scheduled > bakeEnd) {
      endedBy = "bake-time-elapsed";
      break;
    }
    if (await pause(Math.max(0, scheduled - performance.now()), signal)) {
      endedBy = "aborted";
      break;
    }
    try {
      const round = await runRound(options, spec.checks, index + 1, spec.requestTimeoutMs);
      rounds.push(round);
      onProgress?.(round);
      errors += round.outcomes.filter((outcome) => !outcome.ok).length;
    } catch (error) {
      if (!isAbort(error, signal)) throw error;
      endedBy = "aborted";
      break;
    }
    if (errors > spec.maxErrorRate * maxSamples) endedBy = "error-budget-exceeded";
  }
  const outcomes = rounds.flatMap((round) => round.outcomes);
  const samples = outcomes.length;
  const errorRate = samples === 0 ? 0 : errors / samples;
  const p95LatencyMs = percentile(
    outcomes.filter((outcome) => outcome.status !== null).map((outcome) => outcome.latencyMs),
    95,
  );
  const errorsByTrigger = Object.fromEntries(GATE_TRIGGERS.map((trigger) => [trigger, 0])) as Record<
    GateTrigger,
    number
  >;
  for (const outcome of outcomes) if (outcome.trigger) errorsByTrigger[outcome.trigger]++;

  const found: GateTrigger[] = [];
  if (endedBy === "error-budget-exceeded" || errorRate > spec.maxErrorRate)
    found.push(...failedTriggers(rounds));
  if (endedBy !== "aborted" && p95LatencyMs !== null && p95LatencyMs > spec.maxP95LatencyMs) {
    found.push("performance");
  }
  const trigger = endedBy === "aborted" ? undefined : mostSevere(found);
  return {
    kind: "verification",
    verdict: endedBy === "aborted" ? "aborted" : trigger === undefined ? "passed" : "failed",
    endedBy,
    ...(trigger !== undefined ? { trigger } : {}),
    baseUrl,
    spec,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    rounds,
    totals: { rounds: rounds.length, samples, errors, errorRate, p95LatencyMs, errorsByTrigger },
  };
}

/** Each failing check once, in check order: how often it failed and what was last observed. */
function describeFailingChecks(rounds: readonly GateRound[]): string {
  const failing = new Map<string, { kind: string; count: number; last: string }>();
  for (const outcome of rounds.flatMap((round) => round.outcomes)) {
    if (outcome.ok) continue;
    const seen = failing.get(outcome.check);
    failing.set(outcome.check, {
      kind: outcome.kind,
      count: (seen?.count ?? 0) + 1,
      last: `${outcome.reason ?? "failed"} [${outcome.trigger ?? "errors"}]`,
    });
  }
  if (failing.size === 0) return "no check failed";
  return [...failing]
    .map(
      ([name, { kind, count, last }]) =>
        `check "${name}" (${kind}) failed ${count} ${count === 1 ? "time" : "times"}, last: ${last}`,
    )
    .join("; ");
}

const percent = (rate: number) => `${Number((rate * 100).toFixed(2))}%`;

/** One sentence: the verdict, the rollback trigger, the failing checks and what was observed. */
export function describeGateFailure(report: GateReport | VerificationReport): string {
  if (report.kind === "gate") {
    const { policy, totals } = report;
    if (report.verdict === "passed") {
      return `Gate passed: ${totals.finalStreak} consecutive passing rounds after ${totals.rounds} rounds.`;
    }
    if (report.verdict === "aborted") {
      return `Gate was cancelled after ${totals.rounds} rounds, before a verdict.`;
    }
    const why =
      report.endedBy === "timeout"
        ? `no verdict within the ${policy.timeoutMs} ms timeout, ${totals.finalStreak} of ` +
          `${policy.consecutiveSuccesses} consecutive passing rounds reached`
        : `${totals.failedRounds} failed rounds of ${totals.rounds} reached the failure threshold of ` +
          `${policy.failureThreshold}`;
    return `Gate failed with rollback trigger ${report.trigger} (${why}): ${describeFailingChecks(report.rounds)}.`;
  }
  const { spec, totals } = report;
  const figures =
    `error rate ${percent(totals.errorRate)} of ${totals.samples} probes (at most ${percent(spec.maxErrorRate)}), ` +
    `p95 latency ${totals.p95LatencyMs ?? "n/a"} ms (at most ${spec.maxP95LatencyMs} ms)`;
  if (report.verdict === "passed") {
    return `Verification passed over ${spec.bakeTimeMs} ms: ${figures}.`;
  }
  if (report.verdict === "aborted") {
    return `Verification was cancelled after ${totals.rounds} rounds, before a verdict: ${figures}.`;
  }
  const why =
    report.endedBy === "error-budget-exceeded"
      ? `ended early: ${totals.errors} failed probes already exceed the error budget of ` +
        `${percent(spec.maxErrorRate)} over the bake time`
      : `after the ${spec.bakeTimeMs} ms bake time: ${figures}`;
  return (
    `Post-promotion verification failed with rollback trigger ${report.trigger} (${why}): ` +
    `${describeFailingChecks(report.rounds)}.`
  );
}
