// Failover at the router, as pure rules: which requests may be tried again on the warm colour, and
// when a burst of failures from the active colour sends every user to the warm colour at once.
// The router process applies them (server.ts); the settings live in the router's state file.
import { z } from "zod";

const httpMethods = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH", "TRACE"] as const;

const wholeNumber = (what: string, min: number, max: number) =>
  z
    .number({ error: `expected ${what} (a whole number from ${min} to ${max})` })
    .int({ error: `expected ${what} (a whole number from ${min} to ${max})` })
    .min(min, { error: `expected ${what} (a whole number from ${min} to ${max})` })
    .max(max, { error: `expected ${what} (a whole number from ${min} to ${max})` });

export const failoverSettingsSchema = z.strictObject({
  /** Failed answers (5xx, no connection, connection dropped) from the active colour that flip users. */
  errorBurst: wholeNumber("a count of failed requests", 1, 10_000),
  /** ...within this many milliseconds. */
  windowMs: wholeNumber("milliseconds", 100, 600_000),
  /**
   * Methods a request may be sent again with, once, to the warm colour when the active one fails it.
   * Only methods whose repetition is harmless belong here: GET, HEAD and OPTIONS by definition, PUT
   * or DELETE when the service makes them idempotent.
   */
  retryMethods: z
    .array(z.enum(httpMethods, { error: `expected one of ${httpMethods.join(", ")}` }), {
      error: "expected a list of HTTP methods",
    })
    .max(httpMethods.length, { error: "expected each method at most once" }),
});
export type FailoverSettings = z.infer<typeof failoverSettingsSchema>;

export const defaultFailoverSettings: FailoverSettings = {
  errorBurst: 5,
  windowMs: 10_000,
  retryMethods: ["GET", "HEAD", "OPTIONS"],
};

/** The largest request body the router holds back so that it can send the request a second time. */
export const maxRetryBodyBytes = 1024 * 1024;

/** True when a request with `method` and this body size may be sent again to the warm colour. */
export function mayRetry(settings: FailoverSettings, method: string, bodyBytes: number | "unknown"): boolean {
  if (!settings.retryMethods.includes(method.toUpperCase() as (typeof httpMethods)[number])) return false;
  return bodyBytes !== "unknown" && bodyBytes <= maxRetryBodyBytes;
}

/** A failed answer from the upstream: a server error, or no answer at all. */
export function isFailure(status: number | null): boolean {
  return status === null || status >= 500;
}

/**
 * Counts the active colour's failures in a sliding window. `record` answers true when this failure
 * completes a burst (the caller then fails over once and resets the count).
 */
export class FailureWindow {
  private times: number[] = [];
  constructor(private readonly settings: Pick<FailoverSettings, "errorBurst" | "windowMs">) {}

  record(now: number): boolean {
    this.times.push(now);
    const since = now - this.settings.windowMs;
    while (this.times.length > 0 && (this.times[0] ?? 0) <= since) this.times.shift();
    return this.times.length >= this.settings.errorBurst;
  }

  get count(): number {
    return this.times.length;
  }

  reset(): void {
    this.times = [];
  }
}
