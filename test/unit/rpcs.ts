// Waiting for a program under mocks to finish: the runtime's own count of outstanding work
// (registrations and the outputs they resolve), the same wait the engine's language host makes
// before it reports a program done. No fixed sleep: it returns as soon as nothing is pending.
import * as settings from "@pulumi/pulumi/runtime/settings";

const runtime = settings as unknown as { waitForRPCs(): Promise<void> };

/** Resolves once every registration the program started, and every one those led to, has finished. */
export function registrationsSettled(): Promise<void> {
  return runtime.waitForRPCs();
}
