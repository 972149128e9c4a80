// The judge: pure functions that decide whether a release may go on. A platform measures (sends the
// probes, reads the metrics) and hands what it saw to these functions; it never decides by itself.
// So the same observations give the same verdict, trigger and message on every platform.
//
// Vocabulary: a check is one HTTP request with expectations; a round runs every check once, in the
// order given (business smoke requests may depend on each other); a round passes when all its checks
// pass. A failed check carries the rollback trigger it fired.
import { isDeepStrictEqual } from "node:util";
import type { GatePolicy, ResolvedHttpCheck, VerificationPolicy, VerificationSpec } from "./schema";
import { PROBE_TRIGGERS, mostSevere, type ProbeTrigger } from "./triggers";

/** What a probe saw: a response, or none (refused, reset, timed out) and why. */
export type ProbeObservation =
  | { readonly kind: "response"; readonly status: number; readonly body: string; readonly latencyMs: number }
  | { readonly kind: "no-response"; readonly reason: string; readonly latencyMs: number };

/** One run of one check, judged. */
export interface CheckOutcome {
  readonly check: string;
  readonly kind: "technical" | "business";
  readonly ok: boolean;
  /** The HTTP status, or null when no response came. */
  readonly status: number | null;
  readonly latencyMs: number;
  /** For a failure: the trigger it fired and what was observed. */
  readonly trigger?: ProbeTrigger;
  readonly reason?: string;
}

export interface ProbeRound {
  /** 1-based. */
  readonly index: number;
  readonly startedAt: string;
  readonly passed: boolean;
  readonly outcomes: readonly CheckOutcome[];
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

type Failure = { trigger: ProbeTrigger; reason: string };

function statusFailures(check: ResolvedHttpCheck, status: number): Failure[] {
  const accepted = [check.expect.status].flat();
  if (accepted.includes(status)) return [];
  return [
    {
      // 502-504 say the service behind a proxy is down or unreachable: a system failure. Any other
      // unexpected status, a 500 included, comes from a service that runs but errs.
      trigger: status >= 502 && status <= 504 ? "system-failure" : "errors",
      reason: `expected HTTP ${accepted.join(" or ")}, got ${status}`,
    },
  ];
}

function bodyFailures(check: ResolvedHttpCheck, body: string): Failure[] {
  const { expect } = check;
  const failures: Failure[] = [];
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
  const wanted: [string, unknown][] = [];
  if (expect.version !== undefined) wanted.push(["version", expect.version]);
  if (expect.jsonPath !== undefined) wanted.push([expect.jsonPath, expect.equals]);
  if (wanted.length === 0) return failures;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [
      ...failures,
      ...wanted.map(([path]) => ({
        trigger: "errors" as const,
        reason: `expected a JSON body with .${path}, got ${excerpt(body)}`,
      })),
    ];
  }
  for (const [path, value] of wanted) {
    const found = valueAt(json, path);
    if (!found.found || !isDeepStrictEqual(found.value, value)) {
      failures.push({
        trigger: "errors",
        reason: `expected JSON .${path} to equal ${JSON.stringify(value)}, got ${
          found.found ? JSON.stringify(found.value) : "nothing"
        }`,
      });
    }
  }
  return failures;
}

/**
 * One observation against one check. Every expectation is judged, and the outcome carries the most
 * severe trigger found; a business check's failure is business impact unless the system failed.
 */
export function judgeCheck(check: ResolvedHttpCheck, observation: ProbeObservation): CheckOutcome {
  const base = { check: check.name, kind: check.kind, latencyMs: observation.latencyMs };
  if (observation.kind === "no-response") {
    return { ...base, ok: false, status: null, trigger: "system-failure", reason: observation.reason };
  }
  const failures = [...statusFailures(check, observation.status), ...bodyFailures(check, observation.body)];
  const bound = check.expect.maxLatencyMs;
  if (bound !== undefined && observation.latencyMs > bound) {
    failures.push({
      trigger: "performance",
      reason: `expected a response within ${bound} ms, took ${observation.latencyMs} ms`,
    });
  }
  if (failures.length === 0) return { ...base, ok: true, status: observation.status };
  const worst = mostSevere(failures.map((failure) => failure.trigger)) ?? "errors";
  const trigger = worst !== "system-failure" && check.kind === "business" ? "business-impact" : worst;
  return {
    ...base,
    ok: false,
    status: observation.status,
    trigger,
    reason: failures.map((failure) => failure.reason).join("; "),
  };
}

/** A round passes when every check in it passed. */
export function judgeRound(index: number, startedAt: string, outcomes: readonly CheckOutcome[]): ProbeRound {
  return { index, startedAt, passed: outcomes.every((outcome) => outcome.ok), outcomes };
}

function failedTriggers(rounds: readonly ProbeRound[]): ProbeTrigger[] {
  return rounds.flatMap((round) =>
    round.outcomes.flatMap((outcome) => (outcome.trigger ? [outcome.trigger] : [])),
  );
}

/** Each failing check once, in check order: how often it failed and what was last observed. */
function describeFailingChecks(rounds: readonly ProbeRound[]): string {
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

export interface GateTotals {
  readonly rounds: number;
  readonly passedRounds: number;
  readonly failedRounds: number;
  readonly checkRuns: number;
  readonly failedCheckRuns: number;
  /** Passing rounds in a row at the end. */
  readonly finalStreak: number;
}

export function gateTotals(rounds: readonly ProbeRound[]): GateTotals {
  let finalStreak = 0;
  for (const round of rounds) finalStreak = round.passed ? finalStreak + 1 : 0;
  const failedRounds = rounds.filter((round) => !round.passed).length;
  return {
    rounds: rounds.length,
    passedRounds: rounds.length - failedRounds,
    failedRounds,
    checkRuns: rounds.reduce((sum, round) => sum + round.outcomes.length, 0),
    failedCheckRuns: failedTriggers(rounds).length,
    finalStreak,
  };
}

/** A judgement so far: keep probing, or the verdict with its trigger and one sentence saying why. */
export type Judgement<EndedBy extends string> =
  | { readonly decided: false }
  | {
      readonly decided: true;
      readonly verdict: "passed" | "failed";
      readonly endedBy: EndedBy;
      readonly trigger?: ProbeTrigger;
      readonly message: string;
    };

export type GateEnd = "consecutive-successes" | "failure-threshold" | "timeout";

/**
 * The pre-promotion gate after the rounds so far. It passes with `consecutiveSuccesses` passing
 * rounds in a row (and at least `minRounds`); it fails at `failureThreshold` failed rounds in total,
 * or when the next round (at `nextRoundAtMs` from the start) would begin after the timeout.
 */
export function judgeGate(
  policy: GatePolicy,
  rounds: readonly ProbeRound[],
  timing: { readonly nextRoundAtMs: number },
): Judgement<GateEnd> {
  const totals = gateTotals(rounds);
  if (totals.finalStreak >= policy.consecutiveSuccesses && totals.rounds >= (policy.minRounds ?? 1)) {
    return {
      decided: true,
      verdict: "passed",
      endedBy: "consecutive-successes",
      message: `Gate passed: ${totals.finalStreak} consecutive passing rounds after ${totals.rounds} rounds.`,
    };
  }
  let endedBy: GateEnd;
  let why: string;
  if (totals.failedRounds >= policy.failureThreshold) {
    endedBy = "failure-threshold";
    why =
      `${totals.failedRounds} failed rounds of ${totals.rounds} reached the failure threshold of ` +
      `${policy.failureThreshold}`;
  } else if (timing.nextRoundAtMs >= policy.timeoutMs) {
    endedBy = "timeout";
    why =
      `no verdict within the ${policy.timeoutMs} ms timeout, ${totals.finalStreak} of ` +
      `${policy.consecutiveSuccesses} consecutive passing rounds reached`;
  } else {
    return { decided: false };
  }
  // A gate that timed out without a single failed check is a system that never became ready.
  const trigger = mostSevere(failedTriggers(rounds)) ?? "system-failure";
  return {
    decided: true,
    verdict: "failed",
    endedBy,
    trigger,
    message: `Gate failed with rollback trigger ${trigger} (${why}): ${describeFailingChecks(rounds)}.`,
  };
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

export interface BakeTotals {
  readonly rounds: number;
  /** Check runs. */
  readonly samples: number;
  readonly errors: number;
  readonly errorRate: number;
  /** Nearest-rank p95 over the samples that got a response; null when none did. */
  readonly p95LatencyMs: number | null;
  readonly errorsByTrigger: Readonly<Record<ProbeTrigger, number>>;
}

export function bakeTotals(rounds: readonly ProbeRound[]): BakeTotals {
  const outcomes = rounds.flatMap((round) => round.outcomes);
  const errors = outcomes.filter((outcome) => !outcome.ok).length;
  const errorsByTrigger = Object.fromEntries(PROBE_TRIGGERS.map((trigger) => [trigger, 0])) as Record<
    ProbeTrigger,
    number
  >;
  for (const outcome of outcomes) if (outcome.trigger) errorsByTrigger[outcome.trigger]++;
  return {
    rounds: rounds.length,
    samples: outcomes.length,
    errors,
    errorRate: outcomes.length === 0 ? 0 : errors / outcomes.length,
    p95LatencyMs: percentile(
      outcomes.filter((outcome) => outcome.status !== null).map((outcome) => outcome.latencyMs),
      95,
    ),
    errorsByTrigger,
  };
}

/** Rounds start on a fixed schedule, so this many check runs is the most a bake time can hold. */
export function maxBakeSamples(spec: VerificationSpec): number {
  return (Math.floor(spec.bakeTimeMs / spec.intervalMs) + 1) * spec.checks.length;
}

const percent = (rate: number) => `${Number((rate * 100).toFixed(2))}%`;

export type BakeEnd = "bake-time-elapsed" | "error-budget-exceeded";

/**
 * Post-promotion verification after the rounds so far. It fails early once the errors exceed the
 * budget even if every remaining probe succeeded; when the bake time is over (`bakeOver`) it judges
 * the error rate and the p95 latency.
 */
export function judgeBake(
  spec: VerificationSpec,
  rounds: readonly ProbeRound[],
  timing: { readonly bakeOver: boolean },
): Judgement<BakeEnd> {
  const totals = bakeTotals(rounds);
  const budgetBroken = totals.errors > spec.maxErrorRate * maxBakeSamples(spec);
  if (!budgetBroken && !timing.bakeOver) return { decided: false };
  const endedBy: BakeEnd = budgetBroken ? "error-budget-exceeded" : "bake-time-elapsed";
  const found: ProbeTrigger[] = [];
  if (budgetBroken || totals.errorRate > spec.maxErrorRate) found.push(...failedTriggers(rounds));
  if (totals.p95LatencyMs !== null && totals.p95LatencyMs > spec.maxP95LatencyMs) found.push("performance");
  const trigger = mostSevere(found);
  const figures =
    `error rate ${percent(totals.errorRate)} of ${totals.samples} probes (at most ${percent(spec.maxErrorRate)}), ` +
    `p95 latency ${totals.p95LatencyMs ?? "n/a"} ms (at most ${spec.maxP95LatencyMs} ms)`;
  if (trigger === undefined) {
    return {
      decided: true,
      verdict: "passed",
      endedBy,
      message: `Verification passed over ${spec.bakeTimeMs} ms: ${figures}.`,
    };
  }
  const why = budgetBroken
    ? `ended early: ${totals.errors} failed probes already exceed the error budget of ` +
      `${percent(spec.maxErrorRate)} over the bake time`
    : `after the ${spec.bakeTimeMs} ms bake time: ${figures}`;
  return {
    decided: true,
    verdict: "failed",
    endedBy,
    trigger,
    message:
      `Post-promotion verification failed with rollback trigger ${trigger} (${why}): ` +
      `${describeFailingChecks(rounds)}.`,
  };
}

/** What a release knows, before it runs, about the build it is about to promote. */
export interface RollbackEvidence {
  /**
   * The colour users are switched to already runs this exact build (a rollback to the warm colour),
   * and no step of the release changes data (no migration, no restore).
   */
  readonly routingOnly: boolean;
  /** The outcome of the newest deployment record of this exact release (key and manifest digest). */
  readonly lastOutcome: string | null;
}

/**
 * A rollback is fast-tracked when it only moves users back to a colour that still runs this exact
 * build, and the newest record of this exact release says it succeeded: that build passed its gate
 * and its full bake under real traffic, then served users until the release after it. What the
 * bake after the switch still has to show is that users reach it and it answers well, which a short
 * bake does; waiting a full bake again only keeps the team's rollback from finishing. Anything else
 * (a build that was switched back, a release interrupted before its record, a restore, a migration)
 * bakes in full.
 */
export function fastTrackRollback(evidence: RollbackEvidence): boolean {
  return evidence.routingOnly && evidence.lastOutcome === "succeeded";
}

/**
 * The verification policy a release runs with: the service's, except that a fast-tracked rollback
 * bakes `rollbackBakeTimeMs` (unset: one interval, so two rounds of every check), never longer than
 * the full bake. Thresholds, interval and checks stay the service's.
 */
export function verificationPolicyFor(policy: VerificationPolicy, fastTrack: boolean): VerificationPolicy {
  if (!fastTrack) return policy;
  const bakeTimeMs = Math.min(policy.rollbackBakeTimeMs ?? policy.intervalMs, policy.bakeTimeMs);
  return { ...policy, bakeTimeMs };
}
