// A typed client for the router's admin API, for the local platform's providers and for tests.
// Every call has a timeout and fails with a RouterAdminError that says what was asked and why it failed.
import { z } from "zod";
import { assertEngineAlive } from "../engine-watch";
import {
  type Color,
  type MaintenanceChange,
  type RouterState,
  colorSchema,
  routerStateSchema,
} from "./state";

export interface RouterClientOptions {
  /** The router's admin port on 127.0.0.1. */
  readonly adminPort: number;
  /** Per call. Default 5000 ms; drain adds its own wait to this. */
  readonly timeoutMs?: number;
}

const countsSchema = z.object({ blue: z.number(), green: z.number() });
export const routerStatusSchema = routerStateSchema.extend({
  inFlight: countsSchema,
  webSockets: countsSchema,
  /** Who forwards user requests: nginx, or the router itself (absent from older routers: itself). */
  dataPlane: z.enum(["node", "nginx"]).optional(),
  nginxPid: z.number().int().nullable().optional(),
  /** Requests nginx is forwarding or answering now (null when it did not say). */
  inFlightNginx: z.number().int().nullable().optional(),
  pid: z.number().int(),
  uptimeSeconds: z.number(),
});
export type RouterStatus = z.infer<typeof routerStatusSchema>;

const switchResultSchema = z.object({ previous: colorSchema.nullable(), active: colorSchema });
export type SwitchResult = z.infer<typeof switchResultSchema>;

const drainResultSchema = z.object({
  drained: z.boolean(),
  waitedMs: z.number(),
  inFlight: countsSchema,
  inFlightNginx: z.number().int().nullable().optional(),
});
export type DrainResult = z.infer<typeof drainResultSchema>;

const healthSchema = z.object({ status: z.literal("ok"), service: z.string(), pid: z.number().int() });
export type RouterHealth = z.infer<typeof healthSchema>;

/** A call that failed: no answer, an error status, or an answer of the wrong shape. */
export class RouterAdminError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or undefined when the router did not answer. */
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "RouterAdminError";
  }
}

async function call<T>(
  options: RouterClientOptions,
  method: string,
  path: string,
  schema: z.ZodType<T>,
  body?: unknown,
  extraTimeoutMs = 0,
  alsoAccept: readonly number[] = [],
): Promise<T> {
  const url = `http://127.0.0.1:${options.adminPort}${path}`;
  const what = `router admin ${method} ${path}`;
  // A change of routing is what users see: never made for an engine run that is gone.
  if (method !== "GET") assertEngineAlive(`sending ${what}`);
  const timeoutMs = (options.timeoutMs ?? 5000) + extraTimeoutMs;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : `${(error as Error).message}${(error as Error).cause ? ` (${String((error as { cause: unknown }).cause)})` : ""}`;
    throw new RouterAdminError(
      `${what} failed: ${reason}; is the router running on port ${options.adminPort}?`,
      undefined,
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RouterAdminError(
      `${what} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      response.status,
    );
  }
  if (!response.ok && !alsoAccept.includes(response.status)) {
    const message =
      typeof parsed === "object" && parsed !== null && "error" in parsed
        ? String(parsed.error)
        : text.slice(0, 200);
    throw new RouterAdminError(`${what} answered ${response.status}: ${message}`, response.status);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new RouterAdminError(
      `${what} answered with an unexpected shape: ${result.error.message}`,
      response.status,
    );
  }
  return result.data;
}

export function routerHealth(options: RouterClientOptions): Promise<RouterHealth> {
  return call(options, "GET", "/healthz", healthSchema);
}

export function getRouterStatus(options: RouterClientOptions): Promise<RouterStatus> {
  return call(options, "GET", "/state", routerStatusSchema);
}

/** Registers a slot's address; `url` must be http://127.0.0.1:<port>. */
export function setRouterUpstream(
  options: RouterClientOptions,
  color: Color,
  url: string,
): Promise<RouterState> {
  return call(options, "PUT", `/upstreams/${color}`, routerStateSchema, { url });
}

/** Refused (status 409) while `color` is active. */
export function removeRouterUpstream(options: RouterClientOptions, color: Color): Promise<RouterState> {
  return call(options, "DELETE", `/upstreams/${color}`, routerStateSchema);
}

/** Refused (status 409) when `color` has no upstream. Persisted before it answers. */
export function switchRouter(options: RouterClientOptions, color: Color): Promise<SwitchResult> {
  return call(options, "POST", "/switch", switchResultSchema, { color });
}

/** Sets (or with null clears) the warm colour the router may fail over to. */
export function setRouterFallback(options: RouterClientOptions, color: Color | null): Promise<RouterState> {
  return call(options, "PUT", "/fallback", routerStateSchema, { color });
}

/** Holds `color` back from users until its gate passed again (`held: false` lets them reach it). */
export function setRouterHold(
  options: RouterClientOptions,
  color: Color,
  held: boolean,
): Promise<RouterState> {
  return call(options, "POST", "/hold", routerStateSchema, { color, held });
}

export function setRouterMaintenance(
  options: RouterClientOptions,
  change: MaintenanceChange,
): Promise<RouterState> {
  return call(options, "POST", "/maintenance", routerStateSchema, change);
}

/**
 * Waits until no request is in flight. Resolves `{drained: false, ...}` when `timeoutMs` ran out
 * (the router answers 504) instead of throwing, so callers can report the counts.
 */
export function drainRouter(options: RouterClientOptions, timeoutMs: number): Promise<DrainResult> {
  return call(options, "POST", "/drain", drainResultSchema, { timeoutMs }, timeoutMs, [504]);
}

/** Polls /healthz until it answers or `withinMs` runs out; throws the last error then. */
export async function waitForRouter(options: RouterClientOptions, withinMs = 10_000): Promise<RouterHealth> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await routerHealth({ ...options, timeoutMs: Math.min(options.timeoutMs ?? 1000, 1000) });
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
