// A notification at one stage of a release: a JSON line in the stack's notification log, and a
// webhook call when one is configured. A webhook that fails never blocks a release (notify-ops
// records the failure instead). A webhook URL that carries a token belongs in the environment
// variable SHIPGATE_WEBHOOK_URL, read here at run time, so it never enters the state.
import { join } from "node:path";
import type { NotificationNotice } from "../../../contract";
import { redactUrl, notify } from "../notify-ops";
import { changedKeys, type LocalHandlers } from "../provider-factory";

export interface NotificationInputs {
  readonly releaseKey: string;
  readonly changeId: string;
  readonly version: string;
  readonly service?: string;
  readonly event: NotificationNotice;
  /** The stack's notification log, relative to the project. */
  readonly logFile: string;
  /** A webhook URL without secrets, from the stack's config (SHIPGATE_WEBHOOK_URL wins). */
  readonly webhookUrl: string | null;
}

export interface NotificationOutputs extends NotificationInputs {
  readonly sentAt: string;
  /** What happened to the webhook call, with the URL redacted; null when none is configured. */
  readonly webhook: string | null;
}

export function webhookFor(inputs: Pick<NotificationInputs, "webhookUrl">): string | undefined {
  return process.env["SHIPGATE_WEBHOOK_URL"] || inputs.webhookUrl || undefined;
}

async function send(projectDir: string, inputs: NotificationInputs): Promise<NotificationOutputs> {
  const webhookUrl = webhookFor(inputs);
  const sentAt = new Date().toISOString();
  const result = await notify({
    channel: { logFile: join(projectDir, inputs.logFile), ...(webhookUrl ? { webhookUrl } : {}) },
    event: {
      stage: inputs.event.stage,
      release: { changeId: inputs.changeId, version: inputs.version },
      ...(inputs.service ? { service: inputs.service } : {}),
      message: inputs.event.message,
      severity: inputs.event.severity,
      audience: [...inputs.event.audience],
      at: sentAt,
    },
  });
  const webhook = result.webhook
    ? result.webhook.ok
      ? `delivered to ${redactUrl(result.webhook.url)} (HTTP ${result.webhook.status})`
      : `failed for ${redactUrl(result.webhook.url)}: ${result.webhook.error}`
    : null;
  return { ...inputs, sentAt, webhook };
}

export const handlers: LocalHandlers<NotificationInputs, NotificationOutputs> = {
  async diff(_projectDir, _id, olds, news) {
    const changed = changedKeys(olds, news, ["releaseKey", "event", "logFile", "webhookUrl"]);
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async create(projectDir, inputs) {
    return { id: `${inputs.releaseKey}:${inputs.event.stage}`, outs: await send(projectDir, inputs) };
  },
  async update(projectDir, _id, _olds, news) {
    return { outs: await send(projectDir, news) };
  },
};
