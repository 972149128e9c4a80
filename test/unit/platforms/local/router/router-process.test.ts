// The router as the real process the local platform starts (dist/platforms/local/router/main.js),
// in front of two real sample-app builds, all on 127.0.0.1 with ports from the OS.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor, waitUntil } from "../../../../wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RouterAdminError,
  type RouterClientOptions,
  drainRouter,
  getRouterStatus,
  removeRouterUpstream,
  setRouterFallback,
  setRouterMaintenance,
  setRouterUpstream,
  switchRouter,
  waitForRouter,
} from "../../../../../platforms/local/router/router-client";
import {
  type Color,
  initialRouterState,
  readRouterState,
  writeRouterState,
} from "../../../../../platforms/local/router/state";
import {
  type Running,
  type RunningApp,
  buildSampleApps,
  json,
  request,
  routerMain,
  runMigration,
  startNode,
  startSampleApp,
  stop,
  stopAll,
} from "../../../sample-app/processes";
import { requireNginx } from "../../../../nginx";
import { stopLeftOverNginx } from "../../../../../platforms/local/router/nginx";

let work: string;
let stateFile: string;
let blue: RunningApp;
let green: RunningApp;
let router: Running;
let admin: RouterClientOptions;
let publicPort: number;
let planeEnv: Record<string, string> = {};

/**
 * The router forwards with nginx where the set-up installed it, and by itself otherwise: every
 * behaviour below must hold on both.
 */
const dataPlanes: { name: string; env: Record<string, string> }[] = [
  { name: "node", env: {} },
  { name: "nginx", env: { SHIPGATE_NGINX: requireNginx() } },
];

async function startRouter(): Promise<void> {
  router = await startNode([routerMain, stateFile], planeEnv, /shipgate-router\[web\] start pid=/);
  const state = await readRouterState(stateFile);
  admin = { adminPort: state.adminPort };
  publicPort = state.listenPort;
  await waitForRouter(admin);
}

async function errorOf(promise: Promise<unknown>): Promise<RouterAdminError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof RouterAdminError))
    throw new Error(`expected a RouterAdminError, got ${String(error)}`);
  return error;
}

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const versionOf: Record<Color, string> = { blue: "1.0.0", green: "2.0.0" };

describe.each(dataPlanes)("router with the $name data plane", ({ name: plane, env }) => {
  beforeAll(() => {
    planeEnv = env;
  });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "shipgate-router-"));
    const builds = buildSampleApps(join(work, "artifacts"));
    const dataDir = join(work, "data");
    const v1 = builds.get("1.0.0");
    const v2 = builds.get("2.0.0");
    if (v1 === undefined || v2 === undefined)
      throw new Error("sample-app builds 1.0.0 and 2.0.0 are missing");
    blue = await startSampleApp(v1.path, dataDir);
    // Both colours share one data directory, migrated as a blue-green release would.
    const migrated = runMigration(v2.path, dataDir, "0002_add_created_at");
    expect(migrated.status).toBe(0);
    green = await startSampleApp(v2.path, dataDir);
    stateFile = join(work, "router-web.json");
    await writeRouterState(stateFile, initialRouterState({ service: "web" }));
    await startRouter();
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    // A router killed by a failed test leaves its nginx serving (as it should for users): stop it.
    await stopLeftOverNginx(work);
    rmSync(work, { recursive: true, force: true });
  });

  describe("router admin API", () => {
    it("starts on OS ports, writes them to its state file, and serves 503 with nothing active", async () => {
      expect(publicPort).toBeGreaterThan(0);
      const status = await getRouterStatus(admin);
      expect(status).toMatchObject({
        service: "web",
        listenPort: publicPort,
        active: null,
        upstreams: {},
        inFlight: { blue: 0, green: 0 },
        pid: router.child.pid,
      });
      const answer = await request(publicPort, "/", { headers: { accept: "application/json" } });
      expect(answer.status).toBe(503);
      expect(json(answer)).toEqual({
        error: "no-active-upstream",
        message: "service web has no active colour yet",
      });
    });

    it("registers upstreams, switches, refuses what the state does not allow, and persists first", async () => {
      expect((await errorOf(switchRouter(admin, "blue"))).message).toBe(
        "router admin POST /switch answered 409: cannot switch to blue: it has no upstream; register one first",
      );
      await setRouterUpstream(admin, "blue", blue.url);
      await setRouterUpstream(admin, "green", green.url);
      expect(await switchRouter(admin, "blue")).toEqual({ previous: null, active: "blue" });
      expect((await readRouterState(stateFile)).active).toBe("blue");

      const refused = await errorOf(removeRouterUpstream(admin, "blue"));
      expect(refused.status).toBe(409);
      const invalid = await errorOf(setRouterUpstream(admin, "green", "http://10.0.0.1:80"));
      expect(invalid.status).toBe(400);
      expect(invalid.message).toBe(
        'router admin PUT /upstreams/green answered 400: invalid upstream: url: expected a URL like "http://127.0.0.1:<port>"',
      );
      const badColor = await request(admin.adminPort, "/switch", { method: "POST", body: { color: "red" } });
      expect([badColor.status, json(badColor)]).toEqual([
        400,
        { error: 'invalid switch request: color: expected "blue" or "green"' },
      ]);
      expect((await request(admin.adminPort, "/nowhere")).status).toBe(404);
      expect((await request(admin.adminPort, "/switch")).status).toBe(405);

      const served = await request(publicPort, "/version");
      expect([served.status, served.headers["x-shipgate-color"], json(served)]).toEqual([
        200,
        "blue",
        { version: "1.0.0", schema: 1 },
      ]);
      expect(router.output()).toContain("switch none -> blue");
    });

    it("answers clearly when the router is not there", async () => {
      const error = await errorOf(getRouterStatus({ adminPort: await closedPort(), timeoutMs: 1000 }));
      expect(error.status).toBeUndefined();
      expect(error.message).toMatch(
        /^router admin GET \/state failed: .*is the router running on port \d+\?$/,
      );
    });
  });

  describe("switching under load", () => {
    it("drops no request across repeated switches, and keep-alive clients follow each switch", async () => {
      // A fixed number of switches, each made once the clients have been answered 20 times by the
      // colour of the switch before: what is asserted is what the clients saw, never a rate.
      const switches = 10;
      const answersPerColour = 20;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      const seen: Record<Color, number> = { blue: 0, green: 0 };
      const failures: string[] = [];
      let current: Color = "blue";
      let sinceSwitch = 0;
      let reached: (() => void) | undefined;
      let done = false;
      const client = async () => {
        while (!done) {
          try {
            const answer = await request(publicPort, "/version", { agent });
            const color = answer.headers["x-shipgate-color"] as Color;
            const body = json(answer) as { version: string };
            if (answer.status !== 200 || body.version !== versionOf[color]) {
              failures.push(`${answer.status} from ${color}: ${answer.body}`);
              continue;
            }
            seen[color] += 1;
            if (color === current && ++sinceSwitch >= answersPerColour) reached?.();
          } catch (error) {
            failures.push((error as Error).message);
          }
        }
      };
      const answeredByCurrent = () =>
        new Promise<void>((resolve) => {
          reached = resolve;
          if (sinceSwitch >= answersPerColour) resolve();
        });
      const switcher = async () => {
        for (let made = 0; made < switches; made++) {
          await answeredByCurrent();
          current = current === "blue" ? "green" : "blue";
          sinceSwitch = 0;
          await switchRouter(admin, current);
        }
        await answeredByCurrent();
        done = true;
      };
      await Promise.all([switcher(), ...Array.from({ length: 8 }, client)]);
      agent.destroy();
      await switchRouter(admin, "blue");
      expect(failures).toEqual([]);
      expect(seen.blue).toBeGreaterThanOrEqual((switches / 2) * answersPerColour);
      expect(seen.green).toBeGreaterThanOrEqual((switches / 2) * answersPerColour);
    }, 60_000);
  });

  describe("maintenance and failures", () => {
    it("answers 503 with Retry-After and the message, as JSON or text", async () => {
      await setRouterMaintenance(admin, {
        enabled: true,
        message: "Upgrading, back soon.",
        retryAfterSeconds: 30,
      });
      const text = await request(publicPort, "/items");
      expect([text.status, text.headers["retry-after"], text.headers["content-type"], text.body]).toEqual([
        503,
        "30",
        "text/plain; charset=utf-8",
        "Upgrading, back soon.\n",
      ]);
      const asJson = await request(publicPort, "/items", { headers: { accept: "application/json" } });
      expect([asJson.status, json(asJson)]).toEqual([
        503,
        { error: "maintenance", message: "Upgrading, back soon." },
      ]);
      expect((await readRouterState(stateFile)).maintenance.enabled).toBe(true);
      await setRouterMaintenance(admin, { enabled: false });
      expect((await request(publicPort, "/version")).status).toBe(200);
    });

    it("answers 502 naming the colour when the active upstream does not answer", async () => {
      const port = await closedPort();
      await setRouterUpstream(admin, "green", `http://127.0.0.1:${port}`);
      await switchRouter(admin, "green");
      // With no warm colour to try instead (the failover tests below have one).
      await setRouterFallback(admin, null);
      const answer = await request(publicPort, "/version", { headers: { accept: "application/json" } });
      await switchRouter(admin, "blue");
      await setRouterUpstream(admin, "green", green.url);
      expect([answer.status, answer.headers["x-shipgate-color"]]).toEqual([502, "green"]);
      // nginx does not say which error it met.
      const why = plane === "nginx" ? "no connection or no response" : "ECONNREFUSED";
      expect(json(answer)).toEqual({
        error: "upstream-unreachable",
        message: `service web: the green upstream at http://127.0.0.1:${port} did not answer (${why})`,
        color: "green",
      });
    });
  });

  describe("failover to the warm colour", () => {
    /** An upstream that answers every request with 500, as a broken new version would. */
    async function failingUpstream(): Promise<{
      url: string;
      hits: () => number;
      close: () => Promise<void>;
    }> {
      let hits = 0;
      const server = http.createServer((_req, res) => {
        hits += 1;
        res.writeHead(500, { "content-type": "text/plain" }).end("broken\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        hits: () => hits,
        close: () => new Promise((resolve) => server.close(() => resolve())),
      };
    }

    it("sends a GET the dead active colour could not take to the warm colour, not a POST", async () => {
      const port = await closedPort();
      await switchRouter(admin, "blue");
      await setRouterFallback(admin, null);
      await setRouterUpstream(admin, "green", `http://127.0.0.1:${port}`);
      await switchRouter(admin, "green");
      try {
        expect((await getRouterStatus(admin)).fallback).toBe("blue");
        const answer = await request(publicPort, "/version");
        expect(answer.status).toBe(200);
        expect(answer.headers["x-shipgate-color"]).toBe("blue");
        expect(answer.headers["x-shipgate-retried-from"]).toBe("green");
        expect(json(answer)).toMatchObject({ version: "1.0.0" });
        const post = await request(publicPort, "/items", { method: "POST", body: { name: "not twice" } });
        expect([post.status, post.headers["x-shipgate-color"]]).toEqual([502, "green"]);
      } finally {
        await switchRouter(admin, "blue");
        await setRouterUpstream(admin, "green", green.url);
      }
    });

    it("flips every user to the warm colour after a burst of errors, and says why", async () => {
      const broken = await failingUpstream();
      try {
        await switchRouter(admin, "blue");
        await setRouterFallback(admin, null);
        await setRouterUpstream(admin, "green", broken.url);
        await switchRouter(admin, "green");
        const answers = [];
        for (let i = 0; i < 5; i += 1) answers.push(await request(publicPort, "/version"));
        // nginx tells the router of each failure through its log, so the flip may come a moment
        // after the fifth answer; the router itself flips before answering it.
        await waitFor("the failover", async () => (await getRouterStatus(admin)).failedOver ?? undefined);
        for (let i = 0; i < 2; i += 1) answers.push(await request(publicPort, "/version"));
        // Every user got 1.0.0's answer: the first five were retried, then blue served directly.
        expect(answers.map((a) => [a.status, a.headers["x-shipgate-color"]])).toEqual(
          Array.from({ length: 7 }, () => [200, "blue"]),
        );
        expect(broken.hits()).toBe(5);
        const status = await getRouterStatus(admin);
        expect(status.active).toBe("blue");
        expect(status.fallback).toBeNull();
        expect(status.failedOver).toMatchObject({ from: "green", to: "blue" });
        expect(status.failedOver?.reason).toMatch(
          /^5 failed requests within 10000 ms from green \(the last: answered 500\)/,
        );
        // Written to the file right after it took effect.
        const saved = await waitFor(
          "the failover to reach the state file",
          async () => (await readRouterState(stateFile)).failedOver ?? undefined,
        );
        expect(saved).toEqual(status.failedOver);
        // A deliberate switch starts afresh.
        await setRouterUpstream(admin, "green", green.url);
        await switchRouter(admin, "green");
        expect((await getRouterStatus(admin)).failedOver).toBeNull();
      } finally {
        await switchRouter(admin, "blue");
        await setRouterUpstream(admin, "green", green.url);
        await broken.close();
      }
    });

    it("refuses a fallback that has no upstream or is the active colour", async () => {
      await switchRouter(admin, "blue");
      expect((await errorOf(setRouterFallback(admin, "blue"))).message).toBe(
        "router admin PUT /fallback answered 409: cannot fall back to blue: it is the active colour",
      );
      expect((await errorOf(setRouterFallback(admin, "purple" as Color))).status).toBe(400);
    });
  });

  /** Requests in flight by the router's own count and nginx's (which does not count by colour). */
  const inFlightTotal = (counts: { inFlight: Record<Color, number>; inFlightNginx?: number | null }) =>
    counts.inFlight.blue + counts.inFlight.green + (counts.inFlightNginx ?? 0);

  /**
   * Resolves once the router counts a request in flight on `color` (asked over its admin API); with
   * nginx, which counts no colours, once it counts one at all.
   */
  async function inFlightOn(color: Color): Promise<void> {
    await waitUntil(
      `a request in flight on ${color}`,
      async () => {
        const status = await getRouterStatus(admin);
        return plane === "nginx" ? inFlightTotal(status) >= 1 : status.inFlight[color] >= 1;
      },
      30_000,
      10,
    );
  }

  describe("drain", () => {
    it("waits for a slow in-flight request, and times out with the counts", async () => {
      const slow = request(publicPort, "/slow?ms=800");
      await inFlightOn("blue");
      const during = await getRouterStatus(admin);
      expect(plane === "nginx" ? during.inFlightNginx : during.inFlight).toEqual(
        plane === "nginx" ? 1 : { blue: 1, green: 0 },
      );
      const short = await drainRouter(admin, 100);
      expect([short.drained, inFlightTotal(short)]).toEqual([false, 1]);
      const drained = await drainRouter(admin, 5000);
      expect([drained.drained, inFlightTotal(drained)]).toEqual([true, 0]);
      expect((await slow).status).toBe(200);
      const again = await drainRouter(admin, 1000);
      expect([again.drained, inFlightTotal(again)]).toEqual([true, 0]);
    });

    it("lets a request finish on the colour it started on when the switch comes mid-request", async () => {
      const slow = request(publicPort, "/slow?ms=600");
      await inFlightOn("blue");
      await switchRouter(admin, "green");
      const after = await request(publicPort, "/version");
      const finished = await slow;
      await switchRouter(admin, "blue");
      expect([finished.status, finished.headers["x-shipgate-color"], json(finished)]).toEqual([
        200,
        "blue",
        { version: "1.0.0", sleptMs: 600 },
      ]);
      expect(after.headers["x-shipgate-color"]).toBe("green");
    });
  });

  describe("websocket upgrades", () => {
    it("proxies an upgraded connection to the active colour", async () => {
      // A minimal WebSocket-style upgrade that echoes raw bytes: shows the tunnel without framing.
      const echo = http.createServer((_req, res) => res.end("no upgrade"));
      echo.on("upgrade", (_req, socket) => {
        socket.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n");
        socket.pipe(socket);
      });
      await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
      const echoPort = (echo.address() as AddressInfo).port;
      try {
        await setRouterUpstream(admin, "green", `http://127.0.0.1:${echoPort}`);
        await switchRouter(admin, "green");
        const reply = await new Promise<string>((resolve, reject) => {
          const req = http.request({
            host: "127.0.0.1",
            port: publicPort,
            path: "/ws",
            headers: { connection: "Upgrade", upgrade: "websocket" },
            timeout: 5000,
          });
          req.on("upgrade", (res, socket) => {
            expect(res.statusCode).toBe(101);
            socket.once("data", (data: Buffer) => {
              resolve(data.toString("utf8"));
              socket.destroy();
            });
            socket.write("hello through the router");
          });
          req.on("timeout", () => req.destroy(new Error("upgrade timed out")));
          req.on("error", reject);
          req.end();
        });
        expect(reply).toBe("hello through the router");
      } finally {
        await switchRouter(admin, "blue");
        await setRouterUpstream(admin, "green", green.url);
        echo.closeAllConnections();
        await new Promise<void>((resolve) => echo.close(() => resolve()));
      }
    });
  });

  describe("router process lifecycle", () => {
    it("restarted from its state file, keeps its active colour, ports and upstreams", async () => {
      await switchRouter(admin, "green");
      const before = await readRouterState(stateFile);
      expect(await stop(router)).toBe(0);
      await startRouter();
      const status = await getRouterStatus(admin);
      expect({
        active: status.active,
        ports: [status.listenPort, status.adminPort],
        upstreams: status.upstreams,
      }).toEqual({
        active: "green",
        ports: [before.listenPort, before.adminPort],
        upstreams: { blue: blue.url, green: green.url },
      });
      expect((await request(publicPort, "/version")).headers["x-shipgate-color"]).toBe("green");
      await switchRouter(admin, "blue");
    });

    if (plane === "nginx") {
      it("killed with SIGKILL, leaves nginx serving, and a new router takes over", async () => {
        const oldNginx = (await getRouterStatus(admin)).nginxPid;
        expect(oldNginx).toEqual(expect.any(Number));
        // Users keep sending requests, one after another, the whole time.
        const failures: { what: string; at: number }[] = [];
        let served = 0;
        let running = true;
        const users = (async () => {
          while (running) {
            const answer = await request(publicPort, "/version").catch((error: Error) => error);
            if (answer instanceof Error) failures.push({ what: answer.message, at: Date.now() });
            else if (answer.status !== 200)
              failures.push({ what: `answered ${answer.status}`, at: Date.now() });
            else served += 1;
          }
        })();
        await waitUntil("requests served before the kill", () => served >= 20);
        router.child.kill("SIGKILL");
        await router.exited;
        const atKill = served;
        await waitUntil("requests served by the orphaned nginx", () => served >= atKill + 20);
        const takeOverFrom = Date.now();
        await startRouter();
        const takeOverUntil = Date.now();
        const status = await getRouterStatus(admin);
        expect(status.nginxPid).not.toBe(oldNginx);
        await waitUntil("the old nginx to stop", () => {
          try {
            process.kill(oldNginx ?? -1, 0);
            return false;
          } catch {
            return true;
          }
        });
        const atTakeOver = served;
        await waitUntil("requests served by the new nginx", () => served >= atTakeOver + 20);
        running = false;
        await users;
        // While the router was dead nothing failed. The old nginx stops once the new one serves and
        // closes its idle keep-alive connections then: a request sent on one at that very moment can
        // be reset (HTTP clients send such a request again; Node.js's agent does not). Nothing else.
        for (const failure of failures) {
          expect(failure.what).toMatch(/socket hang up|ECONNRESET/);
          expect(failure.at).toBeGreaterThanOrEqual(takeOverFrom);
          expect(failure.at).toBeLessThanOrEqual(takeOverUntil + 1000);
        }
      });
    }

    it("on SIGTERM stops accepting, finishes in-flight requests and exits 0", async () => {
      const slow = request(publicPort, "/slow?ms=1000");
      await inFlightOn("blue");
      router.child.kill("SIGTERM");
      const finished = await slow;
      expect([finished.status, json(finished)]).toEqual([200, { version: "1.0.0", sleptMs: 1000 }]);
      expect(await router.exited).toBe(0);
      await expect(request(publicPort, "/version")).rejects.toThrow(/ECONNREFUSED/);
      expect(router.output()).toMatch(/received SIGTERM[\s\S]*stopped all requests finished/);
      expect(JSON.parse(readFileSync(stateFile, "utf8"))).toMatchObject({ active: "blue" });
    });
  });
});
