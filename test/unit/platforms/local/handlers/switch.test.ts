// The Switch handler's diff: when the engine routes users again and what replaces it.
import { describe, expect, it } from "vitest";
import {
  type SwitchInputs,
  type SwitchOutputs,
  handlers,
} from "../../../../../platforms/local/handlers/switch";

const inputs: SwitchInputs = {
  service: "web",
  releaseKey: "CHG-1@2.0.0",
  adminPort: 31003,
  color: "green",
  target: "http://127.0.0.1:31002",
  switchFile: ".shipgate/unit/services/web/switch.json",
};
const olds = (active: SwitchOutputs["active"] = "green"): SwitchOutputs => ({
  ...inputs,
  active,
  previous: "blue",
  switchedAt: "2026-11-22T10:00:00.000Z",
});

describe("Switch diff", () => {
  it("does nothing while the router sends users to the colour of this release", async () => {
    expect(await handlers.diff("", "id", olds(), inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("routes again when the router (as refresh read it) sends users elsewhere, or is gone", async () => {
    for (const active of ["blue", null] as const) {
      expect(await handlers.diff("", "id", olds(active), inputs)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  it("routes again (in place) for another colour, target, release or router", async () => {
    for (const news of [
      { ...inputs, color: "blue" as const },
      { ...inputs, target: "http://127.0.0.1:31001" },
      { ...inputs, releaseKey: "CHG-2@3.0.0" },
      { ...inputs, adminPort: 41003 },
    ]) {
      expect(await handlers.diff("", "id", olds(), news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  it("replaces for another service", async () => {
    expect(await handlers.diff("", "id", olds(), { ...inputs, service: "api" })).toEqual({
      changes: true,
      replaces: ["service"],
      deleteBeforeReplace: false,
    });
  });
});
