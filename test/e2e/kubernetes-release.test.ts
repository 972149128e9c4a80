// The kubernetes platform on the real engine, against a real API server (the local cluster: etcd,
// kube-apiserver, controller-manager, scheduler, kwok), through the Automation API with the policy
// pack: the staging stack's program, one release after another on one stack, as a team would run
// them. Every assertion reads what the API server holds, not what the program meant to send.
//
// No container runs under KWOK, so the gate and verification Jobs' pods have no program: the test
// drives their outcome. Each pod waits (Running) until the test writes its outcome on it, and the KWOK
// stages in tools/cluster/kwok-stages.yaml then end the pod Succeeded or Failed; the Job controller
// and the provider take it from there as from a real pod. To pass a Job the test says so; to fail one
// it runs the Job's own program, the runner, which cannot reach the cluster's Services from outside
// and fails as the contract's judge says, switching traffic back with the Job's service account
// (runTheJobsProgram in kubernetes-harness.ts).
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKubernetesStack,
  type Decide,
  type KubeObject,
  type KubernetesStack,
  kubeGet,
  kubeList,
  passEverything,
  paths,
  selectedColor,
  startCluster,
  runTheJobsProgram,
} from "./kubernetes-harness";
import { waitFor } from "./harness";

const image =
  "docker.io/hashicorp/http-echo@sha256:fcb75f691c8b0414d670ae570240cbf95502cc18a9ba57e982ecac589760a186";

/** The operation the engine did on each Kubernetes object during an update, by resource name. */
function opsOf(events: readonly EngineEvent[]): Record<string, string> {
  const ops: Record<string, string> = {};
  for (const event of events) {
    const metadata = event.resOutputsEvent?.metadata;
    if (metadata?.type.startsWith("kubernetes:")) {
      ops[metadata.urn.split("::").pop() ?? metadata.urn] = metadata.op;
    }
  }
  return ops;
}

function container(deployment: KubeObject | undefined) {
  const template = deployment?.spec?.["template"] as
    { spec: { containers: { image: string; env: { name: string; value: string }[] }[] } } | undefined;
  return template?.spec.containers[0];
}

function slotVersion(deployment: KubeObject | undefined): string | undefined {
  const raw = deployment?.metadata.annotations?.["shipgate.dev/slot-spec"];
  return raw ? (JSON.parse(raw) as { version: string }).version : undefined;
}

describe("the staging stack's releases on a real API server", () => {
  let stopCluster: (() => Promise<void>) | undefined;
  let stack: KubernetesStack;
  let at: ReturnType<typeof paths>;

  beforeAll(async () => {
    stopCluster = await startCluster();
    stack = await createKubernetesStack();
    at = paths(stack.namespace);
  });

  afterAll(async () => {
    try {
      await stack?.dispose();
    } finally {
      await stopCluster?.();
    }
  });

  it("first release: 1.0.0 on blue, gated through the preview Service, then the active Service selects blue", async () => {
    const { up, decided } = await stack.release("1.0.0", passEverything);
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("blue");
    expect(decided.map((d) => [d.component, d.release, d.outcome])).toEqual([
      ["gate", "CHG-200@1.0.0", "succeeded"],
      ["verify", "CHG-200@1.0.0", "succeeded"],
    ]);

    const blue = await kubeGet(at.deployment("sample-app-blue"));
    expect(container(blue)?.image).toBe(image);
    expect(slotVersion(blue)).toBe("1.0.0");
    // The provider awaited the rollout: both replicas available before the gate Job was created.
    expect(blue?.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(await kubeGet(at.deployment("sample-app-green"))).toBeUndefined();

    const active = await kubeGet(at.service("sample-app"));
    const preview = await kubeGet(at.service("sample-app-preview"));
    expect(active?.spec?.["selector"]).toEqual({
      "app.kubernetes.io/name": "sample-app",
      "shipgate.dev/color": "blue",
    });
    expect(selectedColor(preview)).toBe("blue");
    // The API server's own defaults: a cluster IP and the ClusterIP type.
    expect(active?.spec?.["type"]).toBe("ClusterIP");
    expect(active?.spec?.["clusterIP"]).toMatch(/^10\.96\./);

    const jobs = await kubeList(at.jobs);
    expect(
      jobs.map((j) => [j.metadata.labels?.["app.kubernetes.io/component"], j.status?.["succeeded"]]),
    ).toEqual(
      expect.arrayContaining([
        ["gate", 1],
        ["verify", 1],
      ]),
    );
    const record = await kubeGet(`${at.configMaps}/shipgate-record-chg-200-1-0-0`);
    const written = JSON.parse(
      (record as { data: Record<string, string> } | undefined)?.data["record.json"] ?? "{}",
    );
    expect(written.results["sample-app"]).toMatchObject({
      gate: { verdict: "passed" },
      verification: { verdict: "passed" },
    });
  });

  it("second release: 1.1.0 on green beside blue untouched, then the selector switches to green", async () => {
    const blueBefore = await kubeGet(at.deployment("sample-app-blue"));
    const { up, decided } = await stack.release("1.1.0", passEverything);
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("green");
    expect(decided.map((d) => [d.component, d.release])).toEqual([
      ["gate", "CHG-201@1.1.0"],
      ["verify", "CHG-201@1.1.0"],
    ]);

    const blue = await kubeGet(at.deployment("sample-app-blue"));
    expect(blue?.metadata.resourceVersion).toBe(blueBefore?.metadata.resourceVersion);
    const green = await kubeGet(at.deployment("sample-app-green"));
    expect(slotVersion(green)).toBe("1.1.0");
    expect(green?.status).toMatchObject({ availableReplicas: 2 });
    expect(selectedColor(await kubeGet(at.service("sample-app")))).toBe("green");
    expect(selectedColor(await kubeGet(at.service("sample-app-preview")))).toBe("green");
  });

  it("rollback: releasing 1.0.0 again changes the active Service's selector only", async () => {
    const before = {
      blue: await kubeGet(at.deployment("sample-app-blue")),
      green: await kubeGet(at.deployment("sample-app-green")),
    };
    const events: EngineEvent[] = [];
    const { up } = await stack.release("1.0.0", passEverything, (event) => events.push(event));
    expect(up.summary.result).toBe("succeeded");
    const ops = opsOf(events);
    expect({
      blue: ops["sample-app-blue"],
      green: ops["sample-app-green"],
      switch: ops["sample-app-switch-route"],
    }).toEqual({
      blue: "same",
      green: "same",
      switch: "update",
    });
    expect((await kubeGet(at.deployment("sample-app-blue")))?.metadata.resourceVersion).toBe(
      before.blue?.metadata.resourceVersion,
    );
    expect((await kubeGet(at.deployment("sample-app-green")))?.metadata.resourceVersion).toBe(
      before.green?.metadata.resourceVersion,
    );
    expect(selectedColor(await kubeGet(at.service("sample-app")))).toBe("blue");
  });

  it("a failed post-promotion verification switches back, and the next commands' state says so", async () => {
    // 1.1.0 again: green is warm with it. The gate passes; the verification Job's runner fails and
    // switches traffic back to blue with the Job's service account.
    const decide: Decide = (pod, task) =>
      pod.metadata.labels?.["app.kubernetes.io/component"] === "verify"
        ? runTheJobsProgram(pod, task)
        : { outcome: "succeeded" };
    const { error, decided } = await stack.releaseFailure("1.1.0", decide);
    expect(decided.map((d) => [d.component, d.outcome])).toEqual([
      ["gate", "succeeded"],
      ["verify", "failed"],
    ]);
    // The provider reports the Job's failure, not the runner's message: that is on the pod.
    expect(error.message).toContain("sample-app-verify-bake");
    expect(error.message).toContain("BackoffLimitExceeded");
    const failedPod = (await kubeList(at.pods)).find(
      (p) => p.metadata.annotations?.["e2e.shipgate.dev/outcome"] === "failed",
    );
    const statuses = failedPod?.status?.["containerStatuses"] as
      { state: { terminated?: { exitCode: number; message?: string } } }[] | undefined;
    expect(statuses?.[0]?.state.terminated?.exitCode).toBe(1);
    expect(statuses?.[0]?.state.terminated?.message).toContain(
      "Traffic is back on blue, the previous version.",
    );

    const active = await kubeGet(at.service("sample-app"));
    expect(selectedColor(active)).toBe("blue");
    expect(active?.metadata.annotations?.["shipgate.dev/rollback-trigger"]).toMatch(/^system-failure: /);
    expect(active?.metadata.annotations?.["shipgate.dev/rolled-back-at"]).toMatch(/^\d{4}-\d\d-\d\dT/);

    // The failed update recorded the switch to green in the state; the cluster says blue.
    const stateSelector = async () => {
      const state = await stack.stack.exportStack();
      const resources = (state.deployment.resources ?? []) as {
        type: string;
        outputs?: { metadata?: { name?: string }; spec?: { selector?: Record<string, string> } };
      }[];
      const service = resources.find(
        (r) => r.type === "kubernetes:core/v1:Service" && r.outputs?.metadata?.name === "sample-app",
      );
      return service?.outputs?.spec?.selector?.["shipgate.dev/color"];
    };
    expect(await stateSelector()).toBe("green");
    // A refresh reads the Service back: the state now says what the cluster says.
    await stack.stack.refresh();
    expect(await stateSelector()).toBe("blue");
    // And the next preview plans from the cluster: 1.1.0 switches to green again and its Jobs run again.
    const preview = await stack.preview("1.1.0");
    expect(preview.changeSummary["update"]).toBeGreaterThanOrEqual(1);
    expect(preview.changeSummary["replace"]).toBeGreaterThanOrEqual(2);
  });

  it("a failed gate leaves the active Service untouched", async () => {
    const activeBefore = await kubeGet(at.service("sample-app"));
    const decide: Decide = (pod, task) =>
      pod.metadata.labels?.["app.kubernetes.io/component"] === "gate"
        ? runTheJobsProgram(pod, task)
        : { outcome: "succeeded" };
    const { error, decided } = await stack.releaseFailure("1.1.0", decide);
    expect(decided.map((d) => [d.component, d.outcome])).toEqual([["gate", "failed"]]);
    expect(error.message).toContain("sample-app-gate-checks");

    const active = await kubeGet(at.service("sample-app"));
    expect(active?.metadata.resourceVersion).toBe(activeBefore?.metadata.resourceVersion);
    expect(selectedColor(active)).toBe("blue");
  });

  it("destroy leaves nothing behind", async () => {
    await stack.dispose();
    await waitFor(
      `namespace ${stack.namespace} to be gone`,
      async () => ((await kubeGet(at.namespace)) === undefined ? true : undefined),
      120_000,
      500,
    );
    for (const path of [
      "/apis/apps/v1/deployments",
      "/apis/batch/v1/jobs",
      "/api/v1/services",
      "/api/v1/configmaps",
      "/api/v1/pods",
      "/apis/rbac.authorization.k8s.io/v1/roles",
    ]) {
      const left = (await kubeList(path)).filter((o) => o.metadata.namespace === stack.namespace);
      expect(left.map((o) => o.metadata.name)).toEqual([]);
    }
  });
});
