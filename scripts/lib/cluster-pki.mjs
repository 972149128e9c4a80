// The local cluster's certificates and kubeconfigs: a CA made here with openssl, a serving
// certificate for every control-plane process on 127.0.0.1, client certificates for each component
// and the admin, the service-account key pair, and one kubeconfig per client. Files live in
// .shipgate/cluster/pki (0700) and .shipgate/cluster/*.kubeconfig (0600); they are made once and
// kept until `npm run cluster -- down --purge`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { realNodeName } from "./cluster-node.mjs";
import { root } from "./engine.mjs";

export const clusterDir = join(root, ".shipgate", "cluster");
export const pkiDir = join(clusterDir, "pki");
/** The admin kubeconfig; stacks/Pulumi.staging.yaml points here (shipgate:kubernetes.kubeconfig). */
export const kubeconfigPath = join(clusterDir, "kubeconfig");
export const contextName = "shipgate-local";

function openssl(args) {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Issues a key and a certificate signed by the cluster CA (P-256, valid for a year). */
function issue(name, subject, { sans, usage }) {
  const key = join(pkiDir, `${name}.key`);
  const csr = join(pkiDir, `${name}.csr`);
  const ext = join(pkiDir, `${name}.ext`);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  openssl(["req", "-new", "-key", key, "-subj", subject, "-out", csr]);
  const lines = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${usage}`,
  ];
  if (sans) lines.push(`subjectAltName=${sans}`);
  writeFileSync(ext, `${lines.join("\n")}\n`);
  openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    join(pkiDir, "ca.crt"),
    "-CAkey",
    join(pkiDir, "ca.key"),
    "-CAcreateserial",
    "-days",
    "365",
    "-sha256",
    "-extfile",
    ext,
    "-out",
    join(pkiDir, `${name}.crt`),
  ]);
  rmSync(csr);
  rmSync(ext);
}

const loopbackSans = "IP:127.0.0.1,DNS:localhost";
const clients = {
  admin: "/O=system:masters/CN=shipgate-admin",
  "controller-manager": "/CN=system:kube-controller-manager",
  scheduler: "/CN=system:kube-scheduler",
  // kwok updates every simulated node's and pod's status, which no narrower built-in role allows.
  kwok: "/O=system:masters/CN=kwok",
  "apiserver-etcd-client": "/CN=kube-apiserver-etcd-client",
};
/** The real node's client certificates: the kubelet's own, and the API server's to the kubelet. */
const nodeClients = {
  kubelet: `/O=system:nodes/CN=system:node:${realNodeName}`,
  "apiserver-kubelet-client": "/O=system:masters/CN=kube-apiserver-kubelet-client",
  // The built-in role system:node-proxier is bound to this user.
  "kube-proxy": "/CN=system:kube-proxy",
};

/** Makes the CA and every certificate once; later runs reuse them (and so do saved kubeconfigs). */
export function ensurePki() {
  if (existsSync(join(pkiDir, "complete"))) return;
  rmSync(pkiDir, { recursive: true, force: true });
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(pkiDir, "ca.key")]);
  openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    join(pkiDir, "ca.key"),
    "-subj",
    "/CN=shipgate-local-cluster-ca",
    "-days",
    "365",
    "-sha256",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    "-out",
    join(pkiDir, "ca.crt"),
  ]);
  const apiserverSans = [
    loopbackSans,
    "IP:10.96.0.1",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
  ].join(",");
  issue("apiserver", "/CN=kube-apiserver", { sans: apiserverSans, usage: "serverAuth" });
  issue("etcd", "/CN=etcd", { sans: loopbackSans, usage: "serverAuth" });
  for (const name of ["controller-manager-serving", "scheduler-serving"]) {
    issue(name, `/CN=${name}`, { sans: loopbackSans, usage: "serverAuth" });
  }
  for (const [name, subject] of Object.entries(clients)) {
    issue(name, subject, { usage: "clientAuth" });
  }
  // The key that signs service account tokens.
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(pkiDir, "sa.key")]);
  openssl(["ec", "-in", join(pkiDir, "sa.key"), "-pubout", "-out", join(pkiDir, "sa.pub")]);
  writeFileSync(join(pkiDir, "complete"), "");
}

/** The real node's certificates, added to a CA made before the node existed. */
export function ensureNodePki() {
  for (const [name, subject] of Object.entries(nodeClients)) {
    if (!existsSync(join(pkiDir, `${name}.crt`))) issue(name, subject, { usage: "clientAuth" });
  }
}

export function kubeconfig(client, port, { server = `https://127.0.0.1:${port}`, serverName } = {}) {
  const b64 = (file) => readFileSync(join(pkiDir, file)).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${contextName}`,
    "  cluster:",
    `    server: ${server}`,
    ...(serverName ? [`    tls-server-name: ${serverName}`] : []),
    `    certificate-authority-data: ${b64("ca.crt")}`,
    "users:",
    `- name: ${client}`,
    "  user:",
    `    client-certificate-data: ${b64(`${client}.crt`)}`,
    `    client-key-data: ${b64(`${client}.key`)}`,
    "contexts:",
    `- name: ${contextName}`,
    "  context:",
    `    cluster: ${contextName}`,
    `    user: ${client}`,
    `current-context: ${contextName}`,
    "",
  ].join("\n");
}

export function writeKubeconfigs(ports) {
  for (const client of ["controller-manager", "scheduler", "kwok"]) {
    writeFileSync(join(clusterDir, `${client}.kubeconfig`), kubeconfig(client, ports.apiserver), {
      mode: 0o600,
    });
  }
  writeFileSync(kubeconfigPath, kubeconfig("admin", ports.apiserver), { mode: 0o600 });
}
