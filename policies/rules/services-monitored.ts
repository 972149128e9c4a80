import type { StackValidationPolicy } from "@pulumi/policy";
import { configSchema, withDefaults } from "../lib/config";
import { resourcesWithRole, serviceOf, stepInputs } from "../lib/roles";

export interface ServicesMonitoredConfig {
  /** Whether a notification channel (a webhook) is required on top of monitoring. */
  readonly requireAlerting: boolean;
}

export const servicesMonitoredDefaults: ServicesMonitoredConfig = { requireAlerting: false };

/** True when a notification step sends to a channel beyond the local log (a webhook, a topic...). */
function alerts(props: Record<string, unknown>): boolean {
  return ["webhookUrl", "channel", "topicArn"].some((key) => {
    const value = props[key];
    return typeof value === "string" && value !== "";
  });
}

/**
 * The seed's "monitoring active": every service a release deploys is watched by its gates and
 * post-promotion verification, or at least alerts a channel people read.
 */
export const servicesMonitored: StackValidationPolicy = {
  name: "services-monitored",
  description:
    "Every service a release deploys must be monitored by a health gate or post-promotion verification, or alert through a notification channel.",
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps:
    "Release the service with shipgate's HealthGate and PostPromotionVerification, or set shipgate:notifications.webhookUrl in the stack's config.",
  configSchema: configSchema(servicesMonitoredDefaults, { requireAlerting: { type: "boolean" } }),
  validateStack: (args, reportViolation) => {
    const config = withDefaults(servicesMonitoredDefaults, args.getConfig());
    const watchers = [
      ...resourcesWithRole(args.resources, "gate"),
      ...resourcesWithRole(args.resources, "verification"),
    ];
    const alerting = resourcesWithRole(args.resources, "notification").some((n) => alerts(stepInputs(n)));
    const slots = resourcesWithRole(args.resources, "slot");
    const services = [...new Set(slots.map(serviceOf).filter((s): s is string => s !== undefined))];
    for (const service of services) {
      const slot = slots.find((candidate) => serviceOf(candidate) === service);
      const monitored = watchers.some((watcher) => serviceOf(watcher) === service);
      if (!monitored && !alerting) {
        reportViolation(
          `Monitor ${service}: add a health gate or post-promotion verification, or a notification channel ` +
            `(shipgate:notifications.webhookUrl); nothing watches it after the release.`,
          slot?.urn,
        );
      } else if (config.requireAlerting && !alerting) {
        reportViolation(
          `Set a notification channel for ${service} (shipgate:notifications.webhookUrl in the stack's config): ` +
            `this stack requires alerting.`,
          slot?.urn,
        );
      }
    }
  },
};
