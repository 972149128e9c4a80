// The local cluster's real node: a kubelet with containerd, runc and the CNI bridge, where pods run
// as real containers. Pod and Service addresses live only inside a network namespace made here
// (`ip netns add`), so nothing the pods do reaches beyond this machine's own namespaces:
//
//   root namespace                              node namespace (shipgate-<offset>)
//   API server 127.0.0.1:<port>                 containerd, kubelet (node IP 10.245.<n>.2)
//   relay 169.254.<n>.1:<port>  <-- veth -->    169.254.<n>.2; bridge sg0 10.244.0.1/24, the pods
//
// The relay (cluster-relay.mjs) is the only way in to the API server; the root namespace has one
// route, to the node IP over the veth pair, so that the API server can reach the kubelet (logs),
// and the node namespace has no default route, so nothing there reaches beyond the veth pair.
// containerd and the kubelet are entered into the namespace with `nsenter --net` (not `ip netns
// exec`, which gives them a mount namespace of their own: the kubelet's volume mounts must be seen
// by containerd). Their files live in .shipgate/cluster/node/; `down` stops the containers, unmounts
// what they mounted and removes the namespace.
//
// Longer than most files here: the node's whole life (network, configuration files, processes,
// images, tear-down) is one sequence that reads best in one place.
//
// Plain Node.js with no dependencies.
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { Resolver } from "node:dns/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { root } from "./engine.mjs";
import { binary } from "./kubernetes-tools.mjs";

/** The real node's name, and the taint that keeps pods off it unless they tolerate it. */
export const realNodeName = "shipgate-node";
export const realNodeTaint = { key: "shipgate.dev/real-node", value: "true", effect: "NoSchedule" };
/** The pods' subnet on the node's bridge; Services get ClusterIPs from 10.96.0.0/16. */
export const podSubnet = "10.244.0.0/24";

/** The system programs the node needs, and the Debian packages that carry them. */
export const nodePackages = [
  { program: "/usr/bin/containerd", pkg: "containerd" },
  { program: "/usr/bin/ctr", pkg: "containerd" },
  { program: "/usr/sbin/runc", pkg: "runc" },
  { program: "/usr/lib/cni/bridge", pkg: "containernetworking-plugins" },
  { program: "/usr/lib/cni/host-local", pkg: "containernetworking-plugins" },
  { program: "/usr/lib/cni/loopback", pkg: "containernetworking-plugins" },
  { program: "/usr/sbin/iptables", pkg: "iptables" },
];

/** The node's network names and addresses, moved by the port offset so two clusters never meet. */
export function nodeNetwork(offset) {
  const n = Math.floor(offset / 100) % 250;
  return {
    netns: `shipgate-${offset}`,
    hostLink: `sg${offset}h`,
    nodeLink: `sg${offset}n`,
    hostAddress: `169.254.${n}.1`,
    nodeLinkAddress: `169.254.${n}.2`,
    nodeIP: `10.245.${n}.2`,
  };
}

export function nodePaths(clusterDir) {
  const dir = join(clusterDir, "node");
  return {
    dir,
    containerdRoot: join(dir, "containerd", "root"),
    containerdState: join(dir, "containerd", "state"),
    containerdConfig: join(dir, "containerd", "config.toml"),
    runcRoot: join(dir, "containerd", "state", "runc"),
    socket: join(dir, "run", "containerd.sock"),
    cniConfDir: join(dir, "cni", "net.d"),
    cniIpamDir: join(dir, "cni", "ipam"),
    kubeletRoot: join(dir, "kubelet"),
    kubeletConfig: join(dir, "kubelet.yaml"),
    kubeletKubeconfig: join(dir, "kubelet.kubeconfig"),
    proxyConfig: join(dir, "kube-proxy.yaml"),
    proxyKubeconfig: join(dir, "kube-proxy.kubeconfig"),
    resolvConf: join(dir, "resolv.conf"),
  };
}

function run(command, args, { allowFail = false } = {}) {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0 && !allowFail) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status}): ${result.stderr.trim()}`);
  }
  return result;
}

/** Programs of the node that are missing, by Debian package. */
export function missingNodePackages() {
  return [...new Set(nodePackages.filter((p) => !existsSync(p.program)).map((p) => p.pkg))];
}

/** The namespace, the veth pair and their addresses; safe to run when they exist already. */
export function ensureNetwork(net) {
  if (process.getuid?.() !== 0) {
    throw new Error("the real node needs root (network namespaces, mounts, containers): run it as root");
  }
  if (!existsSync(`/run/netns/${net.netns}`)) run("ip", ["netns", "add", net.netns]);
  const inNs = (...args) => run("ip", ["-n", net.netns, ...args]);
  if (run("ip", ["link", "show", net.hostLink], { allowFail: true }).status !== 0) {
    run("ip", [
      "link",
      "add",
      net.hostLink,
      "type",
      "veth",
      "peer",
      "name",
      net.nodeLink,
      "netns",
      net.netns,
    ]);
  }
  const hostAddresses = run("ip", ["-o", "addr", "show", "dev", net.hostLink]).stdout;
  if (!hostAddresses.includes(`${net.hostAddress}/`)) {
    run("ip", ["addr", "add", `${net.hostAddress}/30`, "dev", net.hostLink]);
  }
  run("ip", ["link", "set", net.hostLink, "up"]);
  const nodeAddresses = inNs("-o", "addr", "show", "dev", net.nodeLink).stdout;
  if (!nodeAddresses.includes(`${net.nodeLinkAddress}/`)) {
    inNs("addr", "add", `${net.nodeLinkAddress}/30`, "dev", net.nodeLink);
  }
  if (!nodeAddresses.includes(`${net.nodeIP}/`)) inNs("addr", "add", `${net.nodeIP}/32`, "dev", net.nodeLink);
  inNs("link", "set", net.nodeLink, "up");
  inNs("link", "set", "lo", "up");
  // Services' ClusterIPs, for processes in the namespace itself (a load from inside): a route lets
  // the connection start, and kube-proxy's rules then rewrite it to a pod; an address no Service
  // holds goes to the namespace's own loopback and nowhere else.
  inNs("route", "replace", "10.96.0.0/16", "dev", "lo");
  // The API server answers the kubelet's node IP from the relay's address over the veth pair.
  run("ip", ["route", "replace", `${net.nodeIP}/32`, "dev", net.hostLink, "src", net.hostAddress]);
  // Inside the namespace only: the bridge forwards between pods, kube-proxy's rules route Services.
  run("ip", ["netns", "exec", net.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
}

export function removeNetwork(net) {
  run("ip", ["route", "del", `${net.nodeIP}/32`, "dev", net.hostLink], { allowFail: true });
  run("ip", ["link", "del", net.hostLink], { allowFail: true });
  if (existsSync(`/run/netns/${net.netns}`)) run("ip", ["netns", "del", net.netns], { allowFail: true });
}

/** containerd's, the CNI's and the kubelet's configuration files. */
export function writeNodeFiles(paths, net, { apiserverPort, pki, kubeconfig }) {
  for (const dir of [paths.containerdRoot, paths.containerdState, paths.cniConfDir, paths.cniIpamDir]) {
    mkdirSync(dir, { recursive: true });
  }
  mkdirSync(join(paths.dir, "run"), { recursive: true });
  mkdirSync(paths.kubeletRoot, { recursive: true });
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  writeFileSync(
    paths.containerdConfig,
    [
      "version = 2",
      `root = ${JSON.stringify(paths.containerdRoot)}`,
      `state = ${JSON.stringify(paths.containerdState)}`,
      // Plugins that would reach outside the node's own folders (/opt/containerd) or need what
      // this machine does not have.
      'disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", ' +
        '"io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", ' +
        '"io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing", ' +
        '"io.containerd.tracing.processor.v1.otlp"]',
      "[grpc]",
      `  address = ${JSON.stringify(paths.socket)}`,
      "[ttrpc]",
      `  address = ${JSON.stringify(`${paths.socket}.ttrpc`)}`,
      "[debug]",
      '  address = ""',
      "[metrics]",
      '  address = ""',
      `[${cri}]`,
      `  sandbox_image = ${JSON.stringify(pauseImageName)}`,
      // Pods' network namespaces under the state folder, not /var/run/netns, so `down` finds them.
      "  netns_mounts_under_state_dir = true",
      // Lowering a process's OOM score needs CAP_SYS_RESOURCE, which a container-hosted machine
      // may not grant; the sandbox's -998 then fails every pod. Restricted, scores never go below
      // containerd's own.
      "  restrict_oom_score_adj = true",
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      `[${cri}.containerd]`,
      '  snapshotter = "overlayfs"',
      '  default_runtime_name = "runc"',
      `[${cri}.containerd.runtimes.runc]`,
      '  runtime_type = "io.containerd.runc.v2"',
      `[${cri}.containerd.runtimes.runc.options]`,
      '  BinaryName = "/usr/sbin/runc"',
      `  Root = ${JSON.stringify(paths.runcRoot)}`,
      "  SystemdCgroup = false",
      `[${cri}.cni]`,
      '  bin_dir = "/usr/lib/cni"',
      `  conf_dir = ${JSON.stringify(paths.cniConfDir)}`,
      "  max_conf_num = 1",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(paths.cniConfDir, "10-shipgate.conflist"),
    `${JSON.stringify(
      {
        cniVersion: "0.4.0",
        name: "shipgate",
        plugins: [
          {
            type: "bridge",
            bridge: "sg0",
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: "host-local",
              dataDir: paths.cniIpamDir,
              ranges: [[{ subnet: podSubnet, gateway: "10.244.0.1" }]],
              routes: [{ dst: "0.0.0.0/0" }],
            },
          },
        ],
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    paths.kubeletKubeconfig,
    kubeconfig({
      server: `https://${net.hostAddress}:${apiserverPort}`,
      // The relay passes TLS through, so the API server's loopback certificate is what answers.
      serverName: "localhost",
      client: "kubelet",
    }),
    { mode: 0o600 },
  );
  writeFileSync(
    paths.proxyKubeconfig,
    kubeconfig({
      server: `https://${net.hostAddress}:${apiserverPort}`,
      serverName: "localhost",
      client: "kube-proxy",
    }),
    { mode: 0o600 },
  );
  // Services' ClusterIPs, as iptables rules inside the node's namespace. masqueradeAll: without
  // br_netfilter in every namespace, a pod that reaches a Service backed by a pod on the same
  // bridge must see the answer come back through the namespace's stack, not straight over the
  // bridge. conntrack sizes are global to the machine: left alone (0).
  writeFileSync(
    paths.proxyConfig,
    [
      "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
      "kind: KubeProxyConfiguration",
      "mode: iptables",
      `clientConnection: {kubeconfig: ${JSON.stringify(paths.proxyKubeconfig)}}`,
      `hostnameOverride: ${realNodeName}`,
      `clusterCIDR: ${podSubnet}`,
      "healthzBindAddress: 127.0.0.1:10256",
      "metricsBindAddress: 127.0.0.1:10249",
      "conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}",
      "iptables: {masqueradeAll: true, syncPeriod: 5s, minSyncPeriod: 0s}",
      "",
    ].join("\n"),
  );
  writeFileSync(paths.resolvConf, `nameserver ${net.nodeIP}\n`);
  writeFileSync(
    paths.kubeletConfig,
    [
      "apiVersion: kubelet.config.k8s.io/v1beta1",
      "kind: KubeletConfiguration",
      `address: ${net.nodeIP}`,
      "port: 10250",
      "healthzBindAddress: 127.0.0.1",
      "healthzPort: 10248",
      "readOnlyPort: 0",
      "authentication:",
      "  anonymous: {enabled: false}",
      "  webhook: {enabled: false}",
      `  x509: {clientCAFile: ${JSON.stringify(pki("ca.crt"))}}`,
      "authorization: {mode: AlwaysAllow}",
      "cgroupDriver: cgroupfs",
      `cgroupRoot: /${net.netns}`,
      `containerRuntimeEndpoint: unix://${paths.socket}`,
      "failSwapOn: false",
      "clusterDomain: cluster.local",
      `clusterDNS: [${net.nodeIP}]`,
      `resolvConf: ${JSON.stringify(paths.resolvConf)}`,
      // A test node on a shared disk: never evict or collect images because the disk fills.
      'evictionHard: {memory.available: "0%", nodefs.available: "0%", imagefs.available: "0%", nodefs.inodesFree: "0%"}',
      "imageGCHighThresholdPercent: 100",
      "imageGCLowThresholdPercent: 99",
      "serializeImagePulls: false",
      "maxPods: 40",
      "registerNode: true",
      "registerWithTaints:",
      `- {key: ${realNodeTaint.key}, value: "${realNodeTaint.value}", effect: ${realNodeTaint.effect}}`,
      "makeIPTablesUtilChains: false",
      `podLogsDir: ${JSON.stringify(join(paths.dir, "pod-logs"))}`,
      "localStorageCapacityIsolation: false",
      "",
    ].join("\n"),
  );
}

export const pauseImageName = "shipgate.local/pause:1";

/** The node's processes, each entered into the node's namespace (the relay stays outside). */
export function nodeComponents(paths, net, { apiserverPort, pki }) {
  const inNs = (command, args) => ({
    command: "nsenter",
    args: [`--net=/run/netns/${net.netns}`, "--", command, ...args],
  });
  return [
    {
      name: "apiserver-relay",
      command: process.execPath,
      args: [
        join(root, "scripts", "lib", "cluster-relay.mjs"),
        net.hostAddress,
        String(apiserverPort),
        String(apiserverPort),
      ],
      probe: () => tcpOpen(net.hostAddress, apiserverPort),
      what: `127.0.0.1:${apiserverPort} on ${net.hostAddress}`,
    },
    {
      name: "pod-apiserver-relay",
      ...inNs(process.execPath, [
        join(root, "scripts", "lib", "cluster-relay.mjs"),
        net.nodeIP,
        String(apiserverPort),
        String(apiserverPort),
        net.hostAddress,
      ]),
      probe: () => tcpOpen(net.nodeIP, apiserverPort),
      what: `the API server for pods, on ${net.nodeIP}:${apiserverPort} in the node's namespace`,
    },
    {
      name: "containerd",
      ...inNs("/usr/bin/containerd", ["--config", paths.containerdConfig]),
      probe: async () => ctr(paths, ["version"], { allowFail: true }).status === 0,
      what: paths.socket,
    },
    {
      name: "kubelet",
      ...inNs(binary("node", "kubelet"), [
        `--config=${paths.kubeletConfig}`,
        `--kubeconfig=${paths.kubeletKubeconfig}`,
        `--root-dir=${paths.kubeletRoot}`,
        `--hostname-override=${realNodeName}`,
        `--node-ip=${net.nodeIP}`,
      ]),
      // The kubelet's health endpoint is inside the namespace; the node's Ready condition says more.
      probe: undefined,
      what: `node ${realNodeName}`,
    },
    {
      name: "cluster-dns",
      // kube-proxy's identity may read Services, which is all the DNS needs.
      ...inNs(process.execPath, [
        join(root, "scripts", "lib", "cluster-dns.mjs"),
        net.nodeIP,
        `https://${net.hostAddress}:${apiserverPort}`,
        pki("ca.crt"),
        pki("kube-proxy.crt"),
        pki("kube-proxy.key"),
      ]),
      probe: async () => {
        const resolver = new Resolver({ timeout: 1000, tries: 1 });
        resolver.setServers([net.nodeIP]);
        // Any answer at all (NXDOMAIN included) says it serves.
        return resolver.resolve4("shipgate-probe.default.svc.cluster.local").then(
          () => true,
          (error) => error.code === "ENOTFOUND",
        );
      },
      what: `${net.nodeIP}:53 (Services' names)`,
    },
    {
      name: "kube-proxy",
      ...inNs(binary("node", "kube-proxy"), [`--config=${paths.proxyConfig}`]),
      // Ready once its first sync wrote the Services chain into the namespace's nat table.
      probe: async () =>
        run("ip", ["netns", "exec", net.netns, "iptables", "-t", "nat", "-S", "KUBE-SERVICES"], {
          allowFail: true,
        }).status === 0,
      what: "Services' ClusterIPs (iptables in the node's namespace)",
    },
  ];
}

function tcpOpen(host, port) {
  return new Promise((resolveOpen) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000);
    socket.once("connect", () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolveOpen(false);
    });
    socket.once("error", () => resolveOpen(false));
  });
}

/** `ctr` against the node's containerd, in the Kubernetes namespace of its images and containers. */
export function ctr(paths, args, options) {
  return run("ctr", ["--address", paths.socket, "--namespace", "k8s.io", ...args], options);
}

/** Imports an OCI archive into the node's containerd (unpacked for the overlayfs snapshotter). */
export function importImage(paths, archive) {
  ctr(paths, ["images", "import", "--snapshotter", "overlayfs", archive]);
}

/** The names of images containerd holds. */
export function imageNames(paths) {
  return ctr(paths, ["images", "ls", "-q"]).stdout.split("\n").filter(Boolean);
}

/** Stops every container of the node (runc directly: containerd may be gone already). */
export function killContainers(paths, log) {
  if (!existsSync(paths.runcRoot)) return;
  for (const namespace of readdirSync(paths.runcRoot)) {
    const runcRoot = join(paths.runcRoot, namespace);
    const listed = run("runc", ["--root", runcRoot, "list", "-q"], { allowFail: true });
    const ids = listed.stdout.split("\n").filter(Boolean);
    for (const id of ids) {
      run("runc", ["--root", runcRoot, "kill", id, "KILL"], { allowFail: true });
      run("runc", ["--root", runcRoot, "delete", "--force", id], { allowFail: true });
    }
    if (ids.length > 0) log(`stopped ${ids.length} containers`);
  }
}

/** Unmounts, deepest first, everything mounted under the node's folder (rootfs, shm, netns, volumes). */
export function unmountAll(paths, log) {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point) => point && (point === paths.dir || point.startsWith(`${paths.dir}/`)))
    .map((point) => point.replace(/\\040/g, " "));
  mounts.sort((a, b) => b.length - a.length);
  for (const point of mounts) run("umount", ["--lazy", point], { allowFail: true });
  if (mounts.length > 0) log(`unmounted ${mounts.length} mounts under ${paths.dir}`);
}

/** Removes the node's cgroups (its pods' and its own root), deepest first, once no process is in them. */
export function removeCgroups(net) {
  const base = "/sys/fs/cgroup";
  if (!existsSync(base)) return;
  const remove = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) remove(join(dir, entry.name));
    }
    try {
      rmdirSync(dir);
    } catch {
      // still in use or not a cgroup folder: leave it
    }
  };
  for (const hierarchy of readdirSync(base)) {
    const own = join(base, hierarchy, net.netns);
    if (existsSync(own)) remove(own);
  }
}

/**
 * The node's cgroup root (/<namespace name> in every hierarchy), made before the kubelet starts (it
 * refuses a root that does not exist), so the node's pods sit apart from anything else's.
 */
export function ensureCgroupRoot(net) {
  const base = "/sys/fs/cgroup";
  if (!existsSync(base)) return;
  for (const hierarchy of readdirSync(base, { withFileTypes: true })) {
    if (!hierarchy.isDirectory() && !hierarchy.isSymbolicLink()) continue;
    const own = join(base, hierarchy.name, net.netns);
    mkdirSync(own, { recursive: true });
    // A new cpuset cgroup starts with no CPUs and no memory nodes: give it the machine's.
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      const mine = join(own, file);
      if (existsSync(mine) && readFileSync(mine, "utf8").trim() === "") {
        writeFileSync(mine, readFileSync(join(base, hierarchy.name, file), "utf8"));
      }
    }
  }
}

/**
 * Removes the links the kubelet keeps in /var/log/containers (a fixed place) to the node's pod logs;
 * links of anything else stay.
 */
export function removeLogLinks(paths) {
  const dir = "/var/log/containers";
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const link = join(dir, entry);
    try {
      if (readlinkSync(link).startsWith(`${paths.dir}/`)) unlinkSync(link);
    } catch {
      // not a link, or gone already
    }
  }
}

/** Clears what only the running node meant: containers' state, address leases. */
export function clearRunState(paths) {
  rmSync(paths.containerdState, { recursive: true, force: true });
  rmSync(paths.cniIpamDir, { recursive: true, force: true });
  rmSync(join(paths.dir, "run"), { recursive: true, force: true });
}

export function runQuiet(command, args) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
}
