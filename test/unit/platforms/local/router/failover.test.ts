import { describe, expect, it } from "vitest";
import {
  FailureWindow,
  defaultFailoverSettings,
  isFailure,
  mayRetry,
  maxRetryBodyBytes,
} from "../../../../../platforms/local/router/failover";
import {
  RouterConflictError,
  failOver,
  failoverSettings,
  fallbackRoute,
  initialRouterState,
  parseRouterState,
  removeUpstream,
  setFallback,
  setMaintenance,
  setUpstream,
  switchColor,
} from "../../../../../platforms/local/router/state";

const both = setUpstream(
  setUpstream(initialRouterState({ service: "web" }), "blue", "http://127.0.0.1:9001"),
  "green",
  "http://127.0.0.1:9002",
);

describe("the fallback colour", () => {
  it("is the colour that served before a switch, and none after a switch back to it", () => {
    const first = switchColor(both, "blue").state;
    expect(first.fallback).toBeNull();
    const second = switchColor(first, "green").state;
    expect([second.active, second.fallback]).toEqual(["green", "blue"]);
    expect(fallbackRoute(second)).toEqual({ color: "blue", url: "http://127.0.0.1:9001" });
    // Again to green: nothing changes. Back to blue (verification failed, or a rollback): green was
    // just judged, so it is not a fallback.
    expect(switchColor(second, "green").state.fallback).toBe("blue");
    const back = switchColor(second, "blue").state;
    expect([back.active, back.fallback]).toEqual(["blue", null]);
    expect(fallbackRoute(back)).toBeUndefined();
    // The next release on green has blue to fall back to again.
    expect(switchColor(back, "green").state.fallback).toBe("blue");
  });

  it("is withdrawn with its upstream, and not used in maintenance", () => {
    const live = switchColor(switchColor(both, "blue").state, "green").state;
    expect(removeUpstream(live, "blue").fallback).toBeNull();
    expect(fallbackRoute(setMaintenance(live, { enabled: true }))).toBeUndefined();
    expect(setFallback(live, null).fallback).toBeNull();
    expect(() => setFallback(live, "green")).toThrow(
      new RouterConflictError("cannot fall back to green: it is the active colour"),
    );
    expect(() => setFallback(removeUpstream(live, "blue"), "blue")).toThrow(
      new RouterConflictError("cannot fall back to blue: it has no upstream; register one first"),
    );
  });

  it("takes the users on failover, which names where from and why, once", () => {
    const live = switchColor(switchColor(both, "blue").state, "green").state;
    const at = new Date("2026-11-30T17:00:00.000Z");
    const flipped = failOver(live, "5 failed requests", at);
    expect([flipped.active, flipped.fallback, flipped.failedOver]).toEqual([
      "blue",
      null,
      { from: "green", to: "blue", at: "2026-11-30T17:00:00.000Z", reason: "5 failed requests" },
    ]);
    expect(() => failOver(flipped, "again", at)).toThrow(
      new RouterConflictError("cannot fail over: there is no warm colour to fall back to"),
    );
    expect(switchColor(flipped, "green").state.failedOver).toBeNull();
  });
});

describe("failover settings", () => {
  it("default to a burst of 5 in 10 s, retrying GET, HEAD and OPTIONS", () => {
    expect(failoverSettings(both)).toEqual(defaultFailoverSettings);
    expect(defaultFailoverSettings).toEqual({
      errorBurst: 5,
      windowMs: 10_000,
      retryMethods: ["GET", "HEAD", "OPTIONS"],
    });
  });

  it("name the key and what was expected when invalid", () => {
    expect(() =>
      parseRouterState(
        { ...both, failover: { errorBurst: 0, windowMs: 10, retryMethods: ["GET", "FETCH"], extra: 1 } },
        "state.json",
      ),
    ).toThrow(
      "invalid router state in state.json: " +
        "failover.errorBurst: expected a count of failed requests (a whole number from 1 to 10000); " +
        "failover.windowMs: expected milliseconds (a whole number from 100 to 600000); " +
        "failover.retryMethods.1: expected one of GET, HEAD, OPTIONS, PUT, DELETE, POST, PATCH, TRACE; " +
        'failover: unexpected field(s) "extra"',
    );
  });

  it("retry only the configured methods, with a body small enough to hold", () => {
    const settings = { ...defaultFailoverSettings, retryMethods: ["GET" as const, "PUT" as const] };
    expect(mayRetry(settings, "get", 0)).toBe(true);
    expect(mayRetry(settings, "PUT", maxRetryBodyBytes)).toBe(true);
    expect(mayRetry(settings, "PUT", maxRetryBodyBytes + 1)).toBe(false);
    expect(mayRetry(settings, "PUT", "unknown")).toBe(false);
    expect(mayRetry(settings, "POST", 0)).toBe(false);
  });

  it("count server errors and missing answers as failures, nothing else", () => {
    expect([null, 500, 503, 499, 404, 200].map(isFailure)).toEqual([true, true, true, false, false, false]);
  });
});

describe("FailureWindow", () => {
  it("completes a burst only with enough failures inside the window", () => {
    const window = new FailureWindow({ errorBurst: 3, windowMs: 1000 });
    // The failure at 0 is out of the window by 1400.
    expect([window.record(0), window.record(500), window.record(1400)]).toEqual([false, false, false]);
    expect(window.count).toBe(2);
    expect(window.record(1450)).toBe(true);
    window.reset();
    expect(window.count).toBe(0);
  });
});
