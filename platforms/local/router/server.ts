// The router process: a public listener that forwards each request to the active colour, and an
// admin API on loopback that changes the state file and the routing with it. When the active colour
// fails a request that may be repeated, the request goes once more to the warm colour that served
// before the last switch; a burst of failures sends every user there (failover.ts has the rules).
// One file of a little over 550 lines: the public listener, the admin API and the shutdown share the
// in-flight counts, the failure window and the data plane (nginx.ts) in one closure; the pure parts
// already live apart (state.ts, failover.ts, forward.ts, nginx-config.ts).
import * as http from "node:http";
import { dirname } from "node:path";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { FailureWindow, isFailure, mayRetry } from "./failover";
import { attempt, declaredBodyBytes, readBody, relay } from "./forward";
import { type NginxDataPlane, prepareNginx } from "./nginx";
import {
  type Color,
  type RouterState,
  RouterConflictError,
  RouterInputError,
  colorSchema,
  colors,
  drainBodySchema,
  failOver,
  failoverSettings,
  fallbackBodySchema,
  holdBodySchema,
  setHeld,
  fallbackRoute,
  maintenanceBodySchema,
  parseWith,
  readRouterState,
  removeUpstream,
  routeFor,
  setFallback,
  setMaintenance,
  setUpstream,
  switchBodySchema,
  switchColor,
  upstreamBodySchema,
  writeRouterState,
} from "./state";

export const colorHeader = "x-shipgate-color";
const maxAdminBodyBytes = 64 * 1024;

export interface RouterOptions {
  /** One line per startup and per admin action. Defaults to stdout. */
  readonly log?: (line: string) => void;
  /** How long shutdown waits for in-flight requests before closing their connections. Default 10 s. */
  readonly shutdownTimeoutMs?: number;
  /**
   * An nginx binary to carry user traffic (nginx-config.ts says why). Without one, the router
   * forwards requests itself, with the same rules, at a higher cost per request.
   */
  readonly nginx?: string;
  /** Where colours not registered yet will listen, so nginx has their pools ready. */
  readonly slotPorts?: Partial<Record<Color, number>>;
  /** Called when the nginx the router started ends without being asked to. */
  readonly onDataPlaneExit?: (detail: string) => void;
}

export interface RunningRouter {
  readonly publicPort: number;
  readonly adminPort: number;
  state(): RouterState;
  inFlight(): Record<Color, number>;
  /** Stops accepting, waits (bounded) for in-flight requests, then closes everything. */
  close(): Promise<{ drained: boolean }>;
}

type Counts = Record<Color, number>;

function wantsJson(req: http.IncomingMessage): boolean {
  return (req.headers.accept ?? "").includes("application/json");
}

/** Answers the client with JSON or text, whichever it asked for. */
function answer(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  body: Record<string, unknown> & { message: string },
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const json = wantsJson(req);
  res.writeHead(status, {
    ...headers,
    "content-type": json ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(json ? JSON.stringify(body) : `${body.message}\n`);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(`${JSON.stringify(body)}\n`);
}

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxAdminBodyBytes)
      throw new RouterInputError(`body: expected at most ${maxAdminBodyBytes} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new RouterInputError("body: expected a JSON object");
  }
}

function listen(server: http.Server, port: number | string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const ready = () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    };
    if (typeof port === "string") server.listen(port, ready);
    else server.listen(port, "127.0.0.1", ready);
  });
}

/** A port the OS has free now (for nginx, which cannot report a port it was given as 0). */
async function freePort(): Promise<number> {
  const probe = http.createServer();
  const port = await listen(probe, 0);
  await closeServer(probe);
  return port;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts a router from its state file. Ports 0 in the file are replaced by the ports the OS gave. */
export async function startRouter(stateFile: string, options: RouterOptions = {}): Promise<RunningRouter> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const startedAt = Date.now();
  let state = await readRouterState(stateFile);
  const say = (action: string, detail: string) =>
    log(`${new Date().toISOString()} shipgate-router[${state.service}] ${action} ${detail}`.trimEnd());

  const inFlight: Counts = { blue: 0, green: 0 };
  const webSockets: Counts = { blue: 0, green: 0 };
  let drainWaiters: (() => void)[] = [];
  const total = () => inFlight.blue + inFlight.green;
  const settle = () => {
    if (total() > 0) return;
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const wake of waiters) wake();
  };
  /** Resolves true when nothing is in flight, false when the time ran out first. */
  const waitForIdle = (timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (total() === 0) {
        resolve(true);
        return;
      }
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        drainWaiters = drainWaiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      drainWaiters.push(wake);
    });

  // A keep-alive pool of our own, so upstream connections are reused and owned by this router.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: "lifo" });
  // WebSocket upgrades go through http-proxy-3; plain requests through forward.ts (see there why).
  const proxy = createProxyServer({ xfwd: true, agent });
  // Every call passes its own error callback; this only keeps a stray error from ending the process.
  proxy.on("error", (error) => say("proxy-error", error.message));

  // Writes of the state file, one after another in the order of the changes, so the file always
  // ends with the newest state (a failover's write and an admin change's may overlap otherwise).
  let saved: Promise<void> = Promise.resolve();
  const save = (snapshot: RouterState): Promise<void> => {
    const write = saved.then(() => writeRouterState(stateFile, snapshot));
    saved = write.catch(() => undefined);
    return write;
  };

  // The active colour's recent failures; a burst sends every user to the warm colour at once.
  let failures = new FailureWindow(failoverSettings(state));
  /**
   * Counts a failed request of `color`; a burst of them on the active colour sends users to the warm
   * colour at once. Unlike an admin change, this takes effect before it is written to the file: every
   * request that arrives meanwhile would meet the failing colour.
   */
  const failureOf = (color: Color, what: string) => {
    if (color !== state.active) return;
    if (!failures.record(Date.now()) || fallbackRoute(state) === undefined) return;
    const settings = failoverSettings(state);
    const reason =
      `${settings.errorBurst} failed requests within ${settings.windowMs} ms from ${color}` +
      ` (the last: ${what}); users are sent to the warm colour`;
    const next = failOver(state, reason, new Date());
    state = next;
    failures = new FailureWindow(failoverSettings(next));
    say("failover", `${color} -> ${next.active ?? "none"}: ${reason}`);
    try {
      nginx?.reroute(next);
    } catch (error) {
      say("failover-not-applied", `nginx still routes to ${color}: ${(error as Error).message}`);
    }
    save(next).catch((error: unknown) =>
      say("failover-not-saved", `${(error as Error).message}; a restarted router would route to ${color}`),
    );
  };

  /**
   * Where a failed request of `color` goes once more: the fallback; or, when users were moved while
   * it was in flight (a failover, a switch back), the colour they are on now.
   */
  const retryTarget = (color: Color): { color: Color; url: string } | undefined => {
    const warm = fallbackRoute(state);
    if (warm !== undefined) return warm;
    const now = routeFor(state);
    return now.kind === "proxy" && now.color !== color ? { color: now.color, url: now.url } : undefined;
  };

  const unreachable = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    color: Color,
    url: string,
    code: string,
  ) =>
    answer(
      req,
      res,
      502,
      {
        error: "upstream-unreachable",
        message: `service ${state.service}: the ${color} upstream at ${url} did not answer (${code})`,
        color,
      },
      { [colorHeader]: color },
    );

  const handlePublic = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Chosen per request, not per connection: a keep-alive client follows a switch on its next request.
    const route = routeFor(state);
    if (route.kind === "maintenance") {
      answer(
        req,
        res,
        503,
        { error: "maintenance", message: route.message },
        { "retry-after": String(route.retryAfterSeconds) },
      );
      return;
    }
    if (route.kind === "no-upstream") {
      answer(req, res, 503, { error: "no-active-upstream", message: route.message });
      return;
    }
    const { color, url } = route;
    inFlight[color] += 1;
    let current: http.ClientRequest | undefined;
    let finished = false;
    res.once("close", () => {
      if (!res.writableFinished) current?.destroy();
      if (finished) return;
      finished = true;
      inFlight[color] -= 1;
      settle();
    });

    const retryable =
      fallbackRoute(state) !== undefined &&
      mayRetry(failoverSettings(state), req.method ?? "GET", declaredBodyBytes(req));
    const body = retryable ? await readBody(req) : undefined;
    const first = await attempt(req, url, agent, body, (upstream) => (current = upstream));
    const status = first.kind === "answered" ? (first.upstream.statusCode ?? 502) : null;
    if (!isFailure(status) && first.kind === "answered") {
      relay(first.upstream, res, { [colorHeader]: color });
      return;
    }
    const what =
      first.kind === "answered"
        ? `answered ${status}`
        : `no answer (${first.error.code ?? first.error.message})`;
    // Once more on the warm colour, when the request may be repeated and one is there (taken before
    // this failure is counted: a failover it completes makes the warm colour the active one).
    const warm = retryable ? retryTarget(color) : undefined;
    failureOf(color, what);
    if (warm !== undefined && warm.color !== color && !res.destroyed) {
      if (first.kind === "answered") first.upstream.resume();
      const second = await attempt(req, warm.url, agent, body, (upstream) => (current = upstream));
      if (second.kind === "answered") {
        relay(second.upstream, res, { [colorHeader]: warm.color, "x-shipgate-retried-from": color });
        return;
      }
      unreachable(req, res, warm.color, warm.url, second.error.code ?? second.error.message);
      return;
    }
    if (first.kind === "answered") relay(first.upstream, res, { [colorHeader]: color });
    else unreachable(req, res, color, url, first.error.code ?? first.error.message);
  };

  const handleUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const route = routeFor(state);
    if (route.kind !== "proxy") {
      const message = route.message.replace(/[\r\n]/g, " ");
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${message}\n`,
      );
      return;
    }
    const { color, url } = route;
    webSockets[color] += 1;
    socket.once("close", () => {
      webSockets[color] -= 1;
    });
    proxy.ws(req, socket, head, { target: url }, () => {
      socket.destroy();
    });
  };

  /**
   * Every change is written to the file before it takes effect, and takes effect (nginx included)
   * before it is answered.
   */
  /**
   * An admin change, computed from the state as it is now. It takes effect at once, before the file
   * is written: a failover that happens while the file is written must not be undone by this change
   * landing after it (the change would put users back on the failing colour). A change whose file
   * could not be written is taken back, unless something changed the state since.
   */
  const commit = async (next: RouterState) => {
    const before = state;
    if (next.active !== state.active || next.failover !== state.failover) {
      failures = new FailureWindow(failoverSettings(next));
    }
    state = next;
    try {
      await save(next);
    } catch (error) {
      if (state === next) state = before;
      throw error;
    }
    await nginx?.apply(state, failoverSettings(state), publicPort);
  };

  /** Requests in flight anywhere: the router's own and, with nginx, nginx's. */
  const inFlightTotal = async () => total() + (nginx === undefined ? 0 : await nginx.inFlight());
  /** Resolves true when nothing is in flight (nginx included), false when the time ran out first. */
  const waitForAllIdle = async (timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    if (!(await waitForIdle(timeoutMs))) return false;
    if (nginx === undefined) return true;
    while ((await nginx.inFlight()) > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  };

  const status = async () => ({
    ...state,
    inFlight: { ...inFlight },
    webSockets: { ...webSockets },
    dataPlane: nginx === undefined ? "node" : "nginx",
    // nginx counts the requests it forwards, not by colour.
    ...(nginx === undefined
      ? {}
      : { nginxPid: nginx.pid() ?? null, inFlightNginx: await nginx.inFlight().catch(() => null) }),
    pid: process.pid,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
  });

  const handleAdmin = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const upstreamMatch = /^\/upstreams\/([^/]+)$/.exec(path);

    if (method === "GET" && path === "/healthz") {
      sendJson(res, 200, { status: "ok", service: state.service, pid: process.pid });
      return;
    }
    if (method === "GET" && path === "/state") {
      sendJson(res, 200, await status());
      return;
    }
    if (upstreamMatch !== null && (method === "PUT" || method === "DELETE")) {
      const color = parseWith(
        colorSchema,
        decodeURIComponent(upstreamMatch[1] ?? ""),
        "colour in the path",
        "color",
      );
      if (method === "PUT") {
        const body = parseWith(upstreamBodySchema, await readJsonBody(req), "upstream");
        await commit(setUpstream(state, color, body.url));
        say("set-upstream", `${color}=${body.url}`);
      } else {
        await commit(removeUpstream(state, color));
        say("remove-upstream", color);
      }
      sendJson(res, 200, state);
      return;
    }
    if (method === "POST" && path === "/switch") {
      const body = parseWith(switchBodySchema, await readJsonBody(req), "switch request");
      const result = switchColor(state, body.color);
      await commit(result.state);
      say("switch", `${result.previous ?? "none"} -> ${result.active}`);
      sendJson(res, 200, { previous: result.previous, active: result.active });
      return;
    }
    if (method === "PUT" && path === "/fallback") {
      const body = parseWith(fallbackBodySchema, await readJsonBody(req), "fallback request");
      await commit(setFallback(state, body.color));
      say("fallback", body.color ?? "none");
      sendJson(res, 200, state);
      return;
    }
    if (method === "POST" && path === "/hold") {
      const body = parseWith(holdBodySchema, await readJsonBody(req), "hold request");
      await commit(setHeld(state, body.color, body.held));
      say("hold", `${body.color} ${body.held ? "held until its gate passes" : "released"}`);
      sendJson(res, 200, state);
      return;
    }
    if (method === "POST" && path === "/maintenance") {
      const body = parseWith(maintenanceBodySchema, await readJsonBody(req), "maintenance request");
      await commit(setMaintenance(state, body));
      say("maintenance", state.maintenance.enabled ? "on" : "off");
      sendJson(res, 200, state);
      return;
    }
    if (method === "POST" && path === "/drain") {
      const body = parseWith(drainBodySchema, await readJsonBody(req), "drain request");
      const began = Date.now();
      const drained = await waitForAllIdle(body.timeoutMs);
      const waitedMs = Date.now() - began;
      say("drain", `${drained ? "drained" : "timed out"} after ${waitedMs} ms`);
      sendJson(res, drained ? 200 : 504, {
        drained,
        waitedMs,
        inFlight: { ...inFlight },
        ...(nginx === undefined ? {} : { inFlightNginx: await nginx.inFlight().catch(() => null) }),
        ...(drained ? {} : { error: `requests still in flight after ${body.timeoutMs} ms` }),
      });
      return;
    }
    const known =
      ["/healthz", "/state", "/switch", "/maintenance", "/drain", "/fallback", "/hold"].includes(path) ||
      upstreamMatch;
    sendJson(res, known ? 405 : 404, {
      error: known ? `method ${method} is not allowed on ${path}` : `no admin route ${method} ${path}`,
    });
  };

  const publicServer = http.createServer((req, res) => {
    handlePublic(req, res).catch((error: unknown) => {
      say("public-error", (error as Error).message);
      res.destroy();
    });
  });
  publicServer.on("upgrade", handleUpgrade);
  const adminServer = http.createServer((req, res) => {
    handleAdmin(req, res).catch((error: unknown) => {
      const status =
        error instanceof RouterInputError || error instanceof RouterConflictError ? error.status : 500;
      sendJson(res, status, { error: (error as Error).message });
    });
  });

  let nginx: NginxDataPlane | undefined;
  let publicPort: number;
  if (options.nginx === undefined) {
    publicPort = await listen(publicServer, state.listenPort);
  } else {
    // nginx takes the public port; the router's own listener only answers what nginx hands over.
    nginx = await prepareNginx({
      binary: options.nginx,
      ...(options.slotPorts === undefined ? {} : { slotPorts: options.slotPorts }),
      routerDir: dirname(stateFile),
      log: say,
      onFailure: ({ color, what }) => failureOf(color, what),
      onExit: (detail) => {
        say("nginx-exited", detail);
        options.onDataPlaneExit?.(detail);
      },
    });
    await listen(publicServer, nginx.paths.routerSocket);
    publicPort = state.listenPort === 0 ? await freePort() : state.listenPort;
  }
  let adminPort: number;
  try {
    adminPort = await listen(adminServer, state.adminPort);
    await nginx?.start(state, failoverSettings(state), publicPort);
  } catch (error) {
    await nginx?.close(0);
    await closeServer(publicServer);
    if (adminServer.listening) await closeServer(adminServer);
    throw error;
  }
  if (publicPort !== state.listenPort || adminPort !== state.adminPort) {
    await commit({ ...state, listenPort: publicPort, adminPort });
  }
  say(
    "start",
    `pid=${process.pid} listen=http://127.0.0.1:${publicPort} admin=http://127.0.0.1:${adminPort} ` +
      `active=${state.active ?? "none"} upstreams=${colors.map((c) => `${c}:${state.upstreams[c] ?? "-"}`).join(",")}` +
      ` maintenance=${state.maintenance.enabled ? "on" : "off"} data-plane=${nginx === undefined ? "node" : "nginx"}`,
  );

  let closing: Promise<{ drained: boolean }> | undefined;
  const close = () => {
    closing ??= (async () => {
      say("stop", `waiting for ${await inFlightTotal().catch(() => total())} in-flight request(s)`);
      // nginx first: it stops accepting at once and finishes what it is answering.
      const nginxDrained = (await nginx?.close(shutdownTimeoutMs)) ?? true;
      const publicClosed = closeServer(publicServer);
      publicServer.closeIdleConnections();
      // Keep-alive connections that just finished a response are idle now: close them as they free up.
      const idleSweep = setInterval(() => publicServer.closeIdleConnections(), 50);
      const drained = (await waitForIdle(shutdownTimeoutMs)) && nginxDrained;
      clearInterval(idleSweep);
      publicServer.closeAllConnections();
      await publicClosed;
      adminServer.closeAllConnections();
      await closeServer(adminServer);
      agent.destroy();
      say("stopped", drained ? "all requests finished" : `gave up after ${shutdownTimeoutMs} ms`);
      return { drained };
    })();
    return closing;
  };

  return {
    publicPort,
    adminPort,
    state: () => state,
    inFlight: () => ({ ...inFlight }),
    close,
  };
}
