#!/usr/bin/env node
// Set-up, idempotent and cached: installs the Node.js packages when package-lock.json changed, then
// makes the Pulumi engine available in .tools/:
//   1. a `pulumi` on PATH whose version fits @pulumi/pulumi (same major, not older), or else
//   2. the CLI and shipgate's Node.js language host built from the Go module proxy at exactly the
//      SDK's version (tools/engine/go.mod), reused from a machine-wide cache when already built.
// Plain Node.js with no dependencies, so that it runs on a fresh clone.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { delimiter, dirname, join } from "node:path";
import {
  chosenEngine,
  engineBuildKey,
  engineChoiceFile,
  engineSourceDir,
  goModuleVersion,
  root,
  sdkVersion,
  toolsDir,
  versionFits,
  versionParts,
} from "./lib/engine.mjs";
import {
  buildStaging,
  complete,
  goBuild,
  goVersion,
  installFiles,
  machineCacheDir,
  pinnedGoEnv,
  seconds,
} from "./lib/gobuild.mjs";

const engineFiles = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"];
const started = Date.now();

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function fail(message) {
  process.stderr.write(`\nsetup failed: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- Node.js packages

function ensureNodeModules() {
  const lockPath = join(root, "package-lock.json");
  const stampPath = join(root, "node_modules", ".shipgate-lock.sha256");
  const lockHash = existsSync(lockPath)
    ? createHash("sha256").update(readFileSync(lockPath)).digest("hex")
    : "no-lock";
  if (existsSync(stampPath) && readFileSync(stampPath, "utf8") === lockHash) return;

  const t = Date.now();
  const args = existsSync(lockPath) ? ["ci"] : ["install"];
  log(`installing Node.js packages (npm ${args[0]}) ...`);
  const result = spawnSync("npm", [...args, "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    fail(
      `npm ${args[0]} failed (exit ${result.status}). Check the npm registry is reachable and run it again.`,
    );
  }
  writeFileSync(stampPath, lockHash);
  log(`Node.js packages installed in ${seconds(t)}`);
}

// ---------------------------------------------------------------- the engine

function findOnPath(command) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir || dir.startsWith(toolsDir)) continue;
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function engineOnPath(required) {
  const pulumi = findOnPath("pulumi");
  if (!pulumi) return undefined;
  let found;
  try {
    found = execFileSync(pulumi, ["version"], { encoding: "utf8", timeout: 30_000 }).trim();
  } catch {
    log(`ignoring ${pulumi}: \`pulumi version\` failed`);
    return undefined;
  }
  const binDir = dirname(realpathSync(pulumi));
  if (!versionFits(found, required)) {
    log(`ignoring ${pulumi} ${found}: the SDK needs v${required} or a newer v${versionParts(required)[0]}.x`);
    return undefined;
  }
  if (!existsSync(join(binDir, "pulumi-language-nodejs"))) {
    log(`ignoring ${pulumi} ${found}: no pulumi-language-nodejs beside it`);
    return undefined;
  }
  return { source: "path", version: found.replace(/^v/, ""), binDir };
}

function engineCacheDir() {
  return machineCacheDir("engine", "SHIPGATE_ENGINE_CACHE");
}

async function buildEngine(version, key, intoDir) {
  const staging = buildStaging(intoDir);
  const env = pinnedGoEnv();
  log(`building the Pulumi engine v${version} from Go modules (${key}); the first build takes a few minutes`);
  await goBuild({
    label: `pulumi CLI v${version}`,
    args: [
      "-trimpath",
      "-ldflags",
      `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`,
      "-o",
      join(staging, "pulumi"),
      "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    ],
    cwd: engineSourceDir,
    env,
    log,
  });
  await goBuild({
    label: "Node.js language host",
    args: [
      "-trimpath",
      "-ldflags",
      `-s -w -X main.version=${version}`,
      "-o",
      join(staging, "pulumi-language-nodejs"),
      "./langhost",
    ],
    cwd: engineSourceDir,
    env,
    log,
  });
  copyFileSync(
    join(engineSourceDir, "pulumi-resource-pulumi-nodejs"),
    join(staging, "pulumi-resource-pulumi-nodejs"),
  );
  installFiles(engineFiles, staging, intoDir);
  rmSync(staging, { recursive: true, force: true });
}

async function ensureEngine() {
  const required = sdkVersion();
  const goModVersion = goModuleVersion();
  if (goModVersion !== required) {
    fail(
      `tools/engine/go.mod builds Pulumi v${goModVersion} but package.json pins @pulumi/pulumi ${required}. ` +
        `Bump both together (see docs/engine.md).`,
    );
  }

  const key = engineBuildKey();
  const current = chosenEngine();
  if (
    current &&
    ((current.source === "built" && current.key === key) ||
      (current.source === "path" && versionFits(current.version, required)))
  ) {
    log(
      `engine: ${current.source === "built" ? "cached build" : "pulumi on PATH"} v${current.version} (${current.binDir})`,
    );
    return current;
  }

  const fromPath = engineOnPath(required);
  if (fromPath) {
    writeChoice(fromPath);
    log(`engine: using pulumi v${fromPath.version} on PATH (${fromPath.binDir})`);
    return fromPath;
  }

  const go = goVersion();
  if (!go) {
    fail(
      `no Pulumi CLI v${required} (or newer v3) on PATH, and no Go toolchain to build one.\n` +
        `Install the CLI the usual way and run this again:\n` +
        `    curl -fsSL https://get.pulumi.com | sh -s -- --version ${required}\n` +
        `    export PATH="$HOME/.pulumi/bin:$PATH"\n` +
        `(or see https://www.pulumi.com/docs/iac/download-install/), or install Go 1.26 or newer so the set-up can build it.`,
    );
  }

  const binDir = join(toolsDir, "engine", key, "bin");
  const cacheRoot = engineCacheDir();
  const cached = cacheRoot ? join(cacheRoot, key) : undefined;
  if (cached && complete(cached, engineFiles)) {
    installFiles(engineFiles, cached, binDir);
    log(`engine: v${required} from the machine cache (${cached})`);
  } else {
    try {
      await buildEngine(required, key, binDir);
    } catch (error) {
      fail(
        `${error.message}\nThe engine is built from the Go module proxy: check that it is reachable ` +
          `(go env GOPROXY), or install the Pulumi CLI v${required} the usual way ` +
          `(curl -fsSL https://get.pulumi.com | sh) and run this again.`,
      );
    }
    if (cached) {
      try {
        installFiles(engineFiles, binDir, cached);
      } catch (error) {
        log(`could not fill the machine cache ${cached}: ${error.message} (the build is still used)`);
      }
    }
  }

  const reported = execFileSync(join(binDir, "pulumi"), ["version"], { encoding: "utf8" }).trim();
  if (reported !== `v${required}`) fail(`the built engine reports ${reported}, expected v${required}`);
  const choice = { source: "built", version: required, binDir, key, go };
  writeChoice(choice);
  return choice;
}

function writeChoice(choice) {
  mkdirSync(toolsDir, { recursive: true });
  writeFileSync(engineChoiceFile, `${JSON.stringify(choice, null, 2)}\n`);
}

ensureNodeModules();
await ensureEngine();
const { buildIfStale } = await import("./lib/build.mjs");
buildIfStale((message) => log(message));
// The sample app's builds, which the local stack's release manifests pin by digest.
const sampleApp = spawnSync(process.execPath, [join(root, "scripts", "build-sample-app.mjs")], {
  cwd: root,
  encoding: "utf8",
});
if (sampleApp.status !== 0) fail(`building the sample app failed:\n${sampleApp.stderr}`);
log("sample app builds: .shipgate/artifacts/sample-app/");
const { ensureNginx } = await import("./lib/nginx.mjs");
log(ensureNginx((message) => log(message)));
// `--kubernetes`: also the programs of the local Kubernetes cluster and the Pulumi Kubernetes
// provider, which only the kubernetes end-to-end tests need (a first build takes long).
if (process.argv.includes("--kubernetes")) await ensureKubernetes();
log(`ready in ${seconds(started)}`);

async function ensureKubernetes() {
  const { ensureKubernetesTools, providerVersion } = await import("./lib/kubernetes-tools.mjs");
  const sdkPath = join(root, "node_modules", "@pulumi", "kubernetes", "package.json");
  const sdk = JSON.parse(readFileSync(sdkPath, "utf8")).version;
  if (sdk !== providerVersion) {
    fail(
      `@pulumi/kubernetes is ${sdk} but the provider built from tools/cluster/provider is ${providerVersion}: ` +
        `the SDK and the plugin must agree. Pin it with \`npm install --save-exact @pulumi/kubernetes@${providerVersion}\`.`,
    );
  }
  await ensureNodePackages();
  try {
    await ensureKubernetesTools(log);
  } catch (error) {
    fail(
      `${error.message}\nThe kubernetes tools are built from the Go module proxy: check that it is reachable ` +
        `(go env GOPROXY) and run \`node scripts/setup.mjs --kubernetes\` again.`,
    );
  }
}

/**
 * The real node's system programs (containerd, runc, the CNI plugins, iptables) from Debian's
 * packages, installed when missing. apt-get only installs them: no containerd service is started
 * here (the cluster runs its own containerd with its own socket and folders).
 */
async function ensureNodePackages() {
  const { missingNodePackages } = await import("./lib/cluster-node.mjs");
  const missing = missingNodePackages();
  if (missing.length === 0) {
    log("kubernetes node: containerd, runc, CNI plugins and iptables in place");
    return;
  }
  const aptGet = ["/usr/bin/apt-get"].find((path) => existsSync(path));
  if (!aptGet || process.getuid?.() !== 0) {
    fail(
      `the local cluster's node needs the Debian packages ${missing.join(", ")}: install them ` +
        `(apt-get install ${missing.join(" ")}) as root, or run this set-up as root on Debian or Ubuntu.`,
    );
  }
  const t = Date.now();
  log(`kubernetes node: installing ${missing.join(", ")} (apt-get) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync(aptGet, ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env });
  let result = install();
  if (result.status !== 0) {
    // A fresh machine may not have the package lists yet.
    spawnSync(aptGet, ["update"], { stdio: "inherit", env });
    result = install();
  }
  if (result.status !== 0) {
    fail(`apt-get install ${missing.join(" ")} failed (exit ${result.status}); see its output above.`);
  }
  log(`kubernetes node: packages installed in ${seconds(t)}`);
}
