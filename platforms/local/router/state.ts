// The router's state: one JSON file per service, the single source of truth for which colour serves.
// Everything here is pure (schema, parsing, transitions) except the two file functions at the end,
// so the platform code, the router process and the unit tests share one definition.
import writeFileAtomic from "write-file-atomic";
import { readFile } from "node:fs/promises";
import { z } from "zod";

import { colors, otherColor, type Color } from "../../../components/platform";
import { defaultFailoverSettings, failoverSettingsSchema, type FailoverSettings } from "./failover";

export { colors, otherColor, type Color } from "../../../components/platform";

const port = z
  .number({ error: "expected a port number (integer 0-65535)" })
  .int({ error: "expected a port number (integer 0-65535)" })
  .min(0, { error: "expected a port number (integer 0-65535)" })
  .max(65535, { error: "expected a port number (integer 0-65535)" });

/** Upstreams live on this machine only: the router never proxies anywhere else. */
export const upstreamUrlSchema = z
  .string({ error: 'expected a string like "http://127.0.0.1:<port>"' })
  .regex(/^http:\/\/127\.0\.0\.1:\d{1,5}$/, { error: 'expected a URL like "http://127.0.0.1:<port>"' })
  .refine((url) => {
    const value = Number(url.slice(url.lastIndexOf(":") + 1));
    return value >= 1 && value <= 65535;
  }, 'expected a URL like "http://127.0.0.1:<port>" with a port from 1 to 65535');

export const colorSchema = z.enum(colors, { error: 'expected "blue" or "green"' });

export const maintenanceSchema = z.strictObject({
  enabled: z.boolean({ error: "expected true or false" }),
  message: z.string({ error: "expected a string" }).max(2000, { error: "expected at most 2000 characters" }),
  retryAfterSeconds: z
    .number({ error: "expected a whole number of seconds (0-86400)" })
    .int({ error: "expected a whole number of seconds (0-86400)" })
    .min(0, { error: "expected a whole number of seconds (0-86400)" })
    .max(86400, { error: "expected a whole number of seconds (0-86400)" }),
});
export type Maintenance = z.infer<typeof maintenanceSchema>;

export const routerStateSchema = z.strictObject({
  service: z
    .string({ error: "expected a service name" })
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: "expected a service name of a-z, 0-9 and -" }),
  listenHost: z.literal("127.0.0.1", { error: 'expected "127.0.0.1"' }),
  /** 0 asks the OS for a free port; the router then writes the port it got back to the file. */
  listenPort: port,
  /** 0 asks the OS for a free port, as for listenPort. */
  adminPort: port,
  upstreams: z.strictObject({ blue: upstreamUrlSchema.optional(), green: upstreamUrlSchema.optional() }),
  active: colorSchema.nullable(),
  maintenance: maintenanceSchema,
  /**
   * The warm colour that served users before the last switch, which the router may send a failed
   * request to, or every user after a burst of failures. Absent or null: none (a first release, a
   * switch back, a colour being replaced, or after a failover).
   */
  fallback: colorSchema.nullable().optional(),
  /**
   * Colours whose process was (re)started and has not passed its gate since: users are never sent
   * there, neither as the active colour (the fallback serves meanwhile, or a 503 says why) nor as a
   * fallback. Absent means none.
   */
  held: z.array(colorSchema).max(2, { error: "expected at most both colours" }).optional(),
  /** Failover settings; absent means the defaults (failover.ts). */
  failover: failoverSettingsSchema.optional(),
  /** The router's own last switch to the fallback since the last deliberate switch, and why. */
  failedOver: z
    .strictObject({
      from: colorSchema,
      to: colorSchema,
      at: z.string({ error: "expected an ISO time" }),
      reason: z
        .string({ error: "expected a string" })
        .max(2000, { error: "expected at most 2000 characters" }),
    })
    .nullable()
    .optional(),
});
export type RouterState = z.infer<typeof routerStateSchema>;

export const defaultMaintenance: Maintenance = {
  enabled: false,
  message: "This service is down for maintenance. Please try again shortly.",
  retryAfterSeconds: 60,
};

/** A fresh state: no upstreams, nothing active, ports 0 unless given. */
export function initialRouterState(args: {
  service: string;
  listenPort?: number;
  adminPort?: number;
}): RouterState {
  return parseRouterState(
    {
      service: args.service,
      listenHost: "127.0.0.1",
      listenPort: args.listenPort ?? 0,
      adminPort: args.adminPort ?? 0,
      upstreams: {},
      active: null,
      maintenance: defaultMaintenance,
    },
    "initial router state",
  );
}

/** One line per problem: `<field>: <what was expected>`. */
export function describeIssues(error: z.ZodError, root = "body"): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.map(String).join(".") : root;
      if (issue.code === "unrecognized_keys") {
        return `${field}: unexpected field(s) ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}`;
      }
      return `${field}: ${issue.message}`;
    })
    .join("; ");
}

/** Thrown when input does not have the expected shape; `status` is the HTTP answer it maps to. */
export class RouterInputError extends Error {
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = "RouterInputError";
  }
}

/** Thrown when a transition is refused in the current state (HTTP 409). */
export class RouterConflictError extends Error {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = "RouterConflictError";
  }
}

/** `root` names the value itself in messages when the problem is not in one of its fields. */
export function parseWith<T>(schema: z.ZodType<T>, raw: unknown, what: string, root = "body"): T {
  const result = schema.safeParse(raw);
  if (!result.success) throw new RouterInputError(`invalid ${what}: ${describeIssues(result.error, root)}`);
  return result.data;
}

export function parseRouterState(raw: unknown, source: string): RouterState {
  const result = routerStateSchema.safeParse(raw);
  if (!result.success) {
    throw new RouterInputError(`invalid router state in ${source}: ${describeIssues(result.error, "state")}`);
  }
  return result.data;
}

// Admin request bodies.
export const switchBodySchema = z.strictObject({ color: colorSchema });
export const upstreamBodySchema = z.strictObject({ url: upstreamUrlSchema });
export const fallbackBodySchema = z.strictObject({ color: colorSchema.nullable() });
export const holdBodySchema = z.strictObject({
  color: colorSchema,
  held: z.boolean({ error: "expected true or false" }),
});
export const maintenanceBodySchema = z.strictObject({
  enabled: maintenanceSchema.shape.enabled,
  message: maintenanceSchema.shape.message.optional(),
  retryAfterSeconds: maintenanceSchema.shape.retryAfterSeconds.optional(),
});
export type MaintenanceChange = z.infer<typeof maintenanceBodySchema>;
export const drainBodySchema = z.strictObject({
  timeoutMs: z
    .number({ error: "expected milliseconds (integer 0-600000)" })
    .int({ error: "expected milliseconds (integer 0-600000)" })
    .min(0, { error: "expected milliseconds (integer 0-600000)" })
    .max(600_000, { error: "expected milliseconds (integer 0-600000)" }),
});

// Transitions: each returns a new state and never mutates its input.

export function setUpstream(state: RouterState, color: Color, url: string): RouterState {
  const checked = parseWith(upstreamBodySchema, { url }, `upstream for ${color}`);
  return { ...state, upstreams: { ...state.upstreams, [color]: checked.url } };
}

export function removeUpstream(state: RouterState, color: Color): RouterState {
  if (state.active === color) {
    throw new RouterConflictError(
      `cannot remove the ${color} upstream: ${color} is active; switch to ${otherColor(color)} first`,
    );
  }
  const kept = colors.filter((c) => c !== color && state.upstreams[c] !== undefined);
  return {
    ...state,
    upstreams: Object.fromEntries(kept.map((c) => [c, state.upstreams[c]])),
    ...(state.fallback === color ? { fallback: null } : {}),
  };
}

/**
 * Sends users to `color`. The colour that served until now becomes the fallback, except when the
 * switch goes back to the fallback itself: then the colour switched away from was just judged (a
 * failed verification, a rollback) and nothing is kept to fall back to.
 */
export function switchColor(
  state: RouterState,
  color: Color,
): { state: RouterState; previous: Color | null; active: Color } {
  if (state.upstreams[color] === undefined) {
    throw new RouterConflictError(`cannot switch to ${color}: it has no upstream; register one first`);
  }
  if (isHeld(state, color)) {
    throw new RouterConflictError(
      `cannot switch to ${color}: its process was restarted and has not passed its gate again yet`,
    );
  }
  if (color === state.active) return { state, previous: state.active, active: color };
  const fallback = color === state.fallback ? null : state.active;
  return {
    state: { ...state, active: color, fallback, failedOver: null },
    previous: state.active,
    active: color,
  };
}

/**
 * Sets or clears the fallback. Only a colour with an upstream that is not the active one can be it;
 * the platform clears it before it stops or replaces that colour's process.
 */
export function setFallback(state: RouterState, color: Color | null): RouterState {
  if (color !== null) {
    if (state.upstreams[color] === undefined) {
      throw new RouterConflictError(`cannot fall back to ${color}: it has no upstream; register one first`);
    }
    if (state.active === color) {
      throw new RouterConflictError(`cannot fall back to ${color}: it is the active colour`);
    }
  }
  return { ...state, fallback: color };
}

/** True while `color` runs ungated: (re)started and not yet judged by its gate again. */
export function isHeld(state: RouterState, color: Color): boolean {
  return (state.held ?? []).includes(color);
}

/** Holds `color` back from users (`held: true`) or lets them reach it again after its gate passed. */
export function setHeld(state: RouterState, color: Color, held: boolean): RouterState {
  const others = (state.held ?? []).filter((c) => c !== color);
  return { ...state, held: held ? [...others, color] : others };
}

/** The failover settings in effect. */
export function failoverSettings(state: RouterState): FailoverSettings {
  return state.failover ?? defaultFailoverSettings;
}

/** The fallback colour and its address, when the router may send users there. */
export function fallbackRoute(state: RouterState): { color: Color; url: string } | undefined {
  const color = state.fallback ?? null;
  if (color === null || color === state.active || state.maintenance.enabled || isHeld(state, color)) {
    return undefined;
  }
  const url = state.upstreams[color];
  return url === undefined ? undefined : { color, url };
}

/**
 * The router's own switch to the fallback after a burst of failures: users go to the warm colour,
 * the failing one is no longer a fallback, and the reason stays in the state for verification.
 */
export function failOver(state: RouterState, reason: string, at: Date): RouterState {
  const target = fallbackRoute(state);
  if (target === undefined || state.active === null) {
    throw new RouterConflictError("cannot fail over: there is no warm colour to fall back to");
  }
  return {
    ...state,
    active: target.color,
    fallback: null,
    failedOver: { from: state.active, to: target.color, at: at.toISOString(), reason: reason.slice(0, 2000) },
  };
}

/** Omitted message and retryAfterSeconds keep their current values. */
export function setMaintenance(state: RouterState, change: MaintenanceChange): RouterState {
  const checked = parseWith(maintenanceBodySchema, change, "maintenance change");
  return {
    ...state,
    maintenance: {
      enabled: checked.enabled,
      message: checked.message ?? state.maintenance.message,
      retryAfterSeconds: checked.retryAfterSeconds ?? state.maintenance.retryAfterSeconds,
    },
  };
}

/** What a public request gets: proxied to a colour's upstream, or answered by the router itself. */
export type Route =
  | { kind: "proxy"; color: Color; url: string }
  | { kind: "maintenance"; message: string; retryAfterSeconds: number }
  | { kind: "no-upstream"; message: string };

export function routeFor(state: RouterState): Route {
  if (state.maintenance.enabled) {
    return {
      kind: "maintenance",
      message: state.maintenance.message,
      retryAfterSeconds: state.maintenance.retryAfterSeconds,
    };
  }
  if (state.active === null) {
    return { kind: "no-upstream", message: `service ${state.service} has no active colour yet` };
  }
  const url = state.upstreams[state.active];
  if (url === undefined) {
    return {
      kind: "no-upstream",
      message: `service ${state.service}: active colour ${state.active} has no upstream`,
    };
  }
  if (isHeld(state, state.active)) {
    // The active colour is being restarted and re-checked: the warm colour serves until it passes.
    const warm = fallbackRoute(state);
    if (warm !== undefined) return { kind: "proxy", color: warm.color, url: warm.url };
    return {
      kind: "no-upstream",
      message:
        `service ${state.service}: active colour ${state.active} is being restarted and checked again ` +
        "before it serves, and no warm colour stands by",
    };
  }
  return { kind: "proxy", color: state.active, url };
}

// The state file.

export async function readRouterState(path: string): Promise<RouterState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read router state ${path}: ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new RouterInputError(`router state ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseRouterState(raw, path);
}

/** Atomic: a reader (or a router restarting) sees the old file or the new one, never half of one. */
export async function writeRouterState(path: string, state: RouterState): Promise<void> {
  const checked = parseRouterState(state, "the state to write");
  await writeFileAtomic(path, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o644 });
}
