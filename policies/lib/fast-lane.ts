// The fast lane: hot fixes and emergency patches, which may skip the freeze calendar but must name the
// incident they answer, and are reviewed after the release.
import type { Manifest } from "../../release";

/** Default shape of an incident id: a tracker key such as INC-4711. */
export const DEFAULT_INCIDENT_ID_PATTERN = "^[A-Z][A-Z0-9]*-[0-9]+$";

/** Why a release's incident reference does not count, or undefined when it does. */
export function incidentProblem(manifest: Manifest, idPattern: string): string | undefined {
  if (manifest.incident === undefined) return "it references no incident";
  if (!new RegExp(idPattern).test(manifest.incident.id)) {
    return `its incident id ${JSON.stringify(manifest.incident.id)} does not match ${idPattern}`;
  }
  return undefined;
}

export interface Freeze {
  readonly start: string;
  readonly end: string;
  readonly reason?: string;
}

/** JSON schema of the freeze calendar. */
export const freezesSchema = {
  type: "array",
  items: {
    type: "object",
    properties: {
      start: { type: "string" },
      end: { type: "string" },
      reason: { type: "string" },
    },
    required: ["start", "end"],
  },
} as const;

/** `the year-end freeze (2026-12-20T00:00:00Z to 2027-01-04T00:00:00Z)`. */
export function describeFreeze(freeze: Freeze): string {
  return `the ${freeze.reason ?? "change"} freeze (${freeze.start} to ${freeze.end})`;
}

/** Freezes that overlap an interval [start, end] (epoch ms); unparseable freezes count as overlapping. */
export function overlappingFreezes(freezes: readonly Freeze[], start: number, end: number): Freeze[] {
  return freezes.filter((freeze) => {
    const from = Date.parse(freeze.start);
    const to = Date.parse(freeze.end);
    if (Number.isNaN(from) || Number.isNaN(to)) return true;
    return from < end && start < to;
  });
}
