// The Maintenance handler's diff: a window opens again only for a new release, message or router.
import { describe, expect, it } from "vitest";
import {
  type MaintenanceInputs,
  type MaintenanceOutputs,
  handlers,
} from "../../../../../platforms/local/handlers/maintenance";

const inputs: MaintenanceInputs = {
  service: "web",
  releaseKey: "CHG-4@4.0.0",
  adminPort: 31003,
  message: "Back in a minute.",
  stopPidFile: ".shipgate/unit/services/web/green/app.pid.json",
};
const olds: MaintenanceOutputs = { ...inputs, startedAt: "2026-11-22T10:00:00.000Z", drained: true };

describe("Maintenance diff", () => {
  it("does not open the window again for the same release, message and router", async () => {
    expect(await handlers.diff("", "id", olds, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect((await handlers.diff("", "id", olds, { ...inputs, stopPidFile: null })).changes).toBe(false);
  });

  it("opens it again (in place) for another release, message or router", async () => {
    for (const news of [
      { ...inputs, releaseKey: "CHG-5@5.0.0" },
      { ...inputs, message: "Back soon." },
      { ...inputs, adminPort: 41003 },
    ]) {
      expect(await handlers.diff("", "id", olds, news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  it("replaces for another service", async () => {
    expect(await handlers.diff("", "id", olds, { ...inputs, service: "api" })).toEqual({
      changes: true,
      replaces: ["service"],
      deleteBeforeReplace: false,
    });
  });
});
