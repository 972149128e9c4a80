import { describe, expect, it } from "vitest";
import { planColors } from "../../../components/colors";
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
