// The local cluster's real node: pods that really run (kubelet, containerd, runc, the CNI bridge, all
// inside the network namespace the cluster script makes), from images built here and named by
// digest. The sample app serves from a pod; the runner's gate, in a Job of the runner image, judges
// the real app through its Service's name (the cluster's DNS, kube-proxy's rules): a healthy build
// passes, the broken 3.0.0 fails; and a bounded load from inside the node's namespace sees no failed
// request while the Service's selector moves from one build's pods to another's.
//
// The node is tainted: only pods that ask for it (the toleration and node selector below) land on
// it, so the KWOK tests' pods keep their simulated node.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeNetwork, realNodeName, realNodeTaint } from "../../scripts/lib/cluster-node.mjs";
import { apiRequest, portOffset } from "../../scripts/lib/cluster.mjs";
import { type BuiltImage, ensureImages, imageSpecs } from "../../scripts/lib/images.mjs";
import { binary } from "../../scripts/lib/kubernetes-tools.mjs";
import { waitFor } from "./harness";
import { type KubeObject, kubeGet, startCluster } from "./kubernetes-harness";

const namespace = "pods-e2e";
const net = nodeNetwork(portOffset());
const onRealNode = {
  tolerations: [{ key: realNodeTaint.key, operator: "Exists" }],
  nodeSelector: { "kubernetes.io/hostname": realNodeName },
};

async function create(path: string, body: unknown): Promise<void> {
  const answer = await apiRequest("POST", path, body);
  if (answer.status !== 201) throw new Error(`POST ${path}: HTTP ${answer.status} ${answer.text}`);
}

function sampleAppDeployment(name: string, image: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, service: "sample-app" } },
        spec: {
          ...onRealNode,
          containers: [
            {
              name: "app",
              image,
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

function service(name: string, selector: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { selector, ports: [{ port: 8080, targetPort: 8080 }] },
  };
}

async function available(name: string): Promise<void> {
  await waitFor(
    `deployment ${name} available`,
    async () => {
      const deployment = await kubeGet(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
      return (deployment?.status?.["availableReplicas"] as number | undefined) === 1 ? true : undefined;
    },
    180_000,
    500,
  );
}

/** Runs one container in a Job on the real node; returns how the Job ended, where, and how the container ended. */
async function runJob(name: string, container: Record<string, unknown>) {
  await create(`/apis/batch/v1/namespaces/${namespace}/jobs`, {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { job: name } },
        spec: { ...onRealNode, restartPolicy: "Never", containers: [{ name: "main", ...container }] },
      },
    },
  });
  const ended = await waitFor(
    `job ${name} to end`,
    async () => {
      const job = await kubeGet(`/apis/batch/v1/namespaces/${namespace}/jobs/${name}`);
      const conditions = (job?.status?.["conditions"] ?? []) as { type: string; status: string }[];
      return conditions.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")
        ?.type;
    },
    180_000,
    500,
  );
  const pods = await apiRequest("GET", `/api/v1/namespaces/${namespace}/pods?labelSelector=job%3D${name}`);
  const pod = (pods.body as { items: KubeObject[] }).items[0];
  const statuses = (pod?.status?.["containerStatuses"] ?? []) as {
    state: { terminated?: { message?: string; exitCode: number } };
  }[];
  return { ended, node: pod?.spec?.["nodeName"], terminated: statuses[0]?.state.terminated };
}

/** Runs the runner's gate in a Job of the runner image against `target`. */
function gateJob(name: string, runner: string, target: string) {
  const task = {
    release: `CHG-E2E@${name}`,
    target,
    checks: [{ name: "health", kind: "technical", path: "/health" }],
    policy: { consecutiveSuccesses: 3, failureThreshold: 3, intervalMs: 200, timeoutMs: 30_000 },
  };
  return runJob(name, {
    image: runner,
    command: ["node", "/opt/shipgate/runner.mjs", "gate"],
    env: [{ name: "SHIPGATE_TASK", value: JSON.stringify(task) }],
  });
}

/** The Service's ClusterIP. */
async function clusterIP(name: string): Promise<string> {
  const svc = await kubeGet(`/api/v1/namespaces/${namespace}/services/${name}`);
  return svc?.spec?.["clusterIP"] as string;
}

/** Runs Node.js inside the node's network namespace (where Pod and Service addresses exist). */
function inNamespace(script: string, args: string[]) {
  return spawn("ip", ["netns", "exec", net.netns, process.execPath, "-e", script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("the local cluster's real node", () => {
  let stopCluster: (() => Promise<void>) | undefined;
  let images: BuiltImage[];
  const image = (name: string) => {
    const found = images.find((i) => i.name.startsWith(`shipgate.local/${name}`));
    if (!found) throw new Error(`no image ${name}`);
    return found.reference;
  };

  beforeAll(async () => {
    stopCluster = await startCluster();
    images = await ensureImages();
    await apiRequest("DELETE", `/api/v1/namespaces/${namespace}`);
    await waitFor(
      "the previous run's namespace to go",
      async () =>
        (await apiRequest("GET", `/api/v1/namespaces/${namespace}`)).status === 404 ? true : undefined,
      120_000,
      500,
    );
    await create("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
  }, 600_000);

  afterAll(async () => {
    await apiRequest("DELETE", `/api/v1/namespaces/${namespace}`);
    await stopCluster?.();
  }, 120_000);

  it("builds an image reproducibly: the same files give the same archive and digest", () => {
    const pause = imageSpecs().find((spec) => spec.name.startsWith("shipgate.local/pause:"));
    const dir = mkdtempSync(join(tmpdir(), "shipgate-oci-"));
    try {
      const digests = ["a.tar", "b.tar"].map((file) => {
        const result = spawnSync(binary("images", "oci"), [join(dir, file)], {
          input: JSON.stringify(pause),
          encoding: "utf8",
        });
        expect(result.stderr).toBe("");
        return result.stdout.trim();
      });
      expect(digests[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(digests[1]).toBe(digests[0]);
      expect(readFileSync(join(dir, "b.tar")).equals(readFileSync(join(dir, "a.tar")))).toBe(true);
      expect(image("pause")).toBe(`shipgate.local/pause@${digests[0]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("serves the sample app from a pod on the real node, through its Service", async () => {
    await create(
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      sampleAppDeployment("app-1-0-0", image("sample-app:1.0.0")),
    );
    await create(`/api/v1/namespaces/${namespace}/services`, service("good", { app: "app-1-0-0" }));
    await available("app-1-0-0");
    const pods = await apiRequest(
      "GET",
      `/api/v1/namespaces/${namespace}/pods?labelSelector=app%3Dapp-1-0-0`,
    );
    const pod = (pods.body as { items: KubeObject[] }).items[0];
    expect(pod?.spec?.["nodeName"]).toBe(realNodeName);
    const ip = await clusterIP("good");
    const child = inNamespace(
      "fetch(process.argv[1]).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json() })))",
      [`http://${ip}:8080/health`],
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ status: 200, body: { status: "ok", version: "1.0.0" } });
  }, 300_000);

  it("runs the runner's gate in a Job of the runner image: 1.0.0 passes, the broken 3.0.0 fails", async () => {
    await create(
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      sampleAppDeployment("app-3-0-0", image("sample-app:3.0.0")),
    );
    await create(`/api/v1/namespaces/${namespace}/services`, service("broken", { app: "app-3-0-0" }));
    await available("app-3-0-0");
    const [passed, failed] = await Promise.all([
      gateJob("gate-good", image("runner"), `http://good.${namespace}.svc.cluster.local:8080`),
      gateJob("gate-broken", image("runner"), `http://broken.${namespace}.svc.cluster.local:8080`),
    ]);
    expect(passed).toMatchObject({ ended: "Complete", node: realNodeName, terminated: { exitCode: 0 } });
    expect(failed).toMatchObject({ ended: "Failed", node: realNodeName, terminated: { exitCode: 1 } });
    // The judge's own words, from the real app's answer: /health said 500.
    expect(failed.terminated?.message).toMatch(/health/);
    expect(failed.terminated?.message).toMatch(/500/);
  }, 400_000);

  it("lets a pod reach the API server through the kubernetes Service with its service account", async () => {
    const script =
      "const dir = '/var/run/secrets/kubernetes.io/serviceaccount';" +
      "const token = require('node:fs').readFileSync(dir + '/token', 'utf8');" +
      "fetch('https://kubernetes.default.svc/version', { headers: { authorization: 'Bearer ' + token } })" +
      ".then(async (r) => { const v = await r.json(); console.log(r.status, v.gitVersion); process.exit(r.ok ? 0 : 1); })" +
      ".catch((e) => { require('node:fs').writeFileSync('/dev/termination-log', String(e.cause ?? e)); process.exit(1); });";
    const result = await runJob("api-from-pod", {
      image: image("runner"),
      command: ["node", "-e", script],
      env: [{ name: "NODE_EXTRA_CA_CERTS", value: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" }],
    });
    expect(result).toMatchObject({ ended: "Complete", node: realNodeName, terminated: { exitCode: 0 } });
  }, 300_000);

  it("keeps every request of a load from inside the namespace answered while the Service switches", async () => {
    await create(
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      sampleAppDeployment("app-2-0-0", image("sample-app:2.0.0")),
    );
    await available("app-2-0-0");
    await create(`/api/v1/namespaces/${namespace}/services`, service("switch", { app: "app-1-0-0" }));
    const ip = await clusterIP("switch");
    // First the Service's rules must be in place (kube-proxy writes them a moment after the Service
    // appears): until one request is answered, nothing is counted. Then one request at a time, each
    // on a new connection (so each one meets the Service's current rules), until 2.0.0 has answered
    // 20 in a row or 2,000 requests are spent; one line per counted request.
    const load = inNamespace(
      `const url = process.argv[1];
       const until = Date.now() + 60000;
       for (;;) {
         const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
         if (ok) break;
         if (Date.now() > until) { console.error("the Service never answered"); process.exit(2); }
         await new Promise((resolve) => setTimeout(resolve, 200));
       }
       let newInARow = 0;
       for (let i = 0; i < 2000 && newInARow < 20; i++) {
         try {
           const r = await fetch(url, { headers: { connection: "close" } });
           const body = await r.json();
           newInARow = body.version === "2.0.0" ? newInARow + 1 : 0;
           console.log(JSON.stringify({ status: r.status, version: body.version }));
         } catch (error) {
           newInARow = 0;
           console.log(JSON.stringify({ error: String(error.cause ?? error) }));
         }
       }`,
      [`http://${ip}:8080/health`],
    );
    const lines: { status?: number; version?: string; error?: string }[] = [];
    let buffered = "";
    let switched = false;
    load.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const part of parts) if (part) lines.push(JSON.parse(part) as (typeof lines)[number]);
      if (!switched && lines.length >= 30) {
        switched = true;
        void apiRequest("PATCH", `/api/v1/namespaces/${namespace}/services/switch`, {
          spec: { selector: { app: "app-2-0-0" } },
        });
      }
    });
    const code = await new Promise<number | null>((resolve) => load.on("close", resolve));
    expect(code).toBe(0);
    expect(switched).toBe(true);
    expect(lines.filter((line) => line.error !== undefined || line.status !== 200)).toEqual([]);
    expect(lines[0]?.version).toBe("1.0.0");
    expect(lines.at(-1)?.version).toBe("2.0.0");
    expect(lines.slice(-20).every((line) => line.version === "2.0.0")).toBe(true);
  }, 300_000);
});
