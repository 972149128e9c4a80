import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type RouterState,
  RouterConflictError,
  RouterInputError,
  drainBodySchema,
  fallbackRoute,
  initialRouterState,
  otherColor,
  parseRouterState,
  parseWith,
  readRouterState,
  removeUpstream,
  routeFor,
  setHeld,
  setMaintenance,
  setUpstream,
  switchBodySchema,
  switchColor,
  upstreamBodySchema,
  writeRouterState,
} from "../../../../../platforms/local/router/state";

const base: RouterState = initialRouterState({ service: "web", listenPort: 8080, adminPort: 8081 });
const both = setUpstream(
  setUpstream(base, "blue", "http://127.0.0.1:9001"),
  "green",
  "http://127.0.0.1:9002",
);

describe("initialRouterState", () => {
  it("starts with no upstreams, nothing active and maintenance off", () => {
    expect(base).toEqual({
      service: "web",
      listenHost: "127.0.0.1",
      listenPort: 8080,
      adminPort: 8081,
      upstreams: {},
      active: null,
      maintenance: {
        enabled: false,
        message: "This service is down for maintenance. Please try again shortly.",
        retryAfterSeconds: 60,
      },
    });
    expect(initialRouterState({ service: "api" }).listenPort).toBe(0);
    expect(otherColor("blue")).toBe("green");
    expect(otherColor("green")).toBe("blue");
  });
});

describe("parseRouterState", () => {
  it("names every invalid field and what was expected", () => {
    expect(() =>
      parseRouterState(
        {
          ...base,
          listenHost: "0.0.0.0",
          listenPort: 70000,
          upstreams: { blue: "http://example.com:80", red: "http://127.0.0.1:1" },
          active: "red",
        },
        "state.json",
      ),
    ).toThrow(
      new RouterInputError(
        'invalid router state in state.json: listenHost: expected "127.0.0.1"; ' +
          "listenPort: expected a port number (integer 0-65535); " +
          'upstreams.blue: expected a URL like "http://127.0.0.1:<port>"; ' +
          'upstreams: unexpected field(s) "red"; active: expected "blue" or "green"',
      ),
    );
  });

  it("refuses port 0 and ports above 65535 in an upstream URL", () => {
    expect(() => setUpstream(base, "blue", "http://127.0.0.1:0")).toThrow(
      'invalid upstream for blue: url: expected a URL like "http://127.0.0.1:<port>" with a port from 1 to 65535',
    );
    expect(() => setUpstream(base, "blue", "http://127.0.0.1:99999")).toThrow(RouterInputError);
    expect(() => setUpstream(base, "blue", "https://127.0.0.1:443")).toThrow(RouterInputError);
    expect(() => setUpstream(base, "blue", "http://127.0.0.1:443/path")).toThrow(RouterInputError);
  });
});

describe("admin request bodies", () => {
  it("answers with the field and the expectation", () => {
    expect(() => parseWith(switchBodySchema, { color: "red" }, "switch request")).toThrow(
      'invalid switch request: color: expected "blue" or "green"',
    );
    expect(() => parseWith(switchBodySchema, [], "switch request")).toThrow("invalid switch request: body: ");
    expect(() => parseWith(upstreamBodySchema, { url: 5 }, "upstream")).toThrow(
      'invalid upstream: url: expected a string like "http://127.0.0.1:<port>"',
    );
    expect(() => parseWith(drainBodySchema, { timeoutMs: -1 }, "drain request")).toThrow(
      "invalid drain request: timeoutMs: expected milliseconds (integer 0-600000)",
    );
    expect(() => parseWith(drainBodySchema, { timeoutMs: 5, extra: true }, "drain request")).toThrow(
      'invalid drain request: body: unexpected field(s) "extra"',
    );
    expect(parseWith(drainBodySchema, { timeoutMs: 250 }, "drain request")).toEqual({ timeoutMs: 250 });
  });
});

describe("transitions", () => {
  it("setUpstream registers a slot without touching the input", () => {
    expect(both.upstreams).toEqual({ blue: "http://127.0.0.1:9001", green: "http://127.0.0.1:9002" });
    expect(base.upstreams).toEqual({});
  });

  it("switchColor answers previous and active, and refuses a colour without upstream", () => {
    const first = switchColor(both, "blue");
    expect({ previous: first.previous, active: first.active, stateActive: first.state.active }).toEqual({
      previous: null,
      active: "blue",
      stateActive: "blue",
    });
    const second = switchColor(first.state, "green");
    expect([second.previous, second.active]).toEqual(["blue", "green"]);
    expect(() => switchColor(base, "green")).toThrow(
      new RouterConflictError("cannot switch to green: it has no upstream; register one first"),
    );
    expect(new RouterConflictError("x").status).toBe(409);
  });

  it("removeUpstream refuses the active colour and removes an idle one", () => {
    const live = switchColor(both, "blue").state;
    expect(() => removeUpstream(live, "blue")).toThrow(
      new RouterConflictError("cannot remove the blue upstream: blue is active; switch to green first"),
    );
    expect(removeUpstream(live, "green").upstreams).toEqual({ blue: "http://127.0.0.1:9001" });
    expect(removeUpstream(base, "green").upstreams).toEqual({});
  });

  it("setMaintenance keeps the message and retry time unless given", () => {
    const on = setMaintenance(base, { enabled: true });
    expect(on.maintenance).toEqual({ ...base.maintenance, enabled: true });
    const custom = setMaintenance(on, { enabled: true, message: "Back at 10:00", retryAfterSeconds: 120 });
    expect(custom.maintenance).toEqual({ enabled: true, message: "Back at 10:00", retryAfterSeconds: 120 });
    expect(setMaintenance(custom, { enabled: false }).maintenance).toEqual({
      enabled: false,
      message: "Back at 10:00",
      retryAfterSeconds: 120,
    });
    expect(() => setMaintenance(base, { enabled: true, retryAfterSeconds: 1.5 })).toThrow(
      "invalid maintenance change: retryAfterSeconds: expected a whole number of seconds (0-86400)",
    );
  });
});

describe("routeFor", () => {
  it("proxies to the active colour, and answers itself in maintenance or with nothing active", () => {
    expect(routeFor(base)).toEqual({ kind: "no-upstream", message: "service web has no active colour yet" });
    const live = switchColor(both, "green").state;
    expect(routeFor(live)).toEqual({ kind: "proxy", color: "green", url: "http://127.0.0.1:9002" });
    expect(routeFor(setMaintenance(live, { enabled: true, message: "soon", retryAfterSeconds: 30 }))).toEqual(
      {
        kind: "maintenance",
        message: "soon",
        retryAfterSeconds: 30,
      },
    );
  });
});

describe("held colours (restarted, not yet gated again)", () => {
  // Blue served, then green: blue is the warm fallback.
  const live = switchColor(switchColor(both, "blue").state, "green").state;

  it("send users to the warm colour while the active one is held, and to nobody when none stands by", () => {
    const held = setHeld(live, "green", true);
    expect(routeFor(held)).toEqual({ kind: "proxy", color: "blue", url: "http://127.0.0.1:9001" });
    expect(routeFor(setHeld(held, "green", false))).toEqual(routeFor(live));
    const alone = setHeld({ ...live, fallback: null }, "green", true);
    expect(routeFor(alone)).toEqual({
      kind: "no-upstream",
      message:
        "service web: active colour green is being restarted and checked again before it serves, " +
        "and no warm colour stands by",
    });
  });

  it("are never a fallback nor switched to", () => {
    const warmHeld = setHeld(live, "blue", true);
    expect(fallbackRoute(live)).toEqual({ color: "blue", url: "http://127.0.0.1:9001" });
    expect(fallbackRoute(warmHeld)).toBeUndefined();
    expect(routeFor(setHeld(warmHeld, "green", true))).toMatchObject({ kind: "no-upstream" });
    expect(() => switchColor(warmHeld, "blue")).toThrow(
      new RouterConflictError(
        "cannot switch to blue: its process was restarted and has not passed its gate again yet",
      ),
    );
  });

  it("holding twice keeps one entry, and the state file accepts it", () => {
    const twice = setHeld(setHeld(live, "blue", true), "blue", true);
    expect(twice.held).toEqual(["blue"]);
    expect(parseRouterState(twice, "test").held).toEqual(["blue"]);
    expect(() => parseRouterState({ ...twice, held: ["red"] }, "test")).toThrow(
      'invalid router state in test: held.0: expected "blue" or "green"',
    );
  });
});

describe("the state file", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "shipgate-router-state-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("round-trips and leaves no temp file behind", async () => {
    const path = join(dir, "router.json");
    const live = switchColor(both, "green").state;
    await writeRouterState(path, live);
    expect(await readRouterState(path)).toEqual(live);
    expect(readdirSync(dir)).toEqual(["router.json"]);
  });

  it("refuses to write an invalid state and names the file when reading a bad one", async () => {
    const path = join(dir, "router.json");
    await expect(writeRouterState(path, { ...base, adminPort: -1 })).rejects.toThrow(
      "invalid router state in the state to write: adminPort: expected a port number (integer 0-65535)",
    );
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(path, "{not json");
    await expect(readRouterState(path)).rejects.toThrow(`router state ${path} is not valid JSON`);
    await expect(readRouterState(join(dir, "missing.json"))).rejects.toThrow(
      `cannot read router state ${join(dir, "missing.json")}`,
    );
  });
});
