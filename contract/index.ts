/**
 * shipgate's release contract: the schemas of a check, a gate policy, a verification spec and a
 * notification, their defaults, the rollback triggers, the judge, the probe loop and the webhook rule.
 * No Pulumi imports: the program, every platform, the kubernetes runner bundle and the policy pack
 * share it, so the same manifest gets the same verdict everywhere.
 */
export * from "./schema";
export * from "./triggers";
export * from "./judge";
export * from "./metrics";
export * from "./probe";
export { postWebhook, redactUrl, type WebhookResult, type WebhookRetry } from "./webhook";
export { retry, type Attempt, type RetryOptions } from "./retry";
export * from "./service";
export * from "./record";
export * from "./record-builders";
export * from "./secrets";
