// A bounded load generator for end-to-end tests: a few keep-alive clients sending requests to a
// service on 127.0.0.1, recording every response (status, colour, version) and every failure, so a
// test can say exactly which requests were served by what and whether any failed.
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export interface LoadResponse {
  /** Milliseconds since the load started. */
  readonly at: number;
  readonly client: number;
  readonly status: number;
  /** The router's `x-shipgate-color` header, or null when absent. */
  readonly color: string | null;
  /** The JSON body's `version`, or null when the body has none. */
  readonly version: string | null;
  readonly latencyMs: number;
}

export interface LoadFailure {
  readonly at: number;
  readonly client: number;
  /** The status of an answer that was not 2xx, or null when no answer came (refused, reset, timeout). */
  readonly status: number | null;
  readonly color: string | null;
  readonly version: string | null;
  /** The error or the answer's body, shortened. */
  readonly detail: string;
}

export interface LoadReport {
  readonly requests: number;
  readonly responses: readonly LoadResponse[];
  readonly failures: readonly LoadFailure[];
  readonly durationMs: number;
  /** Successful answers counted by `<color> <version>`, e.g. `{"green 2.0.0": 312}`. */
  readonly served: Readonly<Record<string, number>>;
  /** Why the load ended: stopped by the test, or one of its bounds. */
  readonly endedBy: "stop" | "maxRequests" | "maxDuration";
}

export interface LoadOptions {
  /** The port on 127.0.0.1 to send requests to. */
  readonly port: number;
  /** Default `/version`. */
  readonly path?: string;
  /** Concurrent keep-alive clients; default 8. */
  readonly clients?: number;
  /** Pause of each client between its requests, so two cores stay usable; default 20 ms. */
  readonly pauseMs?: number;
  /** Per-request timeout; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Bounds: the load stops by itself after this many requests or this long (default 50 000, 5 min). */
  readonly maxRequests?: number;
  readonly maxDurationMs?: number;
}

export interface RunningLoad {
  /** Requests answered or failed so far. */
  readonly count: () => number;
  /** Stops the clients (after their request in flight) and reports. Safe to call more than once. */
  stop(): Promise<LoadReport>;
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function get(agent: http.Agent, port: number, path: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

function versionOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { version?: unknown };
    return typeof parsed.version === "string" ? parsed.version : null;
  } catch {
    return null;
  }
}

/** Starts the load at once; it runs until `stop()` or one of its bounds. Only ever targets 127.0.0.1. */
export function startLoad(options: LoadOptions): RunningLoad {
  const path = options.path ?? "/version";
  const clients = options.clients ?? 8;
  const pauseMs = options.pauseMs ?? 20;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxRequests = options.maxRequests ?? 50_000;
  const maxDurationMs = options.maxDurationMs ?? 300_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const started = Date.now();
  const responses: LoadResponse[] = [];
  const failures: LoadFailure[] = [];
  let stopping = false;
  let endedBy: LoadReport["endedBy"] | undefined;
  const count = () => responses.length + failures.length;

  const client = async (id: number) => {
    while (!stopping) {
      if (count() >= maxRequests) {
        endedBy ??= "maxRequests";
        return;
      }
      if (Date.now() - started >= maxDurationMs) {
        endedBy ??= "maxDuration";
        return;
      }
      const sent = Date.now();
      const at = sent - started;
      try {
        const answer = await get(agent, options.port, path, timeoutMs);
        const colorHeader = answer.headers["x-shipgate-color"];
        const color = typeof colorHeader === "string" ? colorHeader : null;
        const version = versionOf(answer.body);
        if (answer.status >= 200 && answer.status < 300) {
          responses.push({
            at,
            client: id,
            status: answer.status,
            color,
            version,
            latencyMs: Date.now() - sent,
          });
        } else {
          failures.push({
            at,
            client: id,
            status: answer.status,
            color,
            version,
            detail: answer.body.slice(0, 200),
          });
        }
      } catch (error) {
        failures.push({
          at,
          client: id,
          status: null,
          color: null,
          version: null,
          detail: (error as Error).message,
        });
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  const running = Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  let report: Promise<LoadReport> | undefined;

  return {
    count,
    stop() {
      report ??= (async () => {
        stopping = true;
        await running;
        agent.destroy();
        const served: Record<string, number> = {};
        for (const r of responses) {
          const key = `${r.color ?? "-"} ${r.version ?? "-"}`;
          served[key] = (served[key] ?? 0) + 1;
        }
        return {
          requests: count(),
          responses,
          failures,
          durationMs: Date.now() - started,
          served,
          endedBy: endedBy ?? "stop",
        };
      })();
      return report;
    },
  };
}

/** Resolves once the load has sent at least `n` more requests, or rejects after `timeoutMs`. */
export async function waitForRequests(load: RunningLoad, n: number, timeoutMs = 30_000): Promise<void> {
  const target = load.count() + n;
  const deadline = Date.now() + timeoutMs;
  while (load.count() < target) {
    if (Date.now() > deadline) throw new Error(`the load sent fewer than ${n} requests in ${timeoutMs} ms`);
    await sleep(25);
  }
}
