// The project's one way to the Pulumi engine: where it lives, which one the set-up chose, and the
// environment every command runs it with (local file backend, no Pulumi Cloud, project-local home).
//
// Plain Node.js with no dependencies, so that it runs on a fresh clone before `npm ci`.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const toolsDir = join(root, ".tools");
export const engineSourceDir = join(root, "tools", "engine");
export const stateDir = join(root, ".pulumi-state");
export const pulumiHome = join(toolsDir, "pulumi-home");
/** Where the set-up records which engine it chose (a built one, or one found on PATH). */
export const engineChoiceFile = join(toolsDir, "engine.json");

/**
 * The passphrase of the `local` stack's secrets. It protects nothing: the local stack runs on a
 * developer's machine and holds no real secret. Other stacks must set PULUMI_CONFIG_PASSPHRASE (or
 * _FILE) themselves, or use a cloud secrets provider.
 */
export const developmentPassphrase = "shipgate-local-development";

/** The Pulumi version the project's SDK pins: the engine must match it. */
export function sdkVersion() {
  const pkgPath = join(root, "node_modules", "@pulumi", "pulumi", "package.json");
  if (!existsSync(pkgPath)) {
    throw new Error("@pulumi/pulumi is not installed: run `npm run setup` first");
  }
  return JSON.parse(readFileSync(pkgPath, "utf8")).version;
}

/** The Pulumi version that tools/engine/go.mod builds; it must equal the SDK's. */
export function goModuleVersion() {
  const goMod = readFileSync(join(engineSourceDir, "go.mod"), "utf8");
  const match = /github\.com\/pulumi\/pulumi\/pkg\/v3 v(\d+\.\d+\.\d+)/.exec(goMod);
  if (!match) throw new Error("tools/engine/go.mod does not require github.com/pulumi/pulumi/pkg/v3");
  return match[1];
}

/**
 * A key for the engine that tools/engine builds: the Pulumi version and every source file of ours
 * that goes into it (go.mod, go.sum, the language host). A change to any of them builds anew.
 */
export function engineBuildKey() {
  const hash = createHash("sha256");
  for (const file of engineSourceFiles()) {
    hash.update(file);
    hash.update(readFileSync(join(engineSourceDir, file)));
  }
  return `v${goModuleVersion()}-${hash.digest("hex").slice(0, 12)}`;
}

function engineSourceFiles(dir = engineSourceDir, prefix = "") {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...engineSourceFiles(join(dir, entry.name), rel));
    else files.push(rel);
  }
  return files;
}

export function versionParts(version) {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return match ? match.slice(1, 4).map(Number) : undefined;
}

/** A pulumi on PATH fits when it has the SDK's major version and is not older than the SDK. */
export function versionFits(found, required) {
  const f = versionParts(found);
  const r = versionParts(required);
  if (!f || !r || f[0] !== r[0]) return false;
  return f[1] > r[1] || (f[1] === r[1] && f[2] >= r[2]);
}

/** The engine the set-up chose, or undefined when the set-up has not run. */
export function chosenEngine() {
  if (!existsSync(engineChoiceFile)) return undefined;
  const choice = JSON.parse(readFileSync(engineChoiceFile, "utf8"));
  if (!existsSync(join(choice.binDir, "pulumi"))) return undefined;
  return choice;
}

/**
 * The environment the engine runs with: the chosen engine and the project's Node.js first on PATH,
 * the project's file backend, a project-local Pulumi home, and no update checks or Cloud calls.
 * Values already in `base` for the backend and passphrase win, so pipelines can point elsewhere.
 */
export function engineEnv(engine, base = process.env) {
  const env = { ...base };
  const pathEntries = [engine.binDir, join(root, "node_modules", ".bin")];
  // kubectl of the Kubernetes version the local cluster runs, when the set-up built it (--kubernetes):
  // the kubernetes platform reads the live colour with kubectl.
  const kubectlDir = join(toolsDir, "kubernetes", "kubernetes");
  if (existsSync(join(kubectlDir, "kubectl"))) pathEntries.push(kubectlDir);
  env.PATH = [...pathEntries, base.PATH ?? ""].join(delimiter);
  env.PULUMI_HOME = base.PULUMI_HOME ?? pulumiHome;
  env.PULUMI_BACKEND_URL = base.PULUMI_BACKEND_URL ?? `file://${stateDir}`;
  if (!base.PULUMI_CONFIG_PASSPHRASE && !base.PULUMI_CONFIG_PASSPHRASE_FILE) {
    env.PULUMI_CONFIG_PASSPHRASE = developmentPassphrase;
  }
  env.PULUMI_SKIP_UPDATE_CHECK = "true";
  env.PULUMI_DIY_BACKEND_NO_LEGACY_WARNING = "true";
  env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK = base.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK ?? "false";
  return env;
}

/** The chosen engine, or an error telling the user to run the set-up. */
export function requireEngine() {
  const engine = chosenEngine();
  if (!engine) {
    throw new Error("The Pulumi engine is not set up yet: run `npm run setup` (it installs or builds it).");
  }
  return engine;
}
