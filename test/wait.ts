// Waiting for something outside the test's own process (another process's exit, a file another
// process writes): there is no event to await, so the condition is asked again until it holds or a
// deadline passes. The deadline is generous because the suite must pass on a machine whose cores are
// busy; a condition that holds returns at once, so a long deadline costs nothing when all is well.
import { setTimeout as sleep } from "node:timers/promises";

/** Polls `probe` every `intervalMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resolves once `check` is true (see waitFor). */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), timeoutMs, intervalMs);
}
