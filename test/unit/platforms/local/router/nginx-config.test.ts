import { describe, expect, it } from "vitest";
import { defaultFailoverSettings } from "../../../../../platforms/local/router/failover";
import {
  type NginxPaths,
  renderNginxConfig,
  routeMarker,
  routeMarkers,
} from "../../../../../platforms/local/router/nginx-config";
import { parseFailureLine } from "../../../../../platforms/local/router/nginx";
import { parseRouterState } from "../../../../../platforms/local/router/state";
import {
  failOver,
  initialRouterState,
  setFallback,
  setHeld,
  setMaintenance,
  setUpstream,
  switchColor,
} from "../../../../../platforms/local/router/state";

const paths: NginxPaths = {
  runtimeDir: "/tmp/shipgate-nginx-x",
  routerSocket: "/tmp/shipgate-nginx-x/router.sock",
  statusSocket: "/tmp/shipgate-nginx-x/status.sock",
  failureLog: "/tmp/shipgate-nginx-x/failures.log",
  errorLog: "/srv/router/nginx-error.log",
};
const base = initialRouterState({ service: "web", listenPort: 8080, adminPort: 8081 });
const both = setUpstream(
  setUpstream(base, "blue", "http://127.0.0.1:9001"),
  "green",
  "http://127.0.0.1:9002",
);
const blueLive = switchColor(both, "blue").state;
const greenAfterBlue = switchColor(blueLive, "green").state;

const render = (state = greenAfterBlue, settings = defaultFailoverSettings) =>
  renderNginxConfig({ state, settings, listenPort: 8080, generation: 7, paths }).split("\n");

describe("routeMarker", () => {
  it("names the router for maintenance and for no colour, and a colour with its warm colour", () => {
    expect(routeMarker(base)).toBe("router");
    expect(routeMarker(blueLive)).toBe("blue");
    expect(routeMarker(greenAfterBlue)).toBe("green_then_blue");
    expect(routeMarker(setFallback(greenAfterBlue, null))).toBe("green");
    const down = setMaintenance(greenAfterBlue, { enabled: true });
    expect(routeMarker(down)).toBe("router");
    // A held active colour: users stay on the warm one, which is then no fallback to itself.
    expect(routeMarker(setHeld(greenAfterBlue, "green", true))).toBe("blue");
    expect(routeMarker(setHeld(greenAfterBlue, "blue", true))).toBe("green");
    expect(routeMarker(failOver(greenAfterBlue, "burst", new Date(0)))).toBe("blue");
    expect(routeMarkers).toEqual(["router", "blue", "green", "blue_then_green", "green_then_blue"]);
  });
});

describe("renderNginxConfig", () => {
  it("reads the route per request from one marker file per route", () => {
    const lines = render();
    expect(lines).toContain("    set $sg_route router;");
    for (const marker of ["blue", "green", "blue_then_green", "green_then_blue"]) {
      expect(lines).toContain(
        `    if (-f /tmp/shipgate-nginx-x/route/${marker}) { set $sg_route ${marker}; }`,
      );
    }
    expect(lines).toContain("    listen 127.0.0.1:8080 reuseport;");
    expect(lines).toContain('    location = /generation { return 200 "7"; }');
  });

  it("gives a second colour only to the methods the settings may repeat", () => {
    const lines = render();
    const poolMap = lines.slice(lines.indexOf('  map "$sg_route:$sg_may_retry" $sg_pool {'));
    expect(poolMap.slice(0, poolMap.indexOf("  }") + 1)).toEqual([
      '  map "$sg_route:$sg_may_retry" $sg_pool {',
      "    default sg_router;",
      '    "blue:0" sg_blue;',
      '    "blue:1" sg_blue;',
      '    "blue_then_green:0" sg_blue;',
      '    "blue_then_green:1" sg_blue_then_green;',
      '    "green:0" sg_green;',
      '    "green:1" sg_green;',
      '    "green_then_blue:0" sg_green;',
      '    "green_then_blue:1" sg_green_then_blue;',
      "  }",
    ]);
    const methods = lines.slice(lines.indexOf("  map $request_method $sg_may_retry {"));
    expect(methods.slice(0, methods.indexOf("  }") + 1)).toEqual([
      "  map $request_method $sg_may_retry {",
      "    default 0;",
      "    GET 1;",
      "    HEAD 1;",
      "    OPTIONS 1;",
      "  }",
    ]);
    const pool = lines.slice(lines.indexOf("  upstream sg_green_then_blue {"));
    expect(pool.slice(0, 6)).toEqual([
      "  upstream sg_green_then_blue {",
      "    server 127.0.0.1:9002 max_fails=0;",
      "    server 127.0.0.1:9001 max_fails=0 backup;",
      "    keepalive 64;",
      "    keepalive_timeout 4s;",
      "  }",
    ]);
    expect(lines).toContain(
      "      proxy_next_upstream error http_500 http_502 http_503 http_504 non_idempotent;",
    );
    expect(lines).toContain("      proxy_next_upstream_tries 2;");
  });

  it("has no pool for a colour without an address, so its route falls to the router", () => {
    const lines = render(switchColor(setUpstream(base, "blue", "http://127.0.0.1:9001"), "blue").state);
    expect(lines.some((line) => line.includes("sg_green"))).toBe(false);
    expect(lines).toContain('    "blue:1" sg_blue;');
    expect(lines).toContain("    server unix:/tmp/shipgate-nginx-x/router.sock;");
  });

  it("changes only with the addresses, settings and ports, not with the route", () => {
    const text = (state = greenAfterBlue) =>
      renderNginxConfig({ state, settings: defaultFailoverSettings, listenPort: 8080, generation: 1, paths });
    expect(text(blueLive)).toBe(text(greenAfterBlue));
    expect(text(setMaintenance(greenAfterBlue, { enabled: true }))).toBe(text());
    expect(text(setUpstream(greenAfterBlue, "blue", "http://127.0.0.1:9003"))).not.toBe(text());
  });

  it("has the pools of colours not registered yet at their slot ports, so registering one needs no reload", () => {
    const first = switchColor(setUpstream(base, "blue", "http://127.0.0.1:9001"), "blue").state;
    const text = (state = first) =>
      renderNginxConfig({
        state,
        settings: defaultFailoverSettings,
        listenPort: 8080,
        generation: 1,
        paths,
        slotPorts: { blue: 9001, green: 9002 },
      });
    expect(text().split("\n")).toContain("    server 127.0.0.1:9002 max_fails=0;");
    expect(text(setUpstream(first, "green", "http://127.0.0.1:9002"))).toBe(text());
    expect(text(setUpstream(first, "green", "http://127.0.0.1:9005"))).not.toBe(text());
  });

  it("refuses a method name that is not one", () => {
    const state = parseRouterState(greenAfterBlue, "state");
    expect(() =>
      renderNginxConfig({
        state,
        settings: { ...defaultFailoverSettings, retryMethods: ["GET; return 200 x" as "GET"] },
        listenPort: 8080,
        generation: 1,
        paths,
      }),
    ).toThrow(/not a value for nginx/);
  });
});

describe("parseFailureLine", () => {
  const state = greenAfterBlue;
  it("names the first attempt's colour and what it met", () => {
    expect(
      parseFailureLine("1764540000.123 127.0.0.1:9002, 127.0.0.1:9001|500, 200|0.001, 0.002", state),
    ).toEqual({
      color: "green",
      what: "answered 500",
    });
    expect(parseFailureLine("1764540000.123 127.0.0.1:9002|502|-", state)).toEqual({
      color: "green",
      what: "no answer (nginx 502)",
    });
  });

  it("ignores lines of no colour (the router's own socket) and lines it cannot read", () => {
    expect(parseFailureLine("1764540000.123 unix:/tmp/x/router.sock|503|0.001", state)).toBeUndefined();
    expect(parseFailureLine("1764540000.123 127.0.0.1:9999|500|0.001", state)).toBeUndefined();
    expect(parseFailureLine("garbage", state)).toBeUndefined();
  });
});
