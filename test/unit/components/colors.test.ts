import { describe, expect, it } from "vitest";
import { planColors, warmWindowOver } from "../../../components/colors";
import type { SlotSpec } from "../../../components/platform";

const build = (version: string, env: Record<string, string> = {}): SlotSpec => ({
  version,
  artifact: { source: "builds", version, digest: `sha256:${version.replace(/\./g, "").padEnd(64, "0")}` },
  env,
});

describe("planColors (blue-green)", () => {
  it("puts the first release on blue", () => {
    expect(planColors({ active: null, slots: {} }, build("1.0.0"), "blue-green")).toEqual({
      candidate: "blue",
      live: null,
      warm: null,
      keep: {},
      reuse: false,
    });
  });

  it("deploys to the idle colour and keeps the live one as it runs", () => {
    const v1 = build("1.0.0");
    expect(planColors({ active: "blue", slots: { blue: v1 } }, build("2.0.0"), "blue-green")).toEqual({
      candidate: "green",
      live: "blue",
      warm: "blue",
      keep: { blue: v1 },
      reuse: false,
    });
  });

  it("replaces what the idle colour ran two releases ago", () => {
    const v1 = build("1.0.0");
    const v2 = build("2.0.0");
    expect(
      planColors({ active: "green", slots: { blue: v1, green: v2 } }, build("3.0.0"), "blue-green"),
    ).toEqual({
      candidate: "blue",
      live: "green",
      warm: "green",
      keep: { green: v2 },
      reuse: false,
    });
  });

  it("rolls back by routing to the warm colour that already runs the build", () => {
    const v1 = build("1.0.0");
    const v2 = build("2.0.0");
    expect(
      planColors({ active: "green", slots: { blue: v1, green: v2 } }, build("1.0.0"), "blue-green"),
    ).toEqual({
      candidate: "blue",
      live: "green",
      warm: "green",
      keep: { green: v2 },
      reuse: true,
    });
  });

  it("changes nothing when the live colour already runs the build", () => {
    const v1 = build("1.0.0");
    const v2 = build("2.0.0");
    expect(
      planColors({ active: "green", slots: { blue: v1, green: v2 } }, build("2.0.0"), "blue-green"),
    ).toEqual({
      candidate: "green",
      live: "green",
      warm: "blue",
      keep: { blue: v1 },
      reuse: true,
    });
  });

  it("treats a config change as a new build", () => {
    const v2 = build("2.0.0");
    const plan = planColors(
      { active: "green", slots: { green: v2 } },
      build("2.0.0", { FLAG: "on" }),
      "blue-green",
    );
    expect(plan.candidate).toBe("blue");
    expect(plan.reuse).toBe(false);
  });
});

describe("planColors (recreate)", () => {
  it("stops and restarts the live colour and keeps no other", () => {
    const v1 = build("1.0.0");
    const v2 = build("2.0.0");
    expect(
      planColors({ active: "green", slots: { blue: v1, green: v2 } }, build("4.0.0"), "recreate"),
    ).toEqual({
      candidate: "green",
      live: "green",
      warm: null,
      keep: {},
      reuse: false,
    });
  });
});

describe("planColors (warm window)", () => {
  const v1 = build("1.0.0");
  const v2 = build("2.0.0");
  const observed = {
    active: "green" as const,
    slots: { blue: v1, green: v2 },
    switchedAt: "2026-11-22T10:00:00Z",
  };

  it("keeps the previous colour warm within the window", () => {
    const plan = planColors(observed, build("3.0.0"), "blue-green", {
      minutes: 60,
      now: new Date("2026-11-22T10:59:00Z"),
    });
    expect(plan).toEqual({
      candidate: "blue",
      live: "green",
      warm: "green",
      keep: { green: v2 },
      reuse: false,
    });
    expect(warmWindowOver(observed.switchedAt, { minutes: 60, now: new Date("2026-11-22T10:59:00Z") })).toBe(
      false,
    );
  });

  it("stops keeping it once the window is over, so a rollback to it redeploys", () => {
    const now = new Date("2026-11-22T11:01:00Z");
    expect(warmWindowOver(observed.switchedAt, { minutes: 60, now })).toBe(true);
    // Releasing 2.0.0 again changes nothing; releasing 3.0.0 goes to blue, and blue's 1.0.0 is not kept.
    expect(planColors(observed, v2, "blue-green", { minutes: 60, now })).toEqual({
      candidate: "green",
      live: "green",
      warm: null,
      keep: {},
      reuse: true,
    });
  });

  it("still treats a rollback to the expired colour's build as a routing change while it runs", () => {
    const now = new Date("2026-11-22T11:01:00Z");
    expect(planColors(observed, v1, "blue-green", { minutes: 60, now }).reuse).toBe(true);
  });

  it("keeps a colour whose switch time is unknown", () => {
    expect(warmWindowOver(null, { minutes: 1, now: new Date() })).toBe(false);
  });
});
