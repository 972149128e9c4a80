// The kubernetes platform on the real engine against a real API server: the local cluster that
// scripts/lib/cluster.mjs runs (etcd, kube-apiserver, controller-manager, scheduler, and kwok as the
// node), a small client of its API server, and throwaway stacks of the staging stack's program, each
// in a namespace of its own, released through the policy pack with approved manifests.
//
// KWOK runs no container. A Deployment's pods become Ready as soon as they are scheduled (which is
// what the provider's rollout wait needs), but a Job's pod has no program to finish: in `e2e-*`
// namespaces it keeps running until the test writes its outcome on it (tools/cluster/kwok-stages.yaml).
// `whileJobsRun` below is that part of the test: it answers every gate and verification pod, passing
// it, or failing it with the runner's own verdict (`runTheJobsProgram`), as the test says.
import type { EngineEvent, PreviewResult, UpResult } from "@pulumi/pulumi/automation";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import type { FetchImpl } from "../../contract";
import { gateTask, switchBack, verifyTask, type RunnerResult } from "../../platforms/kubernetes/runner/main";
import { apiRequest, clusterPorts, down, up } from "../../scripts/lib/cluster.mjs";
import { root } from "../../scripts/lib/engine.mjs";
import type { Manifest } from "../../release";
import { approve, approvers, exampleManifest, trustedKeys } from "../unit/policies/fixtures";
import { createThrowawayStack, policyPackPath, type ThrowawayStack } from "./harness";

// ---------------------------------------------------------------------------------------------
// The cluster and its API server

const log = (message: string) => process.stderr.write(`cluster: ${message}\n`);

/**
 * Starts the local cluster (building nothing: `node scripts/setup.mjs --kubernetes` has, and npm test
 * runs it) and returns what stops it again. A cluster that was already up (a developer's
 * `npm run cluster -- up`) is used as it is and left running; one the test started is stopped.
 */
export async function startCluster(): Promise<() => Promise<void>> {
  const started = await up({ log });
  return async () => {
    // A cluster the test started goes away whole, its store too: the next run starts empty.
    if (started.length > 0) await down({ log, purge: true });
  };
}

export interface KubeMetadata {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string }[];
  deletionTimestamp?: string;
}

/** An object as the API server holds it; `spec` and `status` are narrowed where a test reads them. */
export interface KubeObject {
  kind?: string;
  metadata: KubeMetadata;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** The object at `path`, or undefined when the API server says 404. */
export async function kubeGet(path: string): Promise<KubeObject | undefined> {
  const answer = await apiRequest("GET", path);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status} ${answer.text}`);
  return answer.body as KubeObject;
}

/** The items of a list at `path` (empty when the namespace is gone). */
export async function kubeList(path: string): Promise<KubeObject[]> {
  const answer = await apiRequest("GET", path);
  if (answer.status === 404) return [];
  if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status} ${answer.text}`);
  return (answer.body as { items: KubeObject[] }).items;
}

/** API paths of one namespace's objects. */
export function paths(namespace: string) {
  const core = `/api/v1/namespaces/${namespace}`;
  const apps = `/apis/apps/v1/namespaces/${namespace}`;
  const batch = `/apis/batch/v1/namespaces/${namespace}`;
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  return {
    namespace: `/api/v1/namespaces/${namespace}`,
    service: (name: string) => `${core}/services/${name}`,
    services: `${core}/services`,
    deployment: (name: string) => `${apps}/deployments/${name}`,
    deployments: `${apps}/deployments`,
    jobs: `${batch}/jobs`,
    pods: `${core}/pods`,
    configMaps: `${core}/configmaps`,
    serviceAccounts: `${core}/serviceaccounts`,
    roles: `${rbac}/roles`,
    roleBindings: `${rbac}/rolebindings`,
  };
}

/** The colour the Service's selector picks, or undefined. */
export function selectedColor(service: KubeObject | undefined): string | undefined {
  return (service?.spec?.["selector"] as Record<string, string> | undefined)?.["shipgate.dev/color"];
}

// ---------------------------------------------------------------------------------------------
// The test's part: the program of each Job's pod

export type JobComponent = "gate" | "verify" | "notify";

/** What the test answers for one Job's pod: how its program ended. */
export type Outcome =
  { readonly outcome: "succeeded" } | { readonly outcome: "failed"; readonly message: string };

export interface Decision {
  readonly job: string;
  readonly component: string;
  readonly release: string | undefined;
  readonly outcome: Outcome["outcome"];
}

/** Decides a Job pod's outcome; may act on the cluster first, as the pod's program would. */
export type Decide = (pod: KubeObject, task: Record<string, unknown>) => Outcome | Promise<Outcome>;

export const passEverything: Decide = () => ({ outcome: "succeeded" });

/** The settings the platform gave a runner Job (its SHIPGATE_TASK), as the runner would read them. */
function taskOf(pod: KubeObject): Record<string, unknown> {
  const containers = (pod.spec?.["containers"] ?? []) as { env?: { name: string; value?: string }[] }[];
  const value = containers[0]?.env?.find((e) => e.name === "SHIPGATE_TASK")?.value;
  return value ? (JSON.parse(value) as Record<string, unknown>) : {};
}

/**
 * Runs `work` (an update) while answering every Job pod of the namespace that waits for an outcome,
 * with `decide`; returns what `work` returned and every decision, in order. Pods are listed a few
 * times a second: KWOK leaves them Running until then, so none is missed.
 */
export async function whileJobsRun<T>(
  namespace: string,
  decide: Decide | null,
  work: () => Promise<T>,
): Promise<{ result: T; decided: Decision[] }> {
  const decided: Decision[] = [];
  // Pods that really run (the real node) end on their own: nothing to answer.
  if (decide === null) return { result: await work(), decided };
  let settled = false;
  const running = work().finally(() => {
    settled = true;
  });
  const answer = async () => {
    while (!settled) {
      for (const pod of await kubeList(`${paths(namespace).pods}`)) {
        const job = pod.metadata.ownerReferences?.find((o) => o.kind === "Job")?.name;
        if (!job || pod.status?.["phase"] !== "Running") continue;
        if (pod.metadata.annotations?.["e2e.shipgate.dev/outcome"]) continue;
        const task = taskOf(pod);
        const outcome = await decide(pod, task);
        const patched = await apiRequest("PATCH", `${paths(namespace).pods}/${pod.metadata.name}`, {
          metadata: {
            annotations: {
              "e2e.shipgate.dev/outcome": outcome.outcome,
              ...(outcome.outcome === "failed" ? { "e2e.shipgate.dev/message": outcome.message } : {}),
            },
          },
        });
        if (patched.status !== 200) {
          throw new Error(`answering ${pod.metadata.name}: HTTP ${patched.status} ${patched.text}`);
        }
        decided.push({
          job,
          component: pod.metadata.labels?.["app.kubernetes.io/component"] ?? "",
          release: pod.metadata.annotations?.["shipgate.dev/release"],
          outcome: outcome.outcome,
        });
      }
      await Promise.race([running.catch(() => undefined), sleep(250)]);
    }
  };
  const [result] = await Promise.all([running, answer()]);
  return { result, decided };
}

/**
 * A FetchImpl that sends the runner's API calls to the local API server instead of
 * kubernetes.default.svc, with the bearer token the runner put in its request.
 */
function apiServerFetch(): FetchImpl {
  return async (input, init) => {
    const url = new URL(input);
    const bearer = new Headers(init.headers).get("authorization")?.replace(/^Bearer /, "");
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    const answer = await apiRequest(
      init.method ?? "GET",
      url.pathname,
      body,
      bearer ? { token: bearer } : {},
    );
    return new Response(answer.text, { status: answer.status });
  };
}

/**
 * Runs the Job's own program, the runner (platforms/kubernetes/runner/main.ts with the contract's
 * probe loop and judge), in the test's process with the pod's $SHIPGATE_TASK, and ends the pod as the
 * runner's verdict says. Outside the cluster the runner cannot reach the Services' cluster addresses
 * (no pod network under KWOK), so its probes fail and the judge fails the gate or the verification
 * with a system failure: this is how the tests make a real failure. A failed verification then
 * switches traffic back exactly as in the pod: the runner's own switchBack, with a token of the Job's
 * service account (from the TokenRequest API) in the token file it reads, against this API server,
 * so the Role the platform declared must allow the patch.
 */
export async function runTheJobsProgram(pod: KubeObject, task: Record<string, unknown>): Promise<Outcome> {
  const component = pod.metadata.labels?.["app.kubernetes.io/component"];
  let result: RunnerResult;
  if (component === "gate") {
    result = await gateTask(task);
  } else if (component === "verify") {
    const namespace = pod.metadata.namespace ?? "";
    const account = (pod.spec?.["serviceAccountName"] as string | undefined) ?? "default";
    const answer = await apiRequest("POST", `${paths(namespace).serviceAccounts}/${account}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 600 },
    });
    if (answer.status !== 201)
      throw new Error(`a token for ${account}: HTTP ${answer.status} ${answer.text}`);
    const dir = mkdtempSync(join(tmpdir(), "shipgate-e2e-token-"));
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, (answer.body as { status: { token: string } }).status.token, { mode: 0o600 });
    try {
      const apiServer = `https://127.0.0.1:${clusterPorts().apiserver}`;
      result = await verifyTask(task, {
        switchBack: (verify, report) => switchBack(verify, report, apiServerFetch(), apiServer, tokenFile),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    throw new Error(`no runner task for a ${component ?? "unlabelled"} Job's pod ${pod.metadata.name}`);
  }
  return result.verdict === "passed"
    ? { outcome: "succeeded" }
    : { outcome: "failed", message: result.message };
}

// ---------------------------------------------------------------------------------------------
// Stacks of the staging program

const staging = parse(readFileSync(join(root, "stacks/Pulumi.staging.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};
const { tara, bea, carl } = approvers;

export interface KubernetesStack extends ThrowawayStack {
  /** The stack's namespace: its own name, so KWOK waits for the test's word on its Jobs. */
  readonly namespace: string;
  /**
   * Releases a manifest (`1.0.0`, `1.1.0`: the staging ones unless the stack was made with its own),
   * approved, with `up --refresh` and the policy pack. `decide` answers KWOK's Job pods; null when
   * the Jobs' pods really run.
   */
  release(
    version: string,
    decide: Decide | null,
    onEvent?: (event: EngineEvent) => void,
  ): Promise<{ up: UpResult; decided: Decision[] }>;
  /** The same for a release that must fail: the error it failed with (a success fails the test). */
  releaseFailure(version: string, decide: Decide | null): Promise<{ error: Error; decided: Decision[] }>;
  /** `preview` of a staging manifest (no refresh), with the policy pack. */
  preview(version: string): Promise<PreviewResult>;
}

export interface KubernetesStackOptions {
  /** Merged over the staging stack's `shipgate:kubernetes` (the namespace is always the stack's). */
  readonly kubernetes?: Record<string, unknown>;
  /** Replaces the staging stack's `shipgate:services`. */
  readonly services?: Record<string, unknown>;
  /** The manifest of a version, before approval; the staging manifests by default. */
  readonly manifest?: (version: string) => Manifest;
}

/**
 * A throwaway stack with the staging stack's config (`shipgate:kubernetes`, `shipgate:services`), in
 * namespace `<stack name>` (created by the program), on the local cluster's kubeconfig. Manifests
 * are the staging ones (or `options.manifest`'s), signed by the fixtures' approvers, whom the
 * stack's policy config trusts.
 */
export async function createKubernetesStack(options: KubernetesStackOptions = {}): Promise<KubernetesStack> {
  const throwaway = await createThrowawayStack("e2e");
  const { stack, name } = throwaway;
  const namespace = name;
  const workDir = join(root, ".shipgate", name);
  mkdirSync(join(workDir, "manifests"), { recursive: true });
  const policyConfig = join(workDir, "policy-config.json");
  writeFileSync(
    policyConfig,
    JSON.stringify({
      "approvals-verified": { trustedKeys: trustedKeys([tara, bea, carl]) },
      // The stand-in keeps no data; the pack trusts its own config for that, not the stack's.
      "backup-before-stateful-change": { statelessServices: ["sample-app"] },
    }),
  );
  await stack.setAllConfig({
    "shipgate:platform": { value: "kubernetes" },
    "shipgate:kubernetes": {
      value: JSON.stringify({
        ...(staging.config["shipgate:kubernetes"] as object),
        ...options.kubernetes,
        namespace,
      }),
    },
    "shipgate:services": {
      value: JSON.stringify(options.services ?? staging.config["shipgate:services"]),
    },
    // Not a development stack: the program itself verifies the approvals against these keys too.
    "shipgate:policyConfig": { value: policyConfig },
  });
  const useManifest = async (version: string) => {
    const unsigned = options.manifest
      ? options.manifest(version)
      : exampleManifest(`releases/staging/sample-app-${version}.yaml`);
    const manifest = approve(unsigned, [tara, bea, carl]);
    const file = `.shipgate/${name}/manifests/sample-app-${version}.yaml`;
    // JSON is YAML 1.2: the program reads it as the manifest's own YAML.
    writeFileSync(join(root, file), JSON.stringify(manifest, null, 2));
    await stack.setConfig("shipgate:manifest", { value: file });
  };
  const policy = { policyPacks: [policyPackPath], policyPackConfigs: [policyConfig] };
  let disposed = false;
  const release = async (version: string, decide: Decide, onEvent?: (event: EngineEvent) => void) => {
    await useManifest(version);
    const { result, decided } = await whileJobsRun(namespace, decide, () =>
      stack.up({ refresh: true, ...policy, ...(onEvent ? { onEvent } : {}) }),
    );
    return { up: result, decided };
  };
  return {
    ...throwaway,
    namespace,
    async dispose() {
      if (disposed) return;
      disposed = true;
      try {
        // Jobs wait for the test's word: pass whatever still waits, so the destroy can finish.
        await whileJobsRun(namespace, passEverything, () => stack.destroy()).catch((error: unknown) => {
          process.stderr.write(`destroy of ${name} failed: ${(error as Error).message}\n`);
        });
      } finally {
        rmSync(workDir, { recursive: true, force: true });
        await throwaway.dispose();
      }
    },
    release,
    async releaseFailure(version, decide) {
      const { result, decided } = await whileJobsRun(namespace, decide, async () => {
        await useManifest(version);
        return stack.up({ refresh: true, ...policy }).then(
          (up) => new Error(`expected the release of ${version} to fail, but it ${up.summary.result}`),
          (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
        );
      });
      if (result.message.startsWith("expected the release")) throw result;
      return { error: result, decided };
    },
    async preview(version) {
      await useManifest(version);
      return stack.preview(policy);
    },
  };
}
