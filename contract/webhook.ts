// How a notification reaches a webhook, the same on every platform. The rule: a webhook failure never
// blocks or fails a release, a gate, a switch or a switch back. Notifications inform people; the
// safety of users must not hang on a chat service being up, and a failed switch back because a
// webhook was down would leave users on a failing version. The failure is retried, then returned so
// the platform writes it down (log, record) where the team will read it.
import type { FetchImpl } from "./probe";
import { retry } from "./retry";
import { CONTRACT_DEFAULTS, type NotificationEvent } from "./schema";

export interface WebhookRetry {
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  /** Each attempt's own timeout. */
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

/** POSTs the event; retries network errors and 5xx, never a 4xx (it would fail again). Never throws. */
export async function postWebhook(
  webhookUrl: string,
  event: NotificationEvent,
  options: WebhookRetry = {},
  fetchImpl: FetchImpl = fetch,
): Promise<WebhookResult> {
  const defaults = CONTRACT_DEFAULTS.webhook;
  const redacted = redactUrl(webhookUrl);
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
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
  const { value } = await retry<WebhookResult>(
    {
      attempts: options.attempts ?? defaults.attempts,
      baseDelayMs: options.baseDelayMs ?? defaults.baseDelayMs,
    },
    async (attempts) => {
      try {
        const response = await fetchImpl(target.url, {
          method: "POST",
          headers: target.headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          return { done: true, value: { ok: true, url: redacted, status: response.status, attempts } };
        }
        return {
          done: false,
          retry: response.status >= 500,
          value: {
            ok: false,
            url: redacted,
            status: response.status,
            attempts,
            error: `the webhook answered HTTP ${response.status}`,
          },
        };
      } catch (error) {
        return {
          done: false,
          retry: true,
          value: { ok: false, url: redacted, attempts, error: describeError(error, timeoutMs) },
        };
      }
    },
  );
  return value;
}
