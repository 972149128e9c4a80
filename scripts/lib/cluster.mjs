// A local Kubernetes control plane for the kubernetes platform's end-to-end tests and for trying the
// staging stack: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (which plays
// the kubelet of one simulated node: pods get Ready and an IP, no container runs), and a real node
// whose pods run as containers inside a network namespace of its own (cluster-node.mjs), from the
// binaries `node scripts/setup.mjs --kubernetes` builds. Everything listens on 127.0.0.1 only, every
// connection is TLS with client certificates from a CA made here, and every process is started
// detached, recorded by pid (with its start time, so a reused pid is never signalled) and stopped by
// that pid. Files live in .shipgate/cluster/ (git-ignored); etcd's data survives `down` and `up`.
//
// Certificates and kubeconfigs are made in cluster-pki.mjs. Longer than most files here: the control
// plane's processes and the order in which up and down bring the control plane and the real node
// (cluster-node.mjs) together are one story.
//
// Plain Node.js with no dependencies.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  clearRunState,
  ensureCgroupRoot,
  ensureNetwork,
  imageNames,
  importImage,
  killContainers,
  nodeComponents,
  nodeNetwork,
  nodePaths,
  pauseImageName,
  realNodeName,
  realNodeTaint,
  removeCgroups,
  removeLogLinks,
  removeNetwork,
  runQuiet,
  unmountAll,
  writeNodeFiles,
} from "./cluster-node.mjs";
import {
  clusterDir,
  contextName,
  ensureNodePki,
  ensurePki,
  kubeconfig,
  kubeconfigPath,
  pkiDir,
  writeKubeconfigs,
} from "./cluster-pki.mjs";
import { root } from "./engine.mjs";
import { ensureImages } from "./images.mjs";
import { binary, missingTools } from "./kubernetes-tools.mjs";

export { clusterDir, contextName, ensurePki, kubeconfigPath } from "./cluster-pki.mjs";

const runDir = join(clusterDir, "run");
const logDir = join(clusterDir, "logs");
/** The simulated node that kwok manages (it picks nodes by this annotation). */
export const nodeName = "kwok-node-0";
const kwokAnnotation = "kwok.x-k8s.io/node";
/** KWOK's stages: how simulated nodes and pods move on (tools/cluster/kwok-stages.yaml). */
const stagesFile = join(root, "tools", "cluster", "kwok-stages.yaml");

/**
 * The ports, moved by SHIPGATE_TEST_PORT_OFFSET like the end-to-end tests' ports, so two checkouts
 * on one machine can each run a cluster.
 */
export function portOffset(env = process.env) {
  const offset = Number(env.SHIPGATE_TEST_PORT_OFFSET ?? "0");
  if (!Number.isInteger(offset) || offset < 0 || offset > 20_000) {
    throw new Error(
      `SHIPGATE_TEST_PORT_OFFSET must be a whole number from 0 to 20000, got ${JSON.stringify(env.SHIPGATE_TEST_PORT_OFFSET)}`,
    );
  }
  return offset;
}

/**
 * The control plane's ports, below the kernel's ephemeral range (32768 and up on Linux) at offset 0:
 * a port in that range can be held for a while as the local end of any outgoing connection (an
 * engine's gRPC channel, a keep-alive pool), and kwok once failed to listen on 35300 so.
 */
export function clusterPorts(env = process.env) {
  const offset = portOffset(env);
  return {
    etcdClient: 31379 + offset,
    etcdPeer: 31380 + offset,
    apiserver: 31443 + offset,
    controllerManager: 31257 + offset,
    scheduler: 31259 + offset,
    kwok: 31300 + offset,
  };
}

// ---------------------------------------------------------------- the processes

function components(ports) {
  const pki = (file) => join(pkiDir, file);
  const kc = (client) => join(clusterDir, `${client}.kubeconfig`);
  const delegated = (client) => [
    `--kubeconfig=${kc(client)}`,
    `--authentication-kubeconfig=${kc(client)}`,
    `--authorization-kubeconfig=${kc(client)}`,
    "--bind-address=127.0.0.1",
    `--tls-cert-file=${pki(`${client}-serving.crt`)}`,
    `--tls-private-key-file=${pki(`${client}-serving.key`)}`,
    "--leader-elect=false",
    "--profiling=false",
  ];
  return [
    {
      name: "etcd",
      command: binary("etcd", "etcd"),
      args: [
        "--name=shipgate",
        `--data-dir=${join(clusterDir, "etcd")}`,
        `--listen-client-urls=https://127.0.0.1:${ports.etcdClient}`,
        `--advertise-client-urls=https://127.0.0.1:${ports.etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=shipgate=http://127.0.0.1:${ports.etcdPeer}`,
        `--cert-file=${pki("etcd.crt")}`,
        `--key-file=${pki("etcd.key")}`,
        `--trusted-ca-file=${pki("ca.crt")}`,
        "--client-cert-auth=true",
        // A throwaway test store on a shared machine: skipping fsync keeps it fast under load.
        "--unsafe-no-fsync=true",
        "--quota-backend-bytes=1073741824",
      ],
      ready: { url: `https://127.0.0.1:${ports.etcdClient}/health`, cert: "admin", body: /"health":"true"/ },
    },
    {
      name: "kube-apiserver",
      command: binary("kubernetes", "kube-apiserver"),
      args: [
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${ports.apiserver}`,
        `--etcd-servers=https://127.0.0.1:${ports.etcdClient}`,
        `--etcd-cafile=${pki("ca.crt")}`,
        `--etcd-certfile=${pki("apiserver-etcd-client.crt")}`,
        `--etcd-keyfile=${pki("apiserver-etcd-client.key")}`,
        `--tls-cert-file=${pki("apiserver.crt")}`,
        `--tls-private-key-file=${pki("apiserver.key")}`,
        `--client-ca-file=${pki("ca.crt")}`,
        "--anonymous-auth=false",
        "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${pki("sa.pub")}`,
        `--service-account-signing-key-file=${pki("sa.key")}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        // The `kubernetes` Service's endpoints would be 127.0.0.1, which Endpoints refuse: the
        // script writes its EndpointSlice itself, naming the relay inside the real node's namespace.
        "--endpoint-reconciler-type=none",
        // The API server reaches the real node's kubelet (logs, exec) with this certificate.
        `--kubelet-client-certificate=${pki("apiserver-kubelet-client.crt")}`,
        `--kubelet-client-key=${pki("apiserver-kubelet-client.key")}`,
        // By its address: the node's name means nothing to this machine's resolver.
        "--kubelet-preferred-address-types=InternalIP",
        "--profiling=false",
      ],
      ready: { url: `https://127.0.0.1:${ports.apiserver}/readyz`, cert: "admin", body: /^ok$/ },
    },
    {
      name: "kube-controller-manager",
      command: binary("kubernetes", "kube-controller-manager"),
      args: [
        ...delegated("controller-manager"),
        `--secure-port=${ports.controllerManager}`,
        `--service-account-private-key-file=${pki("sa.key")}`,
        `--root-ca-file=${pki("ca.crt")}`,
        "--use-service-account-credentials=true",
        "--service-cluster-ip-range=10.96.0.0/16",
      ],
      ready: { url: `https://127.0.0.1:${ports.controllerManager}/healthz`, body: /^ok$/ },
    },
    {
      name: "kube-scheduler",
      command: binary("kubernetes", "kube-scheduler"),
      args: [...delegated("scheduler"), `--secure-port=${ports.scheduler}`],
      ready: { url: `https://127.0.0.1:${ports.scheduler}/healthz`, body: /^ok$/ },
    },
    {
      name: "kwok",
      command: binary("kwok", "kwok"),
      args: [
        `--kubeconfig=${kc("kwok")}`,
        `--config=${stagesFile}`,
        "--manage-all-nodes=false",
        `--manage-nodes-with-annotation-selector=${kwokAnnotation}=fake`,
        "--node-ip=127.0.0.1",
        "--cidr=10.244.0.1/16",
        "--node-lease-duration-seconds=40",
        `--server-address=127.0.0.1:${ports.kwok}`,
      ],
      ready: { url: `http://127.0.0.1:${ports.kwok}/healthz`, body: /ok/ },
    },
  ];
}

const pidFile = (name) => join(runDir, `${name}.json`);

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
function startTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** The recorded process of a component when it still runs (same pid and start time), else null. */
function running(name) {
  if (!existsSync(pidFile(name))) return null;
  const record = JSON.parse(readFileSync(pidFile(name), "utf8"));
  const ticks = startTicks(record.pid);
  return ticks !== null && ticks === record.startTicks ? record : null;
}

function start(component) {
  mkdirSync(logDir, { recursive: true });
  mkdirSync(runDir, { recursive: true });
  const logPath = join(logDir, `${component.name}.log`);
  const out = openSync(logPath, "a");
  const child = spawn(component.command, component.args, {
    cwd: clusterDir,
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  child.unref();
  const record = { pid: child.pid, startTicks: startTicks(child.pid), command: component.command, logPath };
  writeFileSync(pidFile(component.name), `${JSON.stringify(record, null, 2)}\n`);
  return { record, child };
}

/** One GET over TLS with a client certificate (or none) against the cluster CA. */
function get(url, { cert, timeoutMs = 5000 } = {}) {
  return new Promise((resolveGet, reject) => {
    const tls = url.startsWith("https:");
    const options = {
      timeout: timeoutMs,
      ...(tls ? { ca: readFileSync(join(pkiDir, "ca.crt")) } : {}),
      ...(tls && cert
        ? { cert: readFileSync(join(pkiDir, `${cert}.crt`)), key: readFileSync(join(pkiDir, `${cert}.key`)) }
        : {}),
    };
    const req = (tls ? request : httpRequest)(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolveGet({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Requests the API server as the admin (or, with `token`, as whoever the bearer token names), with a
 * JSON body when given (a PATCH body is a JSON merge patch).
 */
export function apiRequest(method, path, body, { token } = {}) {
  const { apiserver } = clusterPorts();
  return new Promise((resolveRequest, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `https://127.0.0.1:${apiserver}${path}`,
      {
        method,
        ca: readFileSync(join(pkiDir, "ca.crt")),
        ...(token
          ? {}
          : { cert: readFileSync(join(pkiDir, "admin.crt")), key: readFileSync(join(pkiDir, "admin.key")) }),
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload
            ? {
                "content-type": method === "PATCH" ? "application/merge-patch+json" : "application/json",
                "content-length": Buffer.byteLength(payload),
              }
            : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolveRequest({ status: res.statusCode, body: json, text });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * Polls until `probe` returns a truthy value, the process it waits for has exited (then the error
 * names its log), or `timeoutMs` passes. The pause between tries grows from 100 ms to 1 s.
 */
async function waitFor(what, probe, { timeoutMs = 120_000, exited, logPath } = {}) {
  const deadline = Date.now() + timeoutMs;
  let pause = 100;
  let lastError = "";
  for (;;) {
    if (exited?.()) {
      throw new Error(`${what}: the process exited before it was ready; see ${logPath}:\n${tail(logPath)}`);
    }
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error.message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} was not ready after ${timeoutMs / 1000} s${lastError ? ` (${lastError})` : ""}` +
          (logPath ? `; see ${logPath}:\n${tail(logPath)}` : ""),
      );
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 1000);
  }
}

function tail(path, lines = 15) {
  if (!path || !existsSync(path)) return "";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

async function healthy(component) {
  if (component.probe) return component.probe();
  const { status, body } = await get(component.ready.url, { cert: component.ready.cert });
  return status === 200 && component.ready.body.test(body.trim());
}

/** The simulated node, registered once; kwok makes it Ready. */
async function ensureNode() {
  const existing = await apiRequest("GET", `/api/v1/nodes/${nodeName}`);
  if (existing.status === 404) {
    const created = await apiRequest("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: nodeName,
        annotations: { [kwokAnnotation]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          "kubernetes.io/hostname": nodeName,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          type: "kwok",
        },
      },
      spec: {},
      status: {
        allocatable: { cpu: "32", memory: "64Gi", pods: "110" },
        capacity: { cpu: "32", memory: "64Gi", pods: "110" },
      },
    });
    if (created.status !== 201 && created.status !== 409) {
      throw new Error(`registering the simulated node failed: ${created.status} ${created.text}`);
    }
  }
  await waitFor(`node ${nodeName} Ready`, async () => {
    const node = await apiRequest("GET", `/api/v1/nodes/${nodeName}`);
    const ready = node.body?.status?.conditions?.find((c) => c.type === "Ready");
    return ready?.status === "True";
  });
}

/** The real node's network, folders and processes, for this checkout's port offset. */
function realNode() {
  const net = nodeNetwork(portOffset());
  const paths = nodePaths(clusterDir);
  const nodeLog = join(logDir, "kubelet.log");
  const list = nodeComponents(paths, net, {
    apiserverPort: clusterPorts().apiserver,
    pki: (file) => join(pkiDir, file),
  }).map((component) => (component.probe ? component : { ...component, probe: realNodeReady }));
  return { net, paths, components: list, nodeLog };
}

async function realNodeReady() {
  const node = await apiRequest("GET", `/api/v1/nodes/${realNodeName}`);
  return node.body?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
}

/** Imports the images the node runs (the pod sandbox's first) that containerd does not hold yet. */
async function importNodeImages(paths, log) {
  const images = await ensureImages({ log });
  const held = new Set(imageNames(paths));
  for (const image of images) {
    if (held.has(image.reference)) continue;
    importImage(paths, image.archive);
    log(`imported ${image.reference}`);
  }
  if (!imageNames(paths).includes(pauseImageName)) {
    throw new Error(`the node's containerd does not hold ${pauseImageName} after the import`);
  }
}

/** Starts one component unless it runs and answers; waits until it answers. */
async function ensureComponent(component, log, started, t) {
  let record = running(component.name);
  if (record && (await healthy(component).catch(() => false))) return;
  if (record) {
    // It runs but does not answer (a crash loop, a port taken): start it afresh.
    await stopProcess(component.name, log);
  }
  log(`starting ${component.name}`);
  const { record: fresh, child } = start(component);
  record = fresh;
  let exited = false;
  child.once("exit", () => (exited = true));
  await waitFor(component.name, () => healthy(component), {
    exited: () => exited,
    logPath: record.logPath,
    timeoutMs: component.timeoutMs ?? 120_000,
  });
  started.push(component.name);
  log(`${component.name} ready (pid ${record.pid}, ${((Date.now() - t) / 1000).toFixed(1)}s)`);
}

/** The real node: namespace, files, relay, containerd, images, kubelet, until the node is Ready. */
async function upRealNode(log, started, t) {
  const ports = clusterPorts();
  const { net, paths, components: list } = realNode();
  ensureNetwork(net);
  ensureCgroupRoot(net);
  writeNodeFiles(paths, net, {
    apiserverPort: ports.apiserver,
    pki: (file) => join(pkiDir, file),
    kubeconfig: ({ server, serverName, client }) =>
      kubeconfig(client, ports.apiserver, { server, serverName }),
  });
  for (const component of list) {
    if (component.name === "kubelet") await importNodeImages(paths, log);
    await ensureComponent({ ...component, timeoutMs: 180_000 }, log, started, t);
  }
  await ensureKubernetesEndpoints(net, ports.apiserver);
  // The kubelet taints the node only when it registers it; a node kept from an earlier run is
  // tainted here, so that only pods that ask for the real node land on it.
  const node = await apiRequest("GET", `/api/v1/nodes/${realNodeName}`);
  const taints = node.body?.spec?.taints ?? [];
  if (!taints.some((taint) => taint.key === realNodeTaint.key)) {
    const patched = await apiRequest("PATCH", `/api/v1/nodes/${realNodeName}`, {
      spec: { taints: [...taints, realNodeTaint] },
    });
    if (patched.status !== 200) throw new Error(`tainting node ${realNodeName} failed: ${patched.text}`);
  }
}

/**
 * The `kubernetes` Service's one endpoint: the relay on the node IP, so that a pod with a service
 * account (the verification Job switching traffic back) reaches the API server at 10.96.0.1:443.
 */
async function ensureKubernetesEndpoints(net, apiserverPort) {
  const path = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
  const slice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { "kubernetes.io/service-name": "kubernetes" },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [net.nodeIP], conditions: { ready: true } }],
    ports: [{ name: "https", port: apiserverPort, protocol: "TCP" }],
  };
  const existing = await apiRequest("GET", `${path}/kubernetes`);
  const answer =
    existing.status === 404
      ? await apiRequest("POST", path, slice)
      : await apiRequest("PUT", `${path}/kubernetes`, {
          ...slice,
          metadata: { ...slice.metadata, resourceVersion: existing.body?.metadata?.resourceVersion },
        });
  if (answer.status !== 200 && answer.status !== 201) {
    throw new Error(`writing the kubernetes Service's EndpointSlice failed: ${answer.status} ${answer.text}`);
  }
}

/** Stops the real node and removes what it made: containers, mounts, cgroups, the namespace. */
async function downRealNode(log) {
  const { net, paths, components: list } = realNode();
  const stopped = [];
  for (const component of [...list].reverse()) {
    if (component.name === "containerd") killContainers(paths, log);
    if (await stopProcess(component.name, log)) stopped.push(component.name);
  }
  // The runtime's shims are the namespace's last processes once containerd is gone.
  if (existsSync(`/run/netns/${net.netns}`)) {
    for (const pid of runQuiet("ip", ["netns", "pids", net.netns]).split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
  unmountAll(paths, log);
  removeLogLinks(paths);
  removeCgroups(net);
  clearRunState(paths);
  removeNetwork(net);
  return stopped;
}

/** What runs now: each component with its pid (or null) and whether its health endpoint answers. */
export async function status() {
  const ports = clusterPorts();
  const result = [];
  for (const component of [...components(ports), ...realNode().components]) {
    const record = running(component.name);
    let ok = false;
    if (record && existsSync(join(pkiDir, "complete"))) ok = await healthy(component).catch(() => false);
    result.push({
      name: component.name,
      pid: record?.pid ?? null,
      healthy: ok,
      url: component.ready?.url ?? component.what,
    });
  }
  return result;
}

/**
 * Starts what is not running, waits for each to be ready (health endpoints, then the node), and
 * returns the names it started (empty when the cluster was already up).
 */
export async function up({ log = () => {} } = {}) {
  // The provider plugin is the engine's business, not the cluster's.
  const missing = missingTools().filter((spec) => spec.name !== "provider");
  if (missing.length > 0) {
    throw new Error(
      `the local cluster's programs are not built (${missing.map((s) => s.name).join(", ")}): ` +
        "run `node scripts/setup.mjs --kubernetes` first (npm test does it).",
    );
  }
  const ports = clusterPorts();
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  ensurePki();
  ensureNodePki();
  writeKubeconfigs(ports);
  const started = [];
  const t = Date.now();
  for (const component of components(ports)) await ensureComponent(component, log, started, t);
  await ensureNode();
  await upRealNode(log, started, t);
  log(`cluster up: kubeconfig ${kubeconfigPath} (context ${contextName})`);
  return started;
}

async function stopProcess(name, log) {
  const record = running(name);
  if (!record) {
    rmSync(pidFile(name), { force: true });
    return false;
  }
  process.kill(record.pid, "SIGTERM");
  try {
    await waitFor(`${name} to exit`, () => running(name) === null, { timeoutMs: 20_000 });
  } catch {
    log(`${name} (pid ${record.pid}) did not exit on SIGTERM in 20 s; killing it`);
    process.kill(record.pid, "SIGKILL");
    await waitFor(`${name} to exit after SIGKILL`, () => running(name) === null, { timeoutMs: 10_000 });
  }
  rmSync(pidFile(name), { force: true });
  log(`stopped ${name} (pid ${record.pid})`);
  return true;
}

/** Stops every recorded process, the node agent first and the store last; keeps the data. */
export async function down({ log = () => {}, purge = false } = {}) {
  const stopped = await downRealNode(log);
  for (const component of components(clusterPorts()).reverse()) {
    if (await stopProcess(component.name, log)) stopped.push(component.name);
  }
  if (purge) {
    rmSync(join(clusterDir, "etcd"), { recursive: true, force: true });
    rmSync(nodePaths(clusterDir).dir, { recursive: true, force: true });
    log("removed the cluster's data (etcd, the node's images and containers)");
  }
  return stopped;
}
