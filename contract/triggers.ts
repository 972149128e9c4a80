// The rollback triggers: the manifest's own vocabulary (release/schema.ts), so a record, a
// notification and a policy speak of the same thing the release engineer wrote in the rollback plan.
// A probe can only ever observe four of them; the others (data corruption, a broken integration, a
// security breach) are named by people or by other tools, never by an HTTP check.
import { ROLLBACK_TRIGGERS, type RollbackTrigger } from "../release/schema";

export { ROLLBACK_TRIGGERS, type RollbackTrigger };

/** The triggers a probe can fire, most severe first: a failure carries the most severe one found. */
export const PROBE_TRIGGERS = [
  "system-failure",
  "errors",
  "performance",
  "business-impact",
] as const satisfies readonly RollbackTrigger[];
export type ProbeTrigger = (typeof PROBE_TRIGGERS)[number];

/** The most severe trigger present, or undefined for none. */
export function mostSevere(triggers: Iterable<ProbeTrigger>): ProbeTrigger | undefined {
  let best: number | undefined;
  for (const trigger of triggers) {
    const rank = PROBE_TRIGGERS.indexOf(trigger);
    if (best === undefined || rank < best) best = rank;
  }
  return best === undefined ? undefined : PROBE_TRIGGERS[best];
}
