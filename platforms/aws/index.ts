// The aws platform: each service runs as one ECS (Fargate) service per colour behind an Application
// Load Balancer. Declared infrastructure is @pulumi/aws (router.ts, task definitions, ECS services);
// the steps that are API calls (gate, switch, bake, snapshot, one-off tasks, maintenance, record,
// notification) are dynamic resources whose work lives in platforms/aws/handlers and ops (compiled to
// dist/ and loaded by the provider process at call time). docs/aws.md says why it looks this way.
import type { PlatformAdapter } from "../../components/platform";
import { awsConfigSchema, type AwsConfig } from "./config";
import { AwsPlatform } from "./platform";

export { awsConfigSchema, parseAwsConfig, type AwsConfig } from "./config";
export { AwsPlatform, type AwsPlatformArgs } from "./platform";
export { awsKinds, awsType, type AwsKind } from "./step";

/**
 * The aws platform as the program composes it: its settings are `shipgate:aws`. What the settings
 * alone cannot say is checked against the stack's services here, before anything is declared.
 */
export const awsAdapter: PlatformAdapter = {
  name: "aws",
  settingsSchema: awsConfigSchema,
  create: (context) => {
    // Validated by settingsSchema when the stack's config was read.
    const config = context.settings as AwsConfig;
    const problems: string[] = [];
    if (context.webhookUrl) {
      problems.push(
        "shipgate:notifications.webhookUrl: expected no webhook on the aws platform: it notifies through the " +
          "stack's SNS topic; subscribe the webhook to the topic (an HTTPS subscription) and remove this key",
      );
    }
    for (const [service, settings] of Object.entries(context.services)) {
      if (settings.stateful && !config.services[service]?.database) {
        problems.push(
          `shipgate:aws.services.${service}.database: expected the RDS database to snapshot before each release, ` +
            `since shipgate:services.${service}.stateful is true (or set it to false)`,
        );
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `Invalid aws platform config for stack "${context.stack}":\n  - ${problems.join("\n  - ")}`,
      );
    }
    return new AwsPlatform({ projectDir: context.projectDir, config, services: context.services });
  },
};
