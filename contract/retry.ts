// The one retry helper: attempts with a doubling pause, stopping early on an answer that would only
// fail again. Used wherever shipgate calls something outside itself that may be briefly away.

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Pause before the second attempt; doubled before each further one. */
  readonly baseDelayMs: number;
}

export type Attempt<T> =
  | { readonly done: true; readonly value: T }
  /** `retry: false` ends the attempts with this value (e.g. an HTTP 4xx, which would fail again). */
  | { readonly done: false; readonly value: T; readonly retry: boolean };

/** Runs `attempt` until it is done, says not to retry, or the attempts run out; the last value wins. */
export async function retry<T>(
  options: RetryOptions,
  attempt: (number: number) => Promise<Attempt<T>>,
): Promise<{ value: T; attempts: number }> {
  let last: Attempt<T> | undefined;
  let number = 0;
  while (number < Math.max(1, options.attempts)) {
    if (number > 0) {
      await new Promise((done) => setTimeout(done, options.baseDelayMs * 2 ** (number - 1)));
    }
    number++;
    last = await attempt(number);
    if (last.done || !last.retry) break;
  }
  // The loop runs at least once, so `last` is set.
  return { value: (last as Attempt<T>).value, attempts: number };
}
