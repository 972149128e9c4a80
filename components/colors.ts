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

export function planColors(observed: ObservedService, desired: SlotSpec, strategy: Strategy): ColorPlan {
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
