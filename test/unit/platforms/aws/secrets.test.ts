// A stack secret on the aws platform, under Pulumi mocks with the production stack's config: the
// value goes into an SSM SecureString parameter of the colour's own, as a Pulumi secret (the mocks see
// the wrapper the engine encrypts); the task definition names the parameter among the container's
// secrets and carries the value's fingerprint in its slot spec label; no other resource holds it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { Release } from "../../../../components/release";
import { parseStackConfig } from "../../../../config";
import { SecretValues, secretFingerprint } from "../../../../contract";
import { AwsPlatform, awsConfigSchema, type AwsConfig } from "../../../../platforms/aws";
import { loadManifestFile } from "../../../../release";
import { withConfigChanges } from "../../components/fixtures";
import { installAwsMocks } from "./aws-mocks";

const root = join(__dirname, "..", "..", "..", "..");
const stackYaml = parse(readFileSync(join(root, "stacks/Pulumi.production.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};
const settings = parseStackConfig(
  { platform: "aws", services: stackYaml.config["shipgate:services"], aws: stackYaml.config["shipgate:aws"] },
  "production",
  { aws: awsConfigSchema },
);
const awsConfig = settings.platformSettings as AwsConfig;
const secretSig = "4dabf18193072939515e22adb298388d";
const value = "aws-unit-secret-value";

describe("a stack secret on the aws platform", () => {
  it("is an SSM SecureString parameter (a Pulumi secret) the task reads as a container secret, and nowhere else", async () => {
    const mocks = await installAwsMocks("production");
    const manifestPath = "releases/production/sample-app-1.0.0.yaml";
    const check = loadManifestFile(join(root, manifestPath));
    if (!check.ok) throw new Error(`${manifestPath} is not valid`);
    const manifest = withConfigChanges(check.manifest, [{ key: "API_TOKEN", secret: "apiToken" }]);
    new Release("release", {
      platform: new AwsPlatform({
        projectDir: root,
        config: awsConfig,
        services: settings.services,
        reader: () => ({ active: null, slots: {}, switchedAt: null, rolledBackAt: null, maintenance: false }),
      }),
      manifest,
      digest: check.digest,
      manifestPath,
      stack: "production",
      services: settings.services,
      secrets: new SecretValues({ apiToken: value }),
    });
    await mocks.settle();

    const parameter = mocks.byName("sample-app-blue-secret-API_TOKEN");
    expect(parameter.type).toBe("aws:ssm/parameter:Parameter");
    expect(parameter.inputs).toEqual({
      name: `/${awsConfig.namePrefix}/sample-app/blue/API_TOKEN`,
      type: "SecureString",
      value: { [secretSig]: "1b47061264138c4ac30d75fd1eb44270", value },
      tags: { "shipgate:service": "sample-app", "shipgate:color": "blue" },
    });
    const task = mocks.byName("sample-app-blue-task").inputs as { containerDefinitions: string };
    const [container] = JSON.parse(task.containerDefinitions) as {
      secrets: { name: string; valueFrom: string }[];
      dockerLabels: Record<string, string>;
    }[];
    expect(container?.secrets).toContainEqual({
      name: "API_TOKEN",
      valueFrom: `arn:aws:ssm:eu-west-1:123456789012:parameter/${awsConfig.namePrefix}/sample-app/blue/API_TOKEN`,
    });
    const fingerprint = secretFingerprint(
      { stack: "production", service: "sample-app", variable: "API_TOKEN" },
      value,
    );
    expect(JSON.parse(container?.dockerLabels["shipgate.slot-spec"] ?? "{}")).toMatchObject({
      secretEnv: { API_TOKEN: fingerprint },
    });
    const others = mocks.registrations.map((r) =>
      r === parameter ? { ...r.inputs, value: null } : r.inputs,
    );
    expect(JSON.stringify(others)).not.toContain(value);
  });
});
