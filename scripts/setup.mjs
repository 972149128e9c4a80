#!/usr/bin/env node
// Set-up, idempotent and cached: installs the Node.js packages when package-lock.json changed, then
// makes the Pulumi engine available in .tools/:
//   1. a `pulumi` on PATH whose version fits @pulumi/pulumi (same major, not older), or else
//   2. the CLI and shipgate's Node.js language host built from the Go module proxy at exactly the
//      SDK's version (tools/engine/go.mod), reused from a machine-wide cache when already built.
// Plain Node.js with no dependencies, so that it runs on a fresh clone.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
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

const engineFiles = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"];
const started = Date.now();

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function fail(message) {
  process.stderr.write(`\nsetup failed: ${message}\n`);
  process.exit(1);
}

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
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

function goVersion() {
  try {
    return execFileSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

function machineCacheDir() {
  const configured = process.env.SHIPGATE_ENGINE_CACHE;
  if (configured === "off") return undefined;
  if (configured) return configured;
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(base, "shipgate", "engine");
}

function complete(dir) {
  return engineFiles.every((file) => existsSync(join(dir, file)));
}

/** Hard-links (or copies, across file systems) the engine's files from one folder to another. */
function installFiles(fromDir, toDir) {
  const staging = `${toDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const file of engineFiles) {
    try {
      linkSync(join(fromDir, file), join(staging, file));
    } catch {
      copyFileSync(join(fromDir, file), join(staging, file));
    }
    chmodSync(join(staging, file), 0o755);
  }
  rmSync(toDir, { recursive: true, force: true });
  mkdirSync(dirname(toDir), { recursive: true });
  renameSync(staging, toDir);
}

function goBuild(label, args, env) {
  return new Promise((resolvePromise, reject) => {
    const t = Date.now();
    let compiled = 0;
    let last = "";
    let errors = "";
    const child = spawn("go", ["build", "-v", ...args], { cwd: engineSourceDir, env });
    const tty = process.stderr.isTTY;
    const report = () => {
      const line = `  ${label}: ${compiled} packages compiled, ${seconds(t)}${last ? ` (${last})` : ""}`;
      if (tty)
        process.stderr.write(
          `\r${line.slice(0, process.stderr.columns - 1).padEnd(process.stderr.columns - 1)}`,
        );
      else process.stderr.write(`${line}\n`);
    };
    const timer = setInterval(report, tty ? 1000 : 20_000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      for (const line of chunk.split("\n")) {
        if (!line) continue;
        if (/^[\w.-]+(\/[\w.~-]+)+$/.test(line) || /^[\w-]+$/.test(line)) {
          compiled += 1;
          last = line;
        } else {
          errors += `${line}\n`;
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      if (tty) process.stderr.write("\n");
      if (code === 0) {
        log(`${label}: built in ${seconds(t)}`);
        resolvePromise();
      } else {
        reject(new Error(`go build of ${label} failed (exit ${code}):\n${errors}`));
      }
    });
  });
}

async function buildEngine(version, key, intoDir) {
  const staging = `${intoDir}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const env = {
    ...process.env,
    // go.sum in tools/engine pins every module; it is the trust anchor, so no checksum database is
    // needed (none is reachable from every machine this runs on).
    GOSUMDB: "off",
    GOFLAGS: "-mod=readonly -buildvcs=false",
  };
  log(`building the Pulumi engine v${version} from Go modules (${key}); the first build takes a few minutes`);
  await goBuild(
    `pulumi CLI v${version}`,
    [
      "-trimpath",
      "-ldflags",
      `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`,
      "-o",
      join(staging, "pulumi"),
      "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    ],
    env,
  );
  await goBuild(
    "Node.js language host",
    [
      "-trimpath",
      "-ldflags",
      `-s -w -X main.version=${version}`,
      "-o",
      join(staging, "pulumi-language-nodejs"),
      "./langhost",
    ],
    env,
  );
  copyFileSync(
    join(engineSourceDir, "pulumi-resource-pulumi-nodejs"),
    join(staging, "pulumi-resource-pulumi-nodejs"),
  );
  installFiles(staging, intoDir);
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
  const cacheRoot = machineCacheDir();
  const cached = cacheRoot ? join(cacheRoot, key) : undefined;
  if (cached && complete(cached)) {
    installFiles(cached, binDir);
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
        installFiles(binDir, cached);
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
log(`ready in ${seconds(started)}`);
