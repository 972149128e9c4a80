// Notifications on the local platform, as plain functions: the notification dynamic provider only
// calls these. Each event is one JSON line in a log file, and a POST to a webhook when the stack
// configures one (the contract's webhook rule: retried, never blocking). No Pulumi imports, so a
// provider can load this module with `await import()` inside its methods.
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import {
  notificationEventSchema,
  postWebhook,
  redactUrl,
  type FetchImpl,
  type NotificationEvent,
  type WebhookResult,
  type WebhookRetry,
} from "../../contract";
import { describeIssue, issuesFromZod } from "../../release/issues";

export { redactUrl };

export interface NotificationChannel {
  /** Where every event is appended as one JSON line. */
  readonly logFile: string;
  /** May carry credentials (`https://user:token@host/...`) or a token in its query; never logged. */
  readonly webhookUrl?: string;
}

export interface NotifyResult {
  readonly logFile: string;
  /** Undefined when no webhook is configured. `url` is redacted. */
  readonly webhook?: WebhookResult;
}

export interface NotifyArgs {
  readonly channel: NotificationChannel;
  readonly event: NotificationEvent;
  readonly retry?: WebhookRetry;
  /** Default: Node's global fetch. */
  readonly fetchImpl?: FetchImpl;
}

/**
 * Appends one line with a single write on a file opened for appending: the kernel places each such
 * write at the end of the file as a whole, so concurrent notifiers never interleave within a line.
 */
export async function appendLine(logFile: string, record: unknown): Promise<void> {
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
  const webhook = await postWebhook(webhookUrl, event, args.retry, args.fetchImpl);
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
