// Notifications, as plain functions: the notification dynamic provider only calls these. Each event
// is one JSON line in a log file, and a POST to a webhook when the stack configures one. No Pulumi
// imports, so a provider can load this module with `await import()` inside its methods.
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { describeIssue, issuesFromZod } from "../../release/issues";

export const SEVERITIES = ["info", "warning", "critical"] as const;
export const AUDIENCES = ["users", "team", "support", "management"] as const;

export const notificationEventSchema = z.strictObject({
  /** The release stage the event belongs to, e.g. `backup`, `gate`, `switch`, `rollback`. */
  stage: z.string("expected a stage name").trim().min(1, "expected a non-empty stage name"),
  release: z.strictObject({
    changeId: z.string("expected a change id").min(1, "expected a non-empty change id"),
    version: z.string("expected a version").min(1, "expected a non-empty version"),
  }),
  service: z.string("expected a service name").min(1, "expected a non-empty service name").optional(),
  message: z.string("expected a message").trim().min(1, "expected a non-empty message"),
  severity: z.enum(SEVERITIES, `expected one of ${SEVERITIES.join(", ")}`),
  audience: z
    .array(z.enum(AUDIENCES, `expected one of ${AUDIENCES.join(", ")}`), "expected a list of audiences")
    .min(1, "expected at least one audience"),
  at: z.iso.datetime({ offset: true, message: "expected an ISO timestamp with an offset" }),
});
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

export interface NotificationChannel {
  readonly logFile: string;
  /** May carry credentials (`https://user:token@host/...`) or a token in its query; never logged. */
  readonly webhookUrl?: string;
}

export interface WebhookRetry {
  /** Attempts in all, the first included. Default 3. */
  readonly attempts?: number;
  /** Wait before the second attempt; doubled before each further one. Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Each attempt's own timeout. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export type WebhookResult =
  | { readonly ok: true; readonly url: string; readonly status: number; readonly attempts: number }
  | {
      readonly ok: false;
      readonly url: string;
      /** The last HTTP status, when the webhook answered at all. */
      readonly status?: number;
      readonly attempts: number;
      readonly error: string;
    };

export interface NotifyResult {
  readonly logFile: string;
  /** Undefined when no webhook is configured. `url` is redacted. */
  readonly webhook?: WebhookResult;
}

export type FetchImpl = (input: string, init: RequestInit) => Promise<Response>;

export interface NotifyArgs {
  readonly channel: NotificationChannel;
  readonly event: NotificationEvent;
  readonly retry?: WebhookRetry;
  /** Default: Node's global fetch. */
  readonly fetchImpl?: FetchImpl;
}

/**
 * A webhook URL safe to write down: credentials and query values replaced by `***`, the fragment
 * dropped. An unparsable URL is not echoed at all, since it may still hold a secret.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "(invalid URL)";
  }
  const credentials = parsed.username !== "" || parsed.password !== "" ? "***@" : "";
  const query = [...new Set(parsed.searchParams.keys())]
    .map((key) => `${encodeURIComponent(key)}=***`)
    .join("&");
  return `${parsed.protocol}//${credentials}${parsed.host}${parsed.pathname}${query === "" ? "" : `?${query}`}`;
}

/**
 * Appends one line with a single write on a file opened for appending: the kernel places each such
 * write at the end of the file as a whole, so concurrent notifiers never interleave within a line.
 */
async function appendLine(logFile: string, record: unknown): Promise<void> {
  await mkdir(dirname(logFile), { recursive: true });
  const line = Buffer.from(`${JSON.stringify(record)}\n`, "utf8");
  const handle = await open(logFile, "a");
  try {
    const { bytesWritten } = await handle.write(line, 0, line.length);
    if (bytesWritten !== line.length) {
      throw new Error(`notify: wrote ${bytesWritten} of ${line.length} bytes to ${logFile}; check the disk`);
    }
  } finally {
    await handle.close();
  }
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no response within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = cause && "code" in cause ? String(cause.code) : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${message} (${code})`;
}

/** fetch refuses URLs with credentials: they travel as a Basic Authorization header instead. */
function requestTarget(webhookUrl: string): { url: string; headers: Headers } {
  const parsed = new URL(webhookUrl);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http(s)");
  const headers = new Headers({ "content-type": "application/json", "user-agent": "shipgate-notify" });
  if (parsed.username !== "" || parsed.password !== "") {
    const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    headers.set("authorization", `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`);
    parsed.username = "";
    parsed.password = "";
  }
  return { url: parsed.toString(), headers };
}

/** POSTs the event; retries network errors and 5xx with backoff, never a 4xx (it would fail again). */
async function postWebhook(
  webhookUrl: string,
  event: NotificationEvent,
  retry: WebhookRetry,
  fetchImpl: FetchImpl,
): Promise<WebhookResult> {
  const redacted = redactUrl(webhookUrl);
  const attempts = retry.attempts ?? 3;
  const timeoutMs = retry.timeoutMs ?? 5_000;
  let target: { url: string; headers: Headers };
  try {
    target = requestTarget(webhookUrl);
  } catch {
    return {
      ok: false,
      url: redacted,
      attempts: 0,
      error: "the webhook URL is not a valid http(s) URL; fix the channel's webhookUrl",
    };
  }
  const body = JSON.stringify(event);
  let last: WebhookResult = { ok: false, url: redacted, attempts: 0, error: "not attempted" };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      await new Promise((done) => setTimeout(done, (retry.baseDelayMs ?? 200) * 2 ** (attempt - 2)));
    }
    try {
      const response = await fetchImpl(target.url, {
        method: "POST",
        headers: target.headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, url: redacted, status: response.status, attempts: attempt };
      last = {
        ok: false,
        url: redacted,
        status: response.status,
        attempts: attempt,
        error: `the webhook answered HTTP ${response.status}`,
      };
      if (response.status < 500) return last;
    } catch (error) {
      last = { ok: false, url: redacted, attempts: attempt, error: describeError(error, timeoutMs) };
    }
  }
  return last;
}

/**
 * Records a release event: one JSON line in the channel's log file, then a POST to its webhook when
 * one is configured. A webhook failure never throws: a broken chat integration must never block or
 * fail a release. It is returned, and written to the log as a line of its own. Only an invalid event or
 * a log file that cannot be written throws.
 */
export async function notify(args: NotifyArgs): Promise<NotifyResult> {
  const parsed = notificationEventSchema.safeParse(args.event);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error).map(describeIssue).join("; ");
    throw new Error(`notify: the event is not valid: ${issues}; fix these fields`);
  }
  const event = parsed.data;
  const { logFile, webhookUrl } = args.channel;
  await appendLine(logFile, {
    type: "notification",
    ...event,
    ...(webhookUrl === undefined ? {} : { webhook: redactUrl(webhookUrl) }),
  });
  if (webhookUrl === undefined) return { logFile };
  const webhook = await postWebhook(webhookUrl, event, args.retry ?? {}, args.fetchImpl ?? fetch);
  if (!webhook.ok) {
    await appendLine(logFile, {
      type: "webhook-failure",
      at: new Date().toISOString(),
      stage: event.stage,
      release: event.release,
      webhook: webhook.url,
      attempts: webhook.attempts,
      ...(webhook.status === undefined ? {} : { status: webhook.status }),
      error: webhook.error,
    });
  }
  return { logFile, webhook };
}
