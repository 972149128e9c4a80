// A stack secret on the kubernetes platform, under Pulumi mocks with the staging stack's config: the
// value goes into a Secret of the colour's own, as a Pulumi secret (the mocks see the wrapper the
// engine encrypts), the container reads it by secretKeyRef, and no other object (the Deployment, its
// annotations, a ConfigMap, a Job) holds it. The pod template carries the value's fingerprint, so a
// rotated secret rolls the pods.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { Release } from "../../../../components/release";
import { parseStackConfig } from "../../../../config";
import { SecretValues, secretFingerprint } from "../../../../contract";
import { KubernetesPlatform, parseKubernetesConfig } from "../../../../platforms/kubernetes";
import { loadManifestFile } from "../../../../release";
import { withConfigChanges } from "../../components/fixtures";
import { installK8sMocks } from "./k8s-mocks";

const root = join(__dirname, "..", "..", "..", "..");
const stackYaml = parse(readFileSync(join(root, "stacks/Pulumi.staging.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};
const settings = parseStackConfig({ services: stackYaml.config["shipgate:services"] }, "staging");
const kubeConfig = parseKubernetesConfig(stackYaml.config["shipgate:kubernetes"]);
const secretSig = "4dabf18193072939515e22adb298388d";
const value = "k8s-unit-secret-value";

describe("a stack secret on the kubernetes platform", () => {
  it("is a Secret's data (a Pulumi secret), read by secretKeyRef, and in no other object", async () => {
    const mocks = await installK8sMocks("staging");
    const manifestPath = "releases/staging/sample-app-1.0.0.yaml";
    const check = loadManifestFile(join(root, manifestPath));
    if (!check.ok) throw new Error(`${manifestPath} is not valid`);
    const manifest = withConfigChanges(check.manifest, [{ key: "API_TOKEN", secret: "apiToken" }]);
    new Release("release", {
      platform: new KubernetesPlatform({
        projectDir: root,
        config: kubeConfig,
        services: settings.services,
        reader: () => ({ items: [] }),
      }),
      manifest,
      digest: check.digest,
      manifestPath,
      stack: "staging",
      services: settings.services,
      secrets: new SecretValues({ apiToken: value }),
    });
    await mocks.settle();

    const fingerprint = secretFingerprint(
      { stack: "staging", service: "sample-app", variable: "API_TOKEN" },
      value,
    );
    const secret = mocks.byName("sample-app-blue-secret-env");
    expect(secret.type).toBe("kubernetes:core/v1:Secret");
    expect(secret.inputs).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name: "sample-app-blue-secret-env",
        namespace: "shipgate-staging",
        labels: expect.objectContaining({ "shipgate.dev/color": "blue" }),
      },
      stringData: { [secretSig]: "1b47061264138c4ac30d75fd1eb44270", value: { API_TOKEN: value } },
    });

    const deployment = mocks.byName("sample-app-blue").inputs as {
      metadata: { annotations: Record<string, string> };
      spec: {
        template: {
          metadata: { annotations: Record<string, string> };
          spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] };
        };
      };
    };
    expect(deployment.spec.template.spec.containers[0]?.env).toContainEqual({
      name: "API_TOKEN",
      valueFrom: { secretKeyRef: { name: "sample-app-blue-secret-env", key: "API_TOKEN" } },
    });
    expect(deployment.spec.template.metadata.annotations).toEqual({
      "shipgate.dev/secret-env": JSON.stringify({ API_TOKEN: fingerprint }),
    });
    expect(JSON.parse(deployment.metadata.annotations["shipgate.dev/slot-spec"] ?? "{}")).toMatchObject({
      secretEnv: { API_TOKEN: fingerprint },
    });
    // Every other registration, the Secret's wrapped data aside, is free of the value.
    const others = mocks.registrations.map((r) =>
      r === secret ? { ...r.inputs, stringData: null } : r.inputs,
    );
    expect(JSON.stringify(others)).not.toContain(value);
    expect(
      mocks.registrations.filter((r) => r.type === "kubernetes:core/v1:ConfigMap").length,
    ).toBeGreaterThan(0);
  });
  it("is refused in render mode, where the provider would write the Secret's data as plain YAML", async () => {
    const mocks = await installK8sMocks("staging");
    const manifestPath = "releases/staging/sample-app-1.0.0.yaml";
    const check = loadManifestFile(join(root, manifestPath));
    if (!check.ok) throw new Error(`${manifestPath} is not valid`);
    const platform = new KubernetesPlatform({
      projectDir: root,
      config: { ...kubeConfig, renderYamlToDirectory: ".shipgate/rendered" },
      services: settings.services,
      reader: () => ({ items: [] }),
    });
    const spec = {
      version: "1.0.0",
      artifact: {
        source: "docker.io/hashicorp/http-echo",
        version: "1.0.0",
        digest: `sha256:${"a".repeat(64)}`,
      },
      env: {},
      secretEnv: { API_TOKEN: "scrypt:x" },
    };
    expect(() =>
      platform.slot(
        "sample-app-blue",
        { service: "sample-app", color: "blue", spec },
        { parent: new pulumi.ComponentResource("test:index:Parent", "parent") },
      ),
    ).toThrow(
      "sample-app gets API_TOKEN from stack secrets, and shipgate:kubernetes.renderYamlToDirectory would write their " +
        "values in plaintext into .shipgate/rendered. Nothing was changed;",
    );
    await mocks.settle();
    expect(mocks.registrations.filter((r) => r.type === "kubernetes:core/v1:Secret")).toEqual([]);
  });
});
