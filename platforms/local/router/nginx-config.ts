// The nginx configuration of a router's data plane, rendered from the router's state (pure).
//
// Why nginx carries user traffic: every request through a Node.js proxy costs about as much CPU as
// the app's own answer (HTTP parsing and objects on both sides), so on a small machine the router
// took half of the app's throughput. nginx forwards the same request for a fraction of that. The
// router process keeps everything that decides: its state file, the admin API, the failover rules
// (failover.ts) and the answers of maintenance and of a service with no colour, which nginx hands to
// the router's own listener. nginx only does what the state says, and tells the router of every
// failed request through a log of failures alone (nothing is written for a good request).
import { type Color, type RouterState, colors, fallbackRoute, routeFor } from "./state";
import { type FailoverSettings, maxRetryBodyBytes } from "./failover";

export interface NginxPaths {
  /** A private folder (mode 0700) for nginx's sockets, pid and temporary files. */
  readonly runtimeDir: string;
  /** The router's own listener for what nginx hands over (maintenance, no colour). */
  readonly routerSocket: string;
  /** nginx's internal listener: the configuration's generation and its request counters. */
  readonly statusSocket: string;
  /** One line per failed request: `<ms> <upstream addresses> <statuses> <header times>`. */
  readonly failureLog: string;
  readonly errorLog: string;
}

export interface NginxConfigInput {
  readonly state: RouterState;
  readonly settings: FailoverSettings;
  /** The public port nginx listens on (127.0.0.1). */
  readonly listenPort: number;
  /** Counts configurations; the router waits until nginx answers with this one. */
  readonly generation: number;
  readonly paths: NginxPaths;
  /**
   * Where colours not registered yet will listen. Their pools are written ahead, so registering a
   * colour at that address changes no configuration, and needs no reload.
   */
  readonly slotPorts?: Partial<Record<Color, number>>;
}

const portOf = (url: string): number => Number(url.slice(url.lastIndexOf(":") + 1));

/**
 * Where users go, as the name of the one file in the route folder: a colour alone, a colour with
 * the warm colour a failed request may go to once more, or the router itself (maintenance, no
 * colour). A switch changes this file, not the configuration, so nginx follows it on the next
 * request without a reload (a reload closes every idle keep-alive connection, and a client that
 * sends on one at that moment sees its request fail).
 */
export type RouteMarker = "router" | Color | `${Color}_then_${Color}`;

export const routeMarkers: readonly RouteMarker[] = [
  "router",
  ...colors,
  ...colors.flatMap((active) =>
    colors.filter((warm) => warm !== active).map((warm) => `${active}_then_${warm}` as RouteMarker),
  ),
];

/** The route of `state` (state.ts decides it; this only names it). */
export function routeMarker(state: RouterState): RouteMarker {
  const route = routeFor(state);
  if (route.kind !== "proxy") return "router";
  const warm = fallbackRoute(state);
  return warm === undefined || warm.color === route.color ? route.color : `${route.color}_then_${warm.color}`;
}

/** A map line's key or value: only names and numbers go in, so anything else is refused. */
function checked(text: string): string {
  if (!/^[a-z0-9_.:-]+$/i.test(text)) throw new Error(`not a value for nginx: ${JSON.stringify(text)}`);
  return text;
}

/** A regex for nginx that matches `127.0.0.1:<port>` as written in $upstream_addr. */
const addressPattern = (port: number) => `127\\.0\\.0\\.1:${port}`;

/**
 * The whole nginx.conf for `input`. It depends only on what changes rarely (the colours' addresses,
 * the methods that may be repeated, the ports): which route users take is read per request from the
 * route folder (routeMarker).
 */
export function renderNginxConfig(input: NginxConfigInput): string {
  const { state, settings, paths, listenPort, generation } = input;
  const addressOf = (color: Color): string | undefined => {
    const port = input.slotPorts?.[color];
    return state.upstreams[color] ?? (port === undefined ? undefined : `http://127.0.0.1:${port}`);
  };
  const routeDir = `${paths.runtimeDir}/route`;
  const lines: string[] = [
    "# Written by the shipgate router from its state file; every change is rewritten, not edited.",
    "daemon off;",
    "master_process on;",
    // One worker: the app and the users' clients need the other core more than nginx does.
    "worker_processes 1;",
    `pid ${paths.runtimeDir}/nginx.pid;`,
    `error_log ${paths.errorLog} warn;`,
    "events { worker_connections 4096; }",
    "http {",
    "  access_log off;",
    "  server_tokens off;",
    "  default_type text/plain;",
    `  client_body_temp_path ${paths.runtimeDir}/body;`,
    `  proxy_temp_path ${paths.runtimeDir}/proxy;`,
    `  fastcgi_temp_path ${paths.runtimeDir}/fastcgi;`,
    `  uwsgi_temp_path ${paths.runtimeDir}/uwsgi;`,
    `  scgi_temp_path ${paths.runtimeDir}/scgi;`,
    // The router accepted any body and headers up to 16 KiB; nginx must not refuse what it took.
    "  client_max_body_size 0;",
    "  large_client_header_buffers 4 16k;",
    "  keepalive_timeout 5s;",
    "  keepalive_requests 100000;",
    // Bodies the router may send twice are held in memory up to the size the router itself holds.
    `  client_body_buffer_size ${maxRetryBodyBytes};`,
    '  map $http_upgrade $sg_connection { default upgrade; "" ""; }',
    '  map $http_accept $sg_json { "~application/json" 1; default 0; }',
    // A failed answer: the first status is a server error, or no answer came (nginx's 502, no header).
    '  map $upstream_status $sg_failed { "~^5" 1; default 0; }',
    "  log_format sg_failures '$msec $upstream_addr|$upstream_status|$upstream_header_time';",
    '  map $upstream_addr $sg_last_addr { "~(^|, )(?<last>[^, ]+)$" $last; default ""; }',
  ];
  const colorMap = ["  map $upstream_addr $sg_color {", '    default "";'];
  const retriedMap = ["  map $upstream_addr $sg_retried_from {", '    default "";'];
  const upstream = (name: string, servers: string[], keepalive: number) => [
    `  upstream ${name} {`,
    ...servers,
    `    keepalive ${keepalive};`,
    // Shorter than Node.js's default of 5 s, so nginx never reuses a connection the app closed.
    "    keepalive_timeout 4s;",
    "  }",
  ];
  // max_fails=0: nginx must not set a colour aside on its own; the router's failover rules decide.
  const server = (url: string, backup = false) =>
    `    server 127.0.0.1:${checked(String(portOf(url)))} max_fails=0${backup ? " backup" : ""};`;
  lines.push(...upstream("sg_router", [`    server unix:${paths.routerSocket};`], 16));
  // Which pool a request takes: by its route and whether its method may be sent a second time.
  const poolMap = ['  map "$sg_route:$sg_may_retry" $sg_pool {', "    default sg_router;"];
  for (const color of colors) {
    const url = addressOf(color);
    if (url === undefined) continue;
    colorMap.push(`    "~(^|, )${addressPattern(portOf(url))}$" ${color};`);
    retriedMap.push(`    "~^${addressPattern(portOf(url))}, " ${color};`);
    lines.push(...upstream(`sg_${color}`, [server(url)], 64));
    poolMap.push(`    "${color}:0" sg_${color};`, `    "${color}:1" sg_${color};`);
    for (const warm of colors) {
      const warmUrl = addressOf(warm);
      if (warm === color || warmUrl === undefined) continue;
      const name = `${color}_then_${warm}`;
      lines.push(...upstream(`sg_${name}`, [server(url), server(warmUrl, true)], 64));
      // Methods that may not be repeated never reach a pool with a second colour: a POST is sent once.
      poolMap.push(`    "${name}:0" sg_${color};`, `    "${name}:1" sg_${name};`);
    }
  }
  lines.push(...colorMap, "  }", ...retriedMap, "  }", ...poolMap, "  }");
  lines.push("  map $request_method $sg_may_retry {", "    default 0;");
  for (const method of settings.retryMethods) lines.push(`    ${checked(method)} 1;`);
  lines.push("  }");

  lines.push(
    "  server {",
    // reuseport: a restarted router's nginx listens next to the one it replaces, then that one stops.
    `    listen 127.0.0.1:${checked(String(listenPort))} reuseport;`,
    // The route, read per request: the one marker file present names it; none means the router.
    "    set $sg_route router;",
    ...routeMarkers
      .filter((marker) => marker !== "router")
      .map((marker) => `    if (-f ${routeDir}/${marker}) { set $sg_route ${marker}; }`),
    "    add_header x-shipgate-color $sg_color always;",
    "    add_header x-shipgate-retried-from $sg_retried_from always;",
    // At the server, so that a request finished by the 502 below is logged too.
    `    access_log ${paths.failureLog} sg_failures if=$sg_failed;`,
    "    location / {",
    "      proxy_pass http://$sg_pool;",
    "      proxy_http_version 1.1;",
    "      proxy_set_header Host $http_host;",
    "      proxy_set_header Connection $sg_connection;",
    "      proxy_set_header Upgrade $http_upgrade;",
    "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "      proxy_set_header X-Forwarded-Proto http;",
    "      proxy_set_header X-Forwarded-Host $http_host;",
    "      proxy_set_header X-Forwarded-Port $server_port;",
    "      proxy_buffering off;",
    "      proxy_read_timeout 1h;",
    "      proxy_send_timeout 1h;",
    // Once more on the warm colour after no answer or a server error, never a third time;
    // non_idempotent: only the methods the settings name reach a pool with a warm colour at all.
    "      proxy_next_upstream error http_500 http_502 http_503 http_504 non_idempotent;",
    "      proxy_next_upstream_tries 2;",
    "      error_page 502 504 /.shipgate/unreachable/$sg_json;",
    "    }",
    // What nginx answers itself when no colour answered, as the router would: JSON when asked for.
    "    location = /.shipgate/unreachable/1 {",
    "      internal;",
    "      default_type application/json;",
    `      return 502 '{"error":"upstream-unreachable","message":"service ${checked(state.service)}: the $sg_color upstream at http://$sg_last_addr did not answer (no connection or no response)","color":"$sg_color"}\\n';`,
    "    }",
    "    location = /.shipgate/unreachable/0 {",
    "      internal;",
    `      return 502 'service ${checked(state.service)}: the $sg_color upstream at http://$sg_last_addr did not answer (no connection or no response)\\n';`,
    "    }",
    "  }",
    "  server {",
    `    listen unix:${paths.statusSocket};`,
    `    location = /generation { return 200 "${generation}"; }`,
    "    location = /requests { stub_status; }",
    "  }",
    "}",
    "",
  );
  return lines.join("\n");
}
