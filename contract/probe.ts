// The probe loop: sends a gate's or a verification's HTTP checks on schedule and asks the judge after
// every round. It measures (fetch, a clock, timers) and decides nothing itself. Every platform that
// probes over HTTP from Node.js runs this same loop: the local platform in its provider process, the
// kubernetes runner Job as a bundle of this module, the aws platform from where the engine runs.
import {
  bakeTotals,
  gateTotals,
  judgeBake,
  judgeCheck,
  judgeGate,
  judgeRound,
  type BakeEnd,
  type BakeTotals,
  type CheckOutcome,
  type GateEnd,
  type GateTotals,
  type ProbeRound,
} from "./judge";
import {
  gateSpecSchema,
  parseOrThrow,
  verificationSpecSchema,
  type GatePolicy,
  type GatePolicyInput,
  type HttpCheck,
  type ResolvedHttpCheck,
  type VerificationSpec,
  type VerificationSpecInput,
} from "./schema";
import type { ProbeTrigger } from "./triggers";

export type FetchImpl = (input: string, init: RequestInit) => Promise<Response>;

interface ProbeOptions {
  readonly baseUrl: string;
  readonly fetchImpl: FetchImpl;
  readonly signal?: AbortSignal;
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("cause" in error)) return undefined;
  const cause = error.cause;
  return typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
}

/** Why no response came, in words that do not depend on the HTTP client's wording. */
export function describeRequestError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no response within ${timeoutMs} ms`;
  const code = errorCode(error);
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found";
  const message = error instanceof Error ? error.message : String(error);
  return `request failed: ${code === undefined ? message : `${message} (${code})`}`;
}

/** Runs one check once and judges it. Never throws for what the server does; a cancelled run rethrows. */
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
  try {
    const response = await options.fetchImpl(joinUrl(options.baseUrl, check.path), {
      method: check.method,
      headers,
      body,
      signal,
      redirect: "manual",
    });
    const text = await response.text();
    return judgeCheck(check, { kind: "response", status: response.status, body: text, latencyMs: elapsed() });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    return judgeCheck(check, {
      kind: "no-response",
      reason: describeRequestError(error, requestTimeoutMs),
      latencyMs: elapsed(),
    });
  }
}

async function runRound(
  options: ProbeOptions,
  checks: readonly ResolvedHttpCheck[],
  index: number,
  requestTimeoutMs: number,
): Promise<ProbeRound> {
  const startedAt = new Date().toISOString();
  const outcomes: CheckOutcome[] = [];
  // In order, one at a time: a business smoke request may depend on the one before it.
  for (const check of checks) outcomes.push(await runCheck(options, check, requestTimeoutMs));
  return judgeRound(index, startedAt, outcomes);
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

interface ReportBase<EndedBy extends string> {
  readonly verdict: "passed" | "failed" | "aborted";
  readonly endedBy: EndedBy | "aborted";
  /** For a failure: the rollback trigger. */
  readonly trigger?: ProbeTrigger;
  /** One sentence: the verdict, the trigger, the failing checks and what was observed. */
  readonly message: string;
  readonly baseUrl: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly rounds: readonly ProbeRound[];
}

export interface GateReport extends ReportBase<GateEnd> {
  readonly kind: "gate";
  readonly policy: GatePolicy;
  readonly totals: GateTotals;
}

export interface VerificationReport extends ReportBase<BakeEnd> {
  readonly kind: "verification";
  readonly spec: VerificationSpec;
  readonly totals: BakeTotals;
}

interface RunArgs {
  readonly baseUrl: string;
  /** Cancels the run: the report's verdict is then `aborted`. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (round: ProbeRound) => void;
  /** Default: Node's global fetch. */
  readonly fetchImpl?: FetchImpl;
}

export interface RunGateArgs extends RunArgs {
  readonly checks: readonly HttpCheck[];
  readonly policy?: GatePolicyInput;
}

/** Runs the pre-promotion gate's rounds until the judge decides. Throws only for invalid arguments. */
export async function runGate(args: RunGateArgs): Promise<GateReport> {
  const { checks, policy } = parseOrThrow("gate", gateSpecSchema, {
    checks: args.checks,
    policy: args.policy ?? {},
  });
  const options: ProbeOptions = {
    baseUrl: args.baseUrl,
    fetchImpl: args.fetchImpl ?? fetch,
    signal: args.signal,
  };
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const rounds: ProbeRound[] = [];
  const report = (judged: {
    verdict: GateReport["verdict"];
    endedBy: GateReport["endedBy"];
    trigger?: ProbeTrigger;
    message: string;
  }): GateReport => ({
    kind: "gate",
    ...judged,
    baseUrl: args.baseUrl,
    policy,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    rounds,
    totals: gateTotals(rounds),
  });
  const aborted = () =>
    report({
      verdict: "aborted",
      endedBy: "aborted",
      message: `Gate was cancelled after ${rounds.length} rounds, before a verdict.`,
    });
  for (;;) {
    const roundStart = performance.now() - started;
    const remaining = Math.max(1, Math.round(policy.timeoutMs - roundStart));
    try {
      rounds.push(
        await runRound(options, checks, rounds.length + 1, Math.min(policy.requestTimeoutMs, remaining)),
      );
    } catch (error) {
      if (!isAbort(error, args.signal)) throw error;
      return aborted();
    }
    args.onProgress?.(rounds[rounds.length - 1] as ProbeRound);
    const nextRoundAtMs = roundStart + policy.intervalMs;
    const judged = judgeGate(policy, rounds, { nextRoundAtMs });
    if (judged.decided) return report(judged);
    if (await pause(Math.max(0, nextRoundAtMs - (performance.now() - started)), args.signal)) {
      return aborted();
    }
  }
}

export interface RunVerificationArgs extends RunArgs, Omit<VerificationSpecInput, "checks"> {
  readonly checks: readonly HttpCheck[];
}

/** Probes on schedule over the bake time (the first round at once) until the judge decides. */
export async function runVerification(args: RunVerificationArgs): Promise<VerificationReport> {
  const { signal, onProgress, fetchImpl, baseUrl, ...raw } = args;
  const spec = parseOrThrow("verification", verificationSpecSchema, raw);
  const options: ProbeOptions = { baseUrl, fetchImpl: fetchImpl ?? fetch, signal };
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const rounds: ProbeRound[] = [];
  const report = (judged: {
    verdict: VerificationReport["verdict"];
    endedBy: VerificationReport["endedBy"];
    trigger?: ProbeTrigger;
    message: string;
  }): VerificationReport => ({
    kind: "verification",
    ...judged,
    baseUrl,
    spec,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    rounds,
    totals: bakeTotals(rounds),
  });
  const aborted = () =>
    report({
      verdict: "aborted",
      endedBy: "aborted",
      message: `Verification was cancelled after ${rounds.length} rounds, before a verdict.`,
    });
  for (let index = 0; ; index++) {
    const scheduled = index * spec.intervalMs;
    if (scheduled > spec.bakeTimeMs) {
      const judged = judgeBake(spec, rounds, { bakeOver: true });
      // The judge always decides once the bake time is over.
      if (judged.decided) return report(judged);
    }
    if (await pause(Math.max(0, scheduled - (performance.now() - started)), signal)) return aborted();
    try {
      const round = await runRound(options, spec.checks, index + 1, spec.requestTimeoutMs);
      rounds.push(round);
      onProgress?.(round);
    } catch (error) {
      if (!isAbort(error, signal)) throw error;
      return aborted();
    }
    const judged = judgeBake(spec, rounds, { bakeOver: false });
    if (judged.decided) return report(judged);
  }
}
