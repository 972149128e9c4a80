// The kubernetes platform under Pulumi mocks, driven by the real Release component with the staging
// stack's config and manifests: the exact Kubernetes objects of a first release, a second release,
// a failed gate and a rollback.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { Release } from "../../../../components/release";
import type { Color, SlotSpec } from "../../../../components/platform";
import { parseStackConfig } from "../../../../config";
import { KubernetesPlatform, parseKubernetesConfig } from "../../../../platforms/kubernetes";
import type { ClusterReader } from "../../../../platforms/kubernetes/observe";
import { loadManifestFile } from "../../../../release";
import { installK8sMocks, jobCompletedAt } from "./k8s-mocks";

const root = join(__dirname, "..", "..", "..", "..");
const stackYaml = parse(readFileSync(join(root, "stacks/Pulumi.staging.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};
const settings = parseStackConfig({ services: stackYaml.config["shipgate:services"] }, "staging");
const kubeConfig = parseKubernetesConfig(stackYaml.config["shipgate:kubernetes"]);
const image =
  "docker.io/hashicorp/http-echo@sha256:fcb75f691c8b0414d670ae570240cbf95502cc18a9ba57e982ecac589760a186";

function spec(version: string): SlotSpec {
  return {
    version,
    artifact: {
      source: "docker.io/hashicorp/http-echo",
      version,
      digest: "sha256:fcb75f691c8b0414d670ae570240cbf95502cc18a9ba57e982ecac589760a186",
    },
    env: { SHIPGATE_RESPONSE: `{"service":"sample-app","version":"${version}"}` },
  };
}

/** What `kubectl get` answers for a cluster where `active` is live and each colour runs a version. */
function cluster(
  active: Color | null,
  versions: Partial<Record<Color, string>>,
  rolledBackAt?: string,
): ClusterReader {
  return () => ({
    items: [
      ...(active
        ? [
            {
              kind: "Service",
              metadata: {
                name: "sample-app",
                ...(rolledBackAt ? { annotations: { "shipgate.dev/rolled-back-at": rolledBackAt } } : {}),
              },
              spec: { selector: { "app.kubernetes.io/name": "sample-app", "shipgate.dev/color": active } },
            },
          ]
        : []),
      ...Object.entries(versions).map(([color, version]) => ({
        kind: "Deployment",
        metadata: {
          name: `sample-app-${color}`,
          annotations: { "shipgate.dev/slot-spec": JSON.stringify(spec(version)) },
        },
      })),
    ],
  });
}

async function release(
  version: string,
  reader: ClusterReader,
  fail?: (name: string) => boolean,
  config = kubeConfig,
) {
  const mocks = await installK8sMocks("staging", fail);
  const manifestPath = `releases/staging/sample-app-${version}.yaml`;
  const check = loadManifestFile(join(root, manifestPath));
  if (!check.ok) throw new Error(`${manifestPath} is not valid`);
  const platform = new KubernetesPlatform({
    projectDir: root,
    config,
    services: settings.services,
    reader,
  });
  new Release("release", {
    platform,
    manifest: check.manifest,
    digest: check.digest,
    manifestPath,
    stack: "staging",
    services: settings.services,
  });
  await mocks.settle();
  return mocks;
}

const labels = (component: string) => ({
  "app.kubernetes.io/name": "sample-app",
  "app.kubernetes.io/part-of": "sample-app",
  "app.kubernetes.io/component": component,
  "app.kubernetes.io/managed-by": "shipgate",
});

function deployment(color: Color, version: string) {
  const podLabels = {
    ...labels("server"),
    "app.kubernetes.io/instance": `sample-app-${color}`,
    "app.kubernetes.io/version": version,
    "shipgate.dev/color": color,
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `sample-app-${color}`,
      namespace: "shipgate-staging",
      labels: podLabels,
      annotations: { "shipgate.dev/slot-spec": JSON.stringify(spec(version)) },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": "sample-app", "shipgate.dev/color": color } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          containers: [
            {
              name: "sample-app",
              image,
              args: ["-listen=:5678", "-text=$(SHIPGATE_RESPONSE)"],
              ports: [{ name: "http", containerPort: 5678 }],
              env: [
                { name: "SHIPGATE_RESPONSE", value: `{"service":"sample-app","version":"${version}"}` },
                { name: "SHIPGATE_COLOR", value: color },
                { name: "SHIPGATE_VERSION", value: version },
              ],
              resources: {
                requests: { cpu: "50m", memory: "32Mi" },
                limits: { cpu: "200m", memory: "64Mi" },
              },
              // Ready when it accepts connections; whether it is healthy is the gate's call.
              readinessProbe: {
                tcpSocket: { port: "http" },
                periodSeconds: 1,
                timeoutSeconds: 1,
                failureThreshold: 3,
              },
            },
          ],
        },
      },
    },
  };
}

function activeService(color: Color, annotations?: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "sample-app",
      namespace: "shipgate-staging",
      labels: labels("server"),
      // The switch carries the warm window so the policy pack can read it from the plan.
      // patchForce: the switch owns the selector even after a Job's switch back patched it.
      annotations: {
        "shipgate.dev/warm-window-minutes": "60",
        "pulumi.com/patchForce": "true",
        ...annotations,
      },
    },
    spec: {
      selector: { "app.kubernetes.io/name": "sample-app", "shipgate.dev/color": color },
      ports: [{ name: "http", port: 8080, targetPort: "http" }],
    },
  };
}

function previewService(color: Color) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "sample-app-preview", namespace: "shipgate-staging", labels: labels("preview") },
    spec: {
      selector: { "app.kubernetes.io/name": "sample-app", "shipgate.dev/color": color },
      ports: [{ name: "http", port: 8080, targetPort: "http" }],
    },
  };
}

function task(registration: { inputs: Record<string, unknown> }): Record<string, unknown> {
  const env = (
    registration.inputs as {
      spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
    }
  ).spec.template.spec.containers[0]?.env;
  const value = env?.find((e) => e.name === "SHIPGATE_TASK")?.value;
  if (value === undefined) throw new Error("the Job has no SHIPGATE_TASK");
  return JSON.parse(value) as Record<string, unknown>;
}

/** Every Kubernetes object of a blue-green release of the stateless sample app, in order. */
function releaseObjects(colors: Color[]): string[] {
  return [
    "pulumi:providers:kubernetes kubernetes",
    "kubernetes:core/v1:Namespace namespace",
    "kubernetes:core/v1:ConfigMap shipgate-runner",
    "kubernetes:core/v1:ConfigMap release-announce-send",
    "kubernetes:core/v1:ServiceAccount sample-app-router-account",
    "kubernetes:rbac.authorization.k8s.io/v1:Role sample-app-router-role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding sample-app-router-binding",
    ...colors.map((c) => `kubernetes:apps/v1:Deployment sample-app-${c}`),
    "kubernetes:core/v1:Service sample-app-gate-checks-preview",
    "kubernetes:core/v1:ConfigMap sample-app-gate-checks-failure",
    "kubernetes:batch/v1:Job sample-app-gate-checks",
    "kubernetes:core/v1:Service sample-app-switch-route",
    "kubernetes:core/v1:ConfigMap sample-app-verify-bake-failure",
    "kubernetes:batch/v1:Job sample-app-verify-bake",
    "kubernetes:core/v1:ConfigMap release-record-write",
    "kubernetes:core/v1:ConfigMap release-complete-send",
  ];
}

function sorted(list: string[]): string[] {
  return [...list].sort();
}

describe("the kubernetes platform's releases", () => {
  it("puts every pod of the stack where shipgate:kubernetes.scheduling says: each colour and every Job", async () => {
    const scheduling = {
      nodeSelector: { "kubernetes.io/hostname": "shipgate-node" },
      tolerations: [{ key: "shipgate.dev/real-node", operator: "Exists" }],
    };
    const config = parseKubernetesConfig({
      ...(stackYaml.config["shipgate:kubernetes"] as object),
      scheduling,
    });
    const mocks = await release("1.0.0", cluster(null, {}), undefined, config);
    const pods = mocks.registrations.filter(
      (r) => r.type === "kubernetes:apps/v1:Deployment" || r.type === "kubernetes:batch/v1:Job",
    );
    expect(pods.map((r) => r.name).sort()).toEqual([
      "sample-app-blue",
      "sample-app-gate-checks",
      "sample-app-verify-bake",
    ]);
    for (const pod of pods) {
      const template = (pod.inputs as { spec: { template: { spec: Record<string, unknown> } } }).spec
        .template;
      expect({
        name: pod.name,
        nodeSelector: template.spec["nodeSelector"],
        tolerations: template.spec["tolerations"],
      }).toEqual({
        name: pod.name,
        ...scheduling,
      });
    }
  });

  it("refuses scheduling settings that would not mean what they say, naming the field", () => {
    const base = stackYaml.config["shipgate:kubernetes"] as object;
    expect(() =>
      parseKubernetesConfig({ ...base, scheduling: { tolerations: [{ operator: "Equal", value: "x" }] } }),
    ).toThrow("shipgate:kubernetes.scheduling.tolerations.0: expected a key when operator is Equal");
    expect(() =>
      parseKubernetesConfig({
        ...base,
        scheduling: { tolerations: [{ key: "a", operator: "Exists", value: "x" }] },
      }),
    ).toThrow("shipgate:kubernetes.scheduling.tolerations.0: expected no value when operator is Exists");
    expect(() =>
      parseKubernetesConfig({ ...base, scheduling: { nodeSelector: { "bad key!": "x" } } }),
    ).toThrow("shipgate:kubernetes.scheduling.nodeSelector.bad key!: expected a label key");
  });

  it("the provider and kubectl use the stack's kubeconfig, resolved against the project", async () => {
    const asked: Parameters<ClusterReader>[0][] = [];
    const reader: ClusterReader = (args) => {
      asked.push(args);
      return cluster(null, {})(args);
    };
    const mocks = await release("1.0.0", reader);
    const kubeconfig = join(root, ".shipgate", "cluster", "kubeconfig");
    expect(mocks.byName("kubernetes").inputs).toMatchObject({ kubeconfig, namespace: "shipgate-staging" });
    expect(asked).toEqual([
      {
        namespace: "shipgate-staging",
        kubeconfig,
        names: ["service/sample-app", "deployment/sample-app-blue", "deployment/sample-app-green"],
      },
    ]);
  });

  it("first release: blue gets 1.0.0, is gated through the preview Service, then becomes active", async () => {
    const mocks = await release("1.0.0", cluster(null, {}));
    expect(sorted(mocks.objects())).toEqual(sorted(releaseObjects(["blue"])));
    expect(mocks.byName("sample-app-blue").inputs).toEqual(deployment("blue", "1.0.0"));
    expect(mocks.byName("sample-app-gate-checks-preview").inputs).toEqual(previewService("blue"));
    expect(mocks.byName("sample-app-switch-route").inputs).toEqual(activeService("blue"));

    const gate = mocks.byName("sample-app-gate-checks");
    expect(task(gate)).toMatchObject({
      release: "CHG-200@1.0.0",
      target: "http://sample-app-preview.shipgate-staging.svc.cluster.local:8080",
      policy: { consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 1000, timeoutMs: 60000 },
    });
    expect((task(gate)["checks"] as { name: string }[]).map((c) => c.name)).toEqual([
      "health",
      "version",
      "items can be listed",
    ]);
    expect(gate.inputs).toMatchObject({
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: 120,
        template: {
          spec: {
            restartPolicy: "Never",
            containers: [
              { command: ["node", "/shipgate/runner.mjs", "gate"], image: kubeConfig.runnerImage },
            ],
          },
        },
      },
    });
    // A failed gate Job records the failure itself, as the service's account, from a ConfigMap it
    // mounts: the record's draft, what served users (nothing, on a first release), where records go.
    const failureOf = (step: string) =>
      JSON.parse(
        (mocks.byName(`${step}-failure`).inputs as { data: Record<string, string> }).data["failure.json"] ??
          "",
      ) as Record<string, unknown>;
    expect(failureOf("sample-app-gate-checks")).toEqual({
      service: "sample-app",
      release: { changeId: "CHG-200", version: "1.0.0" },
      record: expect.objectContaining({ release: expect.objectContaining({ version: "1.0.0" }) }),
      served: null,
      namespace: "shipgate-staging",
    });
    expect(failureOf("sample-app-verify-bake")).toEqual(failureOf("sample-app-gate-checks"));
    expect(mocks.byName("sample-app-gate-checks-failure").inputs).toMatchObject({
      metadata: { name: "shipgate-failure-sample-app-gate", namespace: "shipgate-staging" },
    });
    expect(gate.inputs).toMatchObject({
      spec: {
        template: {
          spec: {
            containers: [
              {
                volumeMounts: [
                  { name: "runner", mountPath: "/shipgate", readOnly: true },
                  { name: "failure", mountPath: "/shipgate-failure", readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "runner" },
              { name: "failure", configMap: { name: "shipgate-failure-sample-app-gate" } },
            ],
          },
        },
      },
    });
    expect(gate.dependsOn).toContain("sample-app-gate-checks-failure");
    expect(gate.inputs).toMatchObject({
      spec: { template: { spec: { serviceAccountName: "sample-app-shipgate" } } },
    });
    expect(mocks.byName("sample-app-router-role").inputs).toMatchObject({
      rules: [
        { apiGroups: [""], resources: ["services"], resourceNames: ["sample-app"], verbs: ["get", "patch"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
      ],
    });
    expect(gate.dependsOn).toContain("sample-app-gate-checks-preview");
    // The switch waits for the gate component, which the SDK expands to the gate's Job and Service.
    expect(mocks.byName("sample-app-switch-route").dependsOn).toEqual([
      "namespace",
      "sample-app-gate-checks",
      "sample-app-gate-checks-failure",
      "sample-app-gate-checks-preview",
    ]);

    const verify = mocks.byName("sample-app-verify-bake");
    expect(task(verify)).toMatchObject({
      url: "http://sample-app.shipgate-staging.svc.cluster.local:8080",
      promoted: "blue",
      rollbackTo: null,
      activeService: "sample-app",
    });
    expect(verify.inputs).toMatchObject({
      spec: { template: { spec: { serviceAccountName: "sample-app-shipgate" } } },
    });
    const record = mocks.byName("release-record-write").inputs as {
      metadata: { name: string };
      data: Record<string, string>;
    };
    expect(record.metadata.name).toBe("shipgate-record-chg-200-1-0-0");
    const written = JSON.parse(record.data["record.json"] ?? "{}") as { results: Record<string, unknown> };
    expect(written.results["sample-app"]).toMatchObject({
      gate: { verdict: "passed", rounds: null, at: jobCompletedAt },
      verification: { verdict: "passed", errorRate: null, p95LatencyMs: null, at: jobCompletedAt },
    });
  });

  it("second release: green gets 1.1.0 beside blue unchanged, then the active Service selects green", async () => {
    const mocks = await release("1.1.0", cluster("blue", { blue: "1.0.0" }));
    expect(sorted(mocks.objects())).toEqual(sorted(releaseObjects(["blue", "green"])));
    expect(mocks.byName("sample-app-blue").inputs).toEqual(deployment("blue", "1.0.0"));
    expect(mocks.byName("sample-app-green").inputs).toEqual(deployment("green", "1.1.0"));
    expect(mocks.byName("sample-app-gate-checks-preview").inputs).toEqual(previewService("green"));
    expect(mocks.byName("sample-app-switch-route").inputs).toEqual(activeService("green"));
    expect(task(mocks.byName("sample-app-verify-bake"))).toMatchObject({
      promoted: "green",
      rollbackTo: "blue",
    });
  });

  it("failed gate: the provider's Job fails, so the active Service is never declared and keeps serving blue", async () => {
    const mocks = await release(
      "1.1.0",
      cluster("blue", { blue: "1.0.0" }),
      (name) => name === "sample-app-gate-checks",
    );
    const objects = mocks.objects();
    expect(objects).toContain("kubernetes:batch/v1:Job sample-app-gate-checks");
    expect(mocks.byName("sample-app-gate-checks-preview").inputs).toEqual(previewService("green"));
    // Nothing after the gate reaches the engine: no switch, no verification, no record. A failed
    // update deletes nothing it did not declare, so the active Service's state and object stay
    // exactly as the last release left them: selector blue.
    expect(objects).not.toContain("kubernetes:core/v1:Service sample-app-switch-route");
    expect(objects).not.toContain("kubernetes:batch/v1:Job sample-app-verify-bake");
    expect(objects).not.toContain("kubernetes:core/v1:ConfigMap release-record-write");
  });

  it("rollback: releasing 1.0.0 again while green runs 1.1.0 changes the active Service's selector only", async () => {
    const forward = await release("1.1.0", cluster("blue", { blue: "1.0.0" }));
    const before = {
      blue: forward.byName("sample-app-blue").inputs,
      green: forward.byName("sample-app-green").inputs,
      active: forward.byName("sample-app-switch-route").inputs,
    };
    const back = await release("1.0.0", cluster("green", { blue: "1.0.0", green: "1.1.0" }));
    expect(back.byName("sample-app-blue").inputs).toEqual(before.blue);
    expect(back.byName("sample-app-green").inputs).toEqual(before.green);
    const active = back.byName("sample-app-switch-route").inputs;
    expect(active).toEqual({
      ...before.active,
      spec: { ...(before.active["spec"] as object), selector: activeService("blue").spec.selector },
    });
    expect(active).toEqual(activeService("blue"));
    expect(task(back.byName("sample-app-verify-bake"))).toMatchObject({
      promoted: "blue",
      rollbackTo: "green",
    });
  });

  it("after an automatic switch back, the same release re-applies the switch and runs its Jobs again", async () => {
    const at = "2026-11-23T10:07:00Z";
    const mocks = await release("1.1.0", cluster("blue", { blue: "1.0.0", green: "1.1.0" }, at));
    expect(mocks.byName("sample-app-switch-route").inputs).toEqual(
      activeService("green", { "shipgate.dev/rolled-back-at": at }),
    );
    for (const job of ["sample-app-gate-checks", "sample-app-verify-bake"]) {
      expect(mocks.byName(job).inputs).toMatchObject({
        spec: { template: { metadata: { annotations: { "shipgate.dev/rolled-back-at": at } } } },
      });
    }
  });
});
