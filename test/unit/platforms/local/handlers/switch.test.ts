// The Switch handler's diff: when the engine routes users again and what replaces it; and what it
// asks of a real router (in this process) when it routes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRouter, startRouter } from "../../../../../platforms/local/router/server";
import { setRouterMaintenance } from "../../../../../platforms/local/router/router-client";
import { initialRouterState, writeRouterState } from "../../../../../platforms/local/router/state";
import { type TestProject, testProject } from "./helpers";
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

describe("Switch against a router", () => {
  let project: TestProject;
  let router: RunningRouter;
  const lines: string[] = [];
  const blueUrl = "http://127.0.0.1:31001";
  const greenUrl = "http://127.0.0.1:31002";
  /** The router's admin actions since the last call, as "<action> <detail>". */
  const actions = () => lines.splice(0).map((line) => line.replace(/^\S+ shipgate-router\[web\] /, ""));

  beforeAll(async () => {
    project = testProject("switch-handler");
    const stateFile = join(project.dir, "router-state.json");
    await writeRouterState(stateFile, {
      ...initialRouterState({ service: "web" }),
      upstreams: { blue: blueUrl, green: greenUrl },
      active: "green",
      fallback: "blue",
    });
    router = await startRouter(stateFile, { log: (line) => lines.push(line) });
    actions();
  });

  afterAll(async () => {
    await router?.close();
    project?.remove();
  });

  const routeTo = async (color: "blue" | "green", target: string): Promise<SwitchOutputs> => {
    if (!handlers.update) throw new Error("the switch routes again in place: it has an update");
    const { outs } = await handlers.update(project.dir, "web-switch", olds(), {
      ...inputs,
      adminPort: router.adminPort,
      switchFile: "switch.json",
      color,
      target,
    });
    if (!outs) throw new Error("update returned no outputs");
    return outs as SwitchOutputs;
  };

  it("rolling back to the warm colour whose address the router knows, with no maintenance up, is the switch alone", async () => {
    const routed = await routeTo("blue", blueUrl);
    expect(routed).toMatchObject({ active: "blue", previous: "green" });
    expect(actions()).toEqual(["switch green -> blue"]);
    expect(router.state()).toMatchObject({ active: "blue", upstreams: { blue: blueUrl, green: greenUrl } });
    expect(JSON.parse(readFileSync(join(project.dir, "switch.json"), "utf8"))).toEqual({
      active: "blue",
      previous: "green",
      switchedAt: routed.switchedAt,
    });
  });

  it("registers a new address and lifts a maintenance response when there is one", async () => {
    await setRouterMaintenance({ adminPort: router.adminPort }, { enabled: true });
    actions();
    const moved = "http://127.0.0.1:31012";
    const routed = await routeTo("green", moved);
    expect(routed).toMatchObject({ active: "green", previous: "blue" });
    expect(actions()).toEqual([`set-upstream green=${moved}`, "switch blue -> green", "maintenance off"]);
    expect(router.state()).toMatchObject({ active: "green", maintenance: { enabled: false } });
  });
});
