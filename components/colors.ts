// Which colour a release deploys to, from what the platform runs now. Pure, so it is unit-tested.
import { isDeepStrictEqual } from "node:util";
import { type Color, type ObservedService, type SlotSpec, otherColor } from "./platform";

export type Strategy = "blue-green" | "recreate";

export interface ColorPlan {
  /** The colour that gets this release's build. */
  readonly candidate: Color;
  /** The colour serving users before this release (null on the first release). */
  readonly live: Color | null;
  /** The colour kept warm after the switch, re-declared unchanged (null when none). */
  readonly warm: Color | null;
  /** Slots to re-declare exactly as they run now. */
  readonly keep: Readonly<Partial<Record<Color, SlotSpec>>>;
  /** True when the candidate already runs the build: the release is a routing change only. */
  readonly reuse: boolean;
}

function sameBuild(a: SlotSpec | undefined, b: SlotSpec): boolean {
  return a !== undefined && isDeepStrictEqual({ ...a }, { ...b });
}

/** How long the previous colour stays warm after a switch, and the time to judge it by. */
export interface WarmWindow {
  readonly minutes: number;
  readonly now: Date;
}

/** True when the colour users left at `switchedAt` is past its warm window (unknown: still warm). */
export function warmWindowOver(switchedAt: string | null | undefined, warm: WarmWindow): boolean {
  if (!switchedAt) return false;
  const since = Date.parse(switchedAt);
  return Number.isFinite(since) && warm.now.getTime() - since > warm.minutes * 60_000;
}

/**
 * Plans which colour gets `desired`. With `warm`, a previous colour past its warm window is no
 * longer kept: the release stops it, and rolling back to it becomes a redeploy.
 */
export function planColors(
  observed: ObservedService,
  desired: SlotSpec,
  strategy: Strategy,
  warm?: WarmWindow,
): ColorPlan {
  if (warm && observed.active && warmWindowOver(observed.switchedAt, warm)) {
    const idle = otherColor(observed.active);
    const { [idle]: _expired, ...slots } = observed.slots;
    const idleMatches = sameBuild(observed.slots[idle], desired);
    // A rollback to the build the expired colour still runs is still a routing change.
    if (!idleMatches) return planColors({ active: observed.active, slots }, desired, strategy);
  }
  const live = observed.active;
  if (strategy === "recreate") {
    // One colour, stopped and started in place during the maintenance window; any other colour runs
    // an older build that may not understand migrated data, so it is not kept.
    const candidate = live ?? "blue";
    return { candidate, live, warm: null, keep: {}, reuse: sameBuild(observed.slots[candidate], desired) };
  }
  if (live === null) {
    const candidate = sameBuild(observed.slots.green, desired) ? "green" : "blue";
    return { candidate, live, warm: null, keep: {}, reuse: sameBuild(observed.slots[candidate], desired) };
  }
  const idle = otherColor(live);
  const liveSpec = observed.slots[live];
  const idleSpec = observed.slots[idle];
  if (sameBuild(liveSpec, desired)) {
    // Already live: nothing to deploy; the idle colour stays as it is (warm, if it runs something).
    return {
      candidate: live,
      live,
      warm: idleSpec ? idle : null,
      keep: idleSpec ? { [idle]: idleSpec } : {},
      reuse: true,
    };
  }
  return {
    candidate: idle,
    live,
    warm: liveSpec ? live : null,
    keep: liveSpec ? { [live]: liveSpec } : {},
    reuse: sameBuild(idleSpec, desired),
  };
}
