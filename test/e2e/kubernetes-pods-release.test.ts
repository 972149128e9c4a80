// The kubernetes platform's releases with pods that really run: the staging program on the real
// engine, through the policy pack, releasing the sample app's own images (built here, named by
// digest) onto the local cluster's real node. Nothing answers for a Job here: the gate and
// verification Jobs run the runner in the runner image against the real app, through the cluster's
// Services, and the outcome is theirs. Every assertion reads what the cluster holds or serves.
//
// The stack puts its pods on the real node with shipgate:kubernetes.scheduling (the node's taint
// keeps everyone else's pods off it, so kubernetes-release.test.ts keeps KWOK's node).
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeNetwork, realNodeName, realNodeTaint } from "../../scripts/lib/cluster-node.mjs";
import { portOffset } from "../../scripts/lib/cluster.mjs";
import { type BuiltImage, ensureImages } from "../../scripts/lib/images.mjs";
import type { Manifest } from "../../release";
import { exampleManifest } from "../unit/policies/fixtures";
import {
  createKubernetesStack,
  type KubeObject,
  type KubernetesStack,
  kubeGet,
  kubeList,
  paths,
  selectedColor,
  startCluster,
} from "./kubernetes-harness";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "../../scripts/lib/engine.mjs";

const net = nodeNetwork(portOffset());
const staging = parse(readFileSync(join(root, "stacks/Pulumi.staging.yaml"), "utf8")) as {
  config: { "shipgate:services": { "sample-app": Record<string, unknown> } };
};
const stagingApp = staging.config["shipgate:services"]["sample-app"];

/** The versions in the order the test releases them, each its own change. */
const changes = ["1.0.0", "2.0.0", "3.0.0", "2.1.0"];

/** The staging manifest's change, for a build of the sample app's own image. */
function sampleAppManifest(version: string, images: readonly BuiltImage[]): Manifest {
  const image = images.find((i) => i.name === `shipgate.local/sample-app:${version}`);
  if (!image) throw new Error(`no image of the sample app ${version}: is it in sample-app/builds.json?`);
  const base = exampleManifest("releases/staging/sample-app-1.0.0.yaml");
  const n = 300 + changes.indexOf(version);
  const [component] = base.components;
  if (!component) throw new Error("the staging manifest names no component");
  return {
    ...base,
    changeId: `CHG-${n}`,
    title: `The sample app ${version} on real pods`,
    version,
    changeRequest: { ...base.changeRequest, id: `CR-${n}` },
    components: [
      {
        ...component,
        artifact: { source: image.repository, version, digest: image.digest },
        configChanges: [],
      },
    ],
  };
}

interface Answer {
  status?: number;
  version?: string;
  error?: string;
}

/** Runs Node.js inside the node's network namespace, where Pod and Service addresses exist. */
function inNamespace(script: string, args: string[]) {
  return spawn("ip", ["netns", "exec", net.netns, process.execPath, "-e", script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Collects a child's stdout as JSON lines; resolves with its exit code, lines and stderr. */
function lines(child: ReturnType<typeof inNamespace>) {
  const out: Answer[] = [];
  let buffered = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const part of parts) if (part) out.push(JSON.parse(part) as Answer);
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; lines: Answer[]; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, lines: out, stderr })),
  );
}

/** What the active Service answers users on `/version`, asked from inside the namespace. */
async function served(namespace: string): Promise<Answer> {
  const ip = (await kubeGet(paths(namespace).service("sample-app")))?.spec?.["clusterIP"] as string;
  const {
    code,
    lines: answers,
    stderr,
  } = await lines(
    inNamespace(
      `fetch(process.argv[1], { signal: AbortSignal.timeout(5000) })
         .then(async (r) => console.log(JSON.stringify({ status: r.status, version: (await r.json()).version })))
         .catch((e) => console.log(JSON.stringify({ error: String(e.cause ?? e) })));`,
      [`http://${ip}:8080/version`],
    ),
  );
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  return answers[0] ?? {};
}

function slotVersion(deployment: KubeObject | undefined): string | undefined {
  const raw = deployment?.metadata.annotations?.["shipgate.dev/slot-spec"];
  return raw ? (JSON.parse(raw) as { version: string }).version : undefined;
}

/** How the container of a Job's pod for `release` and `component` ended. */
async function terminated(namespace: string, component: string, release: string) {
  const pod = (await kubeList(paths(namespace).pods)).find(
    (p) =>
      p.metadata.labels?.["app.kubernetes.io/component"] === component &&
      p.metadata.annotations?.["shipgate.dev/release"] === release,
  );
  const statuses = (pod?.status?.["containerStatuses"] ?? []) as {
    state: { terminated?: { exitCode: number; message?: string } };
  }[];
  return { node: pod?.spec?.["nodeName"], ...statuses[0]?.state.terminated };
}

/** The failure records the runner wrote from inside its pod (ConfigMaps), for one change. */
async function failureRecords(namespace: string, change: string) {
  return (
    await kubeList(`${paths(namespace).configMaps}?labelSelector=shipgate.dev%2Fkind%3Ddeployment-record`)
  )
    .filter(
      (c) => c.metadata.name.includes(change) && c.metadata.labels?.["shipgate.dev/outcome"] !== undefined,
    )
    .map((c) => ({
      outcome: c.metadata.labels?.["shipgate.dev/outcome"],
      record: (c as { data?: Record<string, string> }).data?.["record.json"] ?? "",
    }));
}

describe("the staging stack's releases with real pods on the real node", () => {
  let stopCluster: (() => Promise<void>) | undefined;
  let stack: KubernetesStack;
  let at: ReturnType<typeof paths>;
  let images: BuiltImage[];

  beforeAll(async () => {
    stopCluster = await startCluster();
    images = await ensureImages();
    const runner = images.find((i) => i.name.startsWith("shipgate.local/runner:"));
    stack = await createKubernetesStack({
      kubernetes: {
        runnerImage: runner?.reference,
        scheduling: {
          nodeSelector: { "kubernetes.io/hostname": realNodeName },
          tolerations: [{ key: realNodeTaint.key, operator: "Exists", effect: "NoSchedule" }],
        },
        services: {
          "sample-app": {
            containerPort: 8080,
            replicas: 2,
            resources: {
              requests: { cpu: "50m", memory: "64Mi" },
              limits: { cpu: "1", memory: "256Mi" },
            },
          },
        },
      },
      services: {
        "sample-app": {
          ...stagingApp,
          // The machine is shared with busy builds: latency bounds are as loose as the policy pack allows
          // (2 s); the scenarios are
          // about what the app answers, not how fast.
          maxLatencyMs: 2000,
          verification: {
            ...(stagingApp["verification"] as object),
            bakeTimeMs: 20_000,
            maxP95LatencyMs: 2000,
          },
        },
      },
      manifest: (version) => sampleAppManifest(version, images),
    });
    at = paths(stack.namespace);
  }, 300_000);

  afterAll(async () => {
    try {
      await stack?.dispose();
    } finally {
      await stopCluster?.();
    }
  }, 300_000);

  it("a good release serves from the cluster: 1.0.0 on blue, its pods on the real node, judged by real Jobs", async () => {
    const { up } = await stack.release("1.0.0", null);
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("blue");

    const blue = await kubeGet(at.deployment("sample-app-blue"));
    const template = blue?.spec?.["template"] as { spec: { containers: { image: string }[] } };
    expect(template.spec.containers[0]?.image).toBe(
      images.find((i) => i.name === "shipgate.local/sample-app:1.0.0")?.reference,
    );
    expect(blue?.status).toMatchObject({ readyReplicas: 2 });
    const appPods = (await kubeList(at.pods)).filter(
      (p) => p.metadata.labels?.["app.kubernetes.io/instance"] === "sample-app-blue",
    );
    expect(appPods.map((p) => p.spec?.["nodeName"])).toEqual([realNodeName, realNodeName]);
    expect(await terminated(stack.namespace, "gate", "CHG-300@1.0.0")).toMatchObject({
      node: realNodeName,
      exitCode: 0,
    });
    expect(await terminated(stack.namespace, "verify", "CHG-300@1.0.0")).toMatchObject({
      node: realNodeName,
      exitCode: 0,
    });
    expect(await served(stack.namespace)).toEqual({ status: 200, version: "1.0.0" });
  }, 300_000);

  it("users see no failed request while a good release (2.0.0) switches them from blue to green", async () => {
    const ip = (await kubeGet(at.service("sample-app")))?.spec?.["clusterIP"] as string;
    // One request at a time, each on a new connection (so each meets the Service's current rules),
    // a tenth of a second apart, until 2.0.0 has answered 20 in a row; bounded by four minutes.
    const load = lines(
      inNamespace(
        `const url = process.argv[1];
         const until = Date.now() + 240000;
         let newInARow = 0;
         while (newInARow < 20) {
           if (Date.now() > until) { console.error("2.0.0 never answered 20 in a row"); process.exit(2); }
           try {
             const r = await fetch(url, { headers: { connection: "close" }, signal: AbortSignal.timeout(5000) });
             const body = await r.json();
             newInARow = body.version === "2.0.0" ? newInARow + 1 : 0;
             console.log(JSON.stringify({ status: r.status, version: body.version }));
           } catch (error) {
             newInARow = 0;
             console.log(JSON.stringify({ error: String(error.cause ?? error) }));
           }
           await new Promise((resolve) => setTimeout(resolve, 100));
         }`,
        [`http://${ip}:8080/version`],
      ),
    );
    const { up } = await stack.release("2.0.0", null);
    const { code, lines: answers, stderr } = await load;
    const count = (version: string) => answers.filter((a) => a.version === version).length;
    process.stderr.write(
      `load across the switch: ${answers.length} requests, ${count("1.0.0")} answered by 1.0.0, ` +
        `${count("2.0.0")} by 2.0.0\n`,
    );
    expect(up.summary.result).toBe("succeeded");
    expect(up.outputs["activeColor"]?.value).toBe("green");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(answers.filter((a) => a.error !== undefined || a.status !== 200)).toEqual([]);
    expect(answers[0]?.version).toBe("1.0.0");
    expect(answers.filter((a) => a.version === "1.0.0").length).toBeGreaterThan(0);
    expect(answers.slice(-20).every((a) => a.version === "2.0.0")).toBe(true);
    // Once 2.0.0 answers, 1.0.0 never does again: the switch is one move.
    const firstNew = answers.findIndex((a) => a.version === "2.0.0");
    expect(answers.slice(firstNew).filter((a) => a.version !== "2.0.0")).toEqual([]);
    expect(await served(stack.namespace)).toEqual({ status: 200, version: "2.0.0" });
  }, 360_000);

  it("the broken 3.0.0 fails the gate Job for real, and users stay on 2.0.0", async () => {
    const activeBefore = await kubeGet(at.service("sample-app"));
    const { error } = await stack.releaseFailure("3.0.0", null);
    expect(error.message).toContain("sample-app-gate-checks");
    expect(error.message).toContain("BackoffLimitExceeded");
    // The candidate ran (Ready: it accepts connections) and the gate judged it: /health said 500.
    const blue = await kubeGet(at.deployment("sample-app-blue"));
    expect(slotVersion(blue)).toBe("3.0.0");
    const gate = await terminated(stack.namespace, "gate", "CHG-302@3.0.0");
    expect(gate).toMatchObject({ node: realNodeName, exitCode: 1 });
    expect(gate.message).toMatch(/health/);
    expect(gate.message).toMatch(/500/);

    // The gate Job recorded the failure itself, with the judge's reason.
    expect(gate.message).toContain(`Record: configmap/${stack.namespace}/shipgate-record-chg-302-3.0.0-`);
    const records = await failureRecords(stack.namespace, "chg-302-3.0.0-");
    expect(records.map((r) => r.outcome)).toEqual(["failed"]);
    expect(records[0]?.record).toMatch(/health/);

    const active = await kubeGet(at.service("sample-app"));
    expect(active?.metadata.resourceVersion).toBe(activeBefore?.metadata.resourceVersion);
    expect(selectedColor(active)).toBe("green");
    expect(await served(stack.namespace)).toEqual({ status: 200, version: "2.0.0" });
  }, 300_000);

  it("2.1.0 passes the gate, fails after the switch, and the verification Job switches users back to 2.0.0", async () => {
    const { error } = await stack.releaseFailure("2.1.0", null);
    expect(error.message).toContain("sample-app-verify-bake");
    expect(error.message).toContain("BackoffLimitExceeded");
    expect(await terminated(stack.namespace, "gate", "CHG-303@2.1.0")).toMatchObject({
      node: realNodeName,
      exitCode: 0,
    });
    const verify = await terminated(stack.namespace, "verify", "CHG-303@2.1.0");
    expect(verify).toMatchObject({ node: realNodeName, exitCode: 1 });
    expect(verify.message).toContain("Traffic is back on green, the previous version.");
    expect(verify.message).toContain(`Record: configmap/${stack.namespace}/shipgate-record-chg-303-2.1.0-`);

    const active = await kubeGet(at.service("sample-app"));
    expect(selectedColor(active)).toBe("green");
    expect(active?.metadata.annotations?.["shipgate.dev/rollback-trigger"]).toMatch(/^errors: /);
    expect(slotVersion(await kubeGet(at.deployment("sample-app-blue")))).toBe("2.1.0");
    expect((await failureRecords(stack.namespace, "chg-303-2.1.0-")).map((r) => r.outcome)).toEqual([
      "rolled-back",
    ]);
    expect(await served(stack.namespace)).toEqual({ status: 200, version: "2.0.0" });
  }, 300_000);
});
