// The programs the kubernetes end-to-end tests need, built from the Go module proxy the way the
// engine is (tools/cluster/<module>/go.mod pins each at one version, go.sum pins every module):
//   - etcd, the control plane's store;
//   - kube-apiserver, kube-controller-manager, kube-scheduler and kubectl, one Kubernetes version;
//   - kwok, which plays the kubelet of simulated nodes (no container runs);
//   - kubelet and kube-proxy, the real node (tools/cluster/node: the same Kubernetes, with the
//     extra modules the node's packages need pinned too);
//   - oci, which writes container images reproducibly, and pause, the pod sandbox's program
//     (tools/cluster/images, our own source);
//   - pulumi-resource-kubernetes, the Pulumi Kubernetes provider at the version of @pulumi/kubernetes.
// Each is kept in a machine-wide cache keyed by its version and the files that build it, so a second
// clone on the same machine takes them in a second. The first build takes long (see firstBuildNote).
//
// Plain Node.js with no dependencies, so that it runs on a fresh clone.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pulumiHome, root, toolsDir } from "./engine.mjs";
import {
  buildStaging,
  complete,
  goBuild,
  goVersion,
  installFiles,
  machineCacheDir,
  pinnedGoEnv,
  seconds,
} from "./gobuild.mjs";

export const clusterSourceDir = join(root, "tools", "cluster");
export const kubernetesToolsDir = join(toolsDir, "kubernetes");
const installedFile = join(kubernetesToolsDir, "installed.json");

/** The provider's module path; the proxy serves it only at a pseudo-version (see providerVersion). */
const providerModule = "github.com/pulumi/pulumi-kubernetes/provider/v4";

/**
 * The release of the provider that tools/cluster/provider/go.mod's pseudo-version is: the proxy
 * serves the provider module only as the commit tagged v4.25.0, so the release number is written here
 * and checked against @pulumi/kubernetes, which must be the same release.
 */
export const providerVersion = "4.25.0";
const providerPseudoVersion = "v4.0.0-20260115033456-f47bc2d6f199";

/** Measured on a 2-core machine shared with other builds; printed before a first build starts. */
export const firstBuildNote =
  "the first build on a machine compiles about 4,200 Go packages, about 2,100 CPU-seconds and up to " +
  "4.6 GB of memory (the provider is half of it): about 20 minutes on 2 idle cores, over an hour on " +
  "busy ones (it runs under nice); later runs take it from the machine cache in seconds";

function requiredVersion(moduleDir, modulePath) {
  const goMod = readFileSync(join(clusterSourceDir, moduleDir, "go.mod"), "utf8");
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod);
  if (!match) throw new Error(`tools/cluster/${moduleDir}/go.mod does not require ${modulePath}`);
  return match[1];
}

function kubernetesVersionFlags(version) {
  const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version);
  // The version the binaries report (kubectl version, /version): the provider and kwok read it.
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
    .flatMap((pkg) => [
      `-X ${pkg}.gitVersion=${version}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
    ])
    .join(" ");
}

/** What each tool is: its module folder, version, and the binaries built from it. */
export function toolSpecs() {
  const etcd = requiredVersion("etcd", "go.etcd.io/etcd/server/v3");
  const kwok = requiredVersion("kwok", "sigs.k8s.io/kwok");
  const kubernetes = requiredVersion("kubernetes", "k8s.io/kubernetes");
  const provider = requiredVersion("provider", providerModule);
  if (provider !== providerPseudoVersion) {
    throw new Error(
      `tools/cluster/provider/go.mod requires ${providerModule} ${provider}, but ` +
        `scripts/lib/kubernetes-tools.mjs knows ${providerPseudoVersion} as v${providerVersion}: ` +
        `update providerVersion and providerPseudoVersion together.`,
    );
  }
  const kubeFlags = kubernetesVersionFlags(kubernetes);
  return [
    {
      name: "etcd",
      version: etcd,
      module: "etcd",
      binaries: [{ file: "etcd", pkg: "go.etcd.io/etcd/server/v3", ldflags: "" }],
    },
    {
      name: "kubernetes",
      version: kubernetes,
      module: "kubernetes",
      binaries: ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"].map((file) => ({
        file,
        pkg: `k8s.io/kubernetes/cmd/${file}`,
        ldflags: kubeFlags,
      })),
    },
    {
      name: "node",
      version: requiredVersion("node", "k8s.io/kubernetes"),
      module: "node",
      binaries: ["kubelet", "kube-proxy"].map((file) => ({
        file,
        pkg: `k8s.io/kubernetes/cmd/${file}`,
        ldflags: kubeFlags,
      })),
    },
    {
      name: "images",
      version: "v1",
      module: "images",
      sources: ["oci/main.go", "pause/main.go"],
      binaries: [
        { file: "oci", pkg: "./oci", ldflags: "" },
        // Static, so that it runs in an image that holds nothing else.
        { file: "pause", pkg: "./pause", ldflags: "", env: { CGO_ENABLED: "0" } },
      ],
    },
    {
      name: "kwok",
      version: kwok,
      module: "kwok",
      binaries: [{ file: "kwok", pkg: "sigs.k8s.io/kwok/cmd/kwok", ldflags: "" }],
    },
    {
      name: "provider",
      version: `v${providerVersion}`,
      module: "provider",
      binaries: [
        {
          file: "pulumi-resource-kubernetes",
          pkg: `${providerModule}/cmd/pulumi-resource-kubernetes`,
          ldflags: `-X ${providerModule}/pkg/version.Version=${providerVersion}`,
        },
      ],
    },
  ];
}

/** The tool's cache key: its version and everything of ours that goes into its build. */
export function toolKey(spec) {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum", ...(spec.sources ?? [])]) {
    hash.update(file);
    hash.update(readFileSync(join(clusterSourceDir, spec.module, file)));
  }
  hash.update(JSON.stringify(spec.binaries));
  return `${spec.name}-${spec.version}-${hash.digest("hex").slice(0, 12)}`;
}

/** Where the set-up installs a tool's binaries in the project. */
export function toolDir(name) {
  return join(kubernetesToolsDir, name);
}

/** The folder the engine loads the provider plugin from (it looks there before downloading). */
export const providerPluginDir = join(pulumiHome, "plugins", `resource-kubernetes-v${providerVersion}`);

/** The path of one installed binary, e.g. binary("kubernetes", "kube-apiserver"). */
export function binary(name, file) {
  return join(toolDir(name), file);
}

function readInstalled() {
  if (!existsSync(installedFile)) return {};
  try {
    return JSON.parse(readFileSync(installedFile, "utf8"));
  } catch {
    return {};
  }
}

/** The tools whose installed build is missing or stale, as specs; empty when all are in place. */
export function missingTools() {
  const installed = readInstalled();
  return toolSpecs().filter((spec) => {
    const files = spec.binaries.map((b) => b.file);
    return installed[spec.name] !== toolKey(spec) || !complete(toolDir(spec.name), files);
  });
}

/**
 * Copies the provider's module source out of the module cache and adds the two files its main
 * package embeds, which its own generate step makes and the module's zip does not carry: the
 * schema with the release's version in it, and the Terraform mapping, both as compact JSON.
 */
function prepareProviderSource(env, into) {
  const downloaded = goJson(["mod", "download", "-json", `${providerModule}@${providerPseudoVersion}`], env);
  rmSync(into, { recursive: true, force: true });
  cpSync(downloaded.Dir, into, { recursive: true });
  makeWritable(into); // the module cache's files are read-only, and so would the copy be
  const cmd = join(into, "cmd", "pulumi-resource-kubernetes");
  const schema = JSON.parse(readFileSync(join(cmd, "schema.json"), "utf8"));
  schema.version = providerVersion;
  writeFileSync(join(cmd, "schema-embed.json"), JSON.stringify(schema), { mode: 0o644 });
  const mapping = JSON.parse(readFileSync(join(cmd, "terraform-mapping.json"), "utf8"));
  writeFileSync(join(cmd, "terraform-mapping-embed.json"), JSON.stringify(mapping), { mode: 0o644 });
}

function makeWritable(path) {
  const info = statSync(path);
  chmodSync(path, info.mode | 0o200);
  if (info.isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/** A short `go` command in the provider's module, e.g. `go mod download -json` (checked against go.sum). */
function goJson(args, env) {
  const result = spawnSync("go", args, { cwd: join(clusterSourceDir, "provider"), env, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`go ${args.join(" ")} failed (exit ${result.status}):\n${result.stderr}`);
  }
  return JSON.parse(result.stdout);
}

async function buildTool(spec, intoDir, log) {
  const staging = buildStaging(intoDir);
  const env = pinnedGoEnv();
  const cwd = join(clusterSourceDir, spec.module);
  const extra = [];
  if (spec.name === "provider") {
    // The provider is built from a copy of its source with the embedded files added (a build may
    // not write into the module cache), through a go.mod that points the module at that copy.
    const work = join(kubernetesToolsDir, "provider-build");
    mkdirSync(work, { recursive: true });
    const source = join(work, "source");
    prepareProviderSource(env, source);
    const goMod = readFileSync(join(cwd, "go.mod"), "utf8");
    writeFileSync(join(work, "build.mod"), `${goMod}\nreplace ${providerModule} => ${source}\n`);
    writeFileSync(join(work, "build.sum"), readFileSync(join(cwd, "go.sum")));
    extra.push("-modfile", join(work, "build.mod"));
  }
  for (const b of spec.binaries) {
    await goBuild({
      label: `${b.file} ${spec.version}`,
      args: [
        ...extra,
        "-trimpath",
        "-ldflags",
        `-s -w ${b.ldflags}`.trim(),
        "-o",
        join(staging, b.file),
        b.pkg,
      ],
      cwd,
      env: { ...env, ...b.env },
      log,
      nice: true,
    });
  }
  installFiles(
    spec.binaries.map((b) => b.file),
    staging,
    intoDir,
  );
  rmSync(staging, { recursive: true, force: true });
}

/**
 * Makes every tool available in .tools/kubernetes/ (and the provider in the project's Pulumi home):
 * from the project when in place, else from the machine cache, else built and put in the cache.
 */
export async function ensureKubernetesTools(log) {
  const missing = missingTools();
  if (missing.length === 0) {
    log("kubernetes tools: in place (.tools/kubernetes)");
    installProvider();
    return;
  }
  if (!goVersion()) {
    throw new Error(
      "the kubernetes tests need etcd, Kubernetes, kwok and the Pulumi Kubernetes provider built from Go " +
        "modules, and there is no Go toolchain: install Go 1.26 or newer and run this again.",
    );
  }
  const cacheRoot = machineCacheDir("kubernetes", "SHIPGATE_KUBERNETES_CACHE");
  const installed = readInstalled();
  let announced = false;
  for (const spec of missing) {
    const key = toolKey(spec);
    const files = spec.binaries.map((b) => b.file);
    const cached = cacheRoot ? join(cacheRoot, key) : undefined;
    if (cached && complete(cached, files)) {
      installFiles(files, cached, toolDir(spec.name));
      log(`kubernetes tools: ${spec.name} ${spec.version} from the machine cache (${cached})`);
    } else {
      if (!announced) {
        log(`kubernetes tools: building ${missing.map((s) => s.name).join(", ")}; ${firstBuildNote}`);
        announced = true;
      }
      const t = Date.now();
      await buildTool(spec, toolDir(spec.name), log);
      log(`kubernetes tools: ${spec.name} ${spec.version} built in ${seconds(t)}`);
      if (cached) {
        try {
          installFiles(files, toolDir(spec.name), cached);
        } catch (error) {
          log(`could not fill the machine cache ${cached}: ${error.message} (the build is still used)`);
        }
      }
    }
    installed[spec.name] = key;
    mkdirSync(kubernetesToolsDir, { recursive: true });
    writeFileSync(installedFile, `${JSON.stringify(installed, null, 2)}\n`);
  }
  installProvider();
}

/** Links the built provider into the Pulumi home's plugin folder, where the engine looks first. */
function installProvider() {
  const file = "pulumi-resource-kubernetes";
  const target = join(providerPluginDir, file);
  const source = binary("provider", file);
  if (existsSync(target)) {
    const [a, b] = [statSync(target), statSync(source)];
    if (a.ino === b.ino || (a.size === b.size && a.mtimeMs === b.mtimeMs)) return;
  }
  installFiles([file], toolDir("provider"), providerPluginDir);
}
