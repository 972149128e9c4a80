// The shipgate program: one release of the stack's release manifest, on the stack's platform.
import * as pulumi from "@pulumi/pulumi";
import { Release, desiredBuild } from "./components/release";
import type { Platform, PlatformAdapter, PlatformSettingsSchemas } from "./components/platform";
import { loadStackConfig, releaseIntent } from "./config";
import { kubernetesAdapter } from "./platforms/kubernetes";
import { localAdapter } from "./platforms/local";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import {
  type Manifest,
  approvalPolicyFromPackConfig,
  checkStackApprovals,
  describeIssue,
  isDevelopmentStack,
  readManifestInProject,
} from "./release";
import { awsAdapter } from "./platforms/aws";

const projectDir = process.cwd();
const stack = pulumi.getStack();

/** The platforms this program can release to; each brings its settings schema and its constructor. */
const adapters: readonly PlatformAdapter[] = [localAdapter, kubernetesAdapter, awsAdapter];

const config = loadStackConfig(
  Object.fromEntries(
    adapters.flatMap((adapter) => (adapter.settingsSchema ? [[adapter.name, adapter.settingsSchema]] : [])),
  ) as PlatformSettingsSchemas,
);

function platformFor(): Platform {
  const adapter = adapters.find((candidate) => candidate.name === config.platform);
  if (!adapter) {
    throw new Error(
      `shipgate:platform: "${config.platform}" has no platform adapter in this version of shipgate; ` +
        `expected one of ${adapters.map((a) => `"${a.name}"`).join(", ")}. ` +
        `Set it with \`npm run pulumi -- config set shipgate:platform local --stack ${stack}\`.`,
    );
  }
  return adapter.create({
    projectDir,
    stack,
    workDir: config.workDir,
    services: config.services,
    settings: config.platformSettings,
    ...(config.notifications.webhookUrl ? { webhookUrl: config.notifications.webhookUrl } : {}),
  });
}

// Refuses a stack that names no manifest unless it asks, with shipgate:retire, to take its services down.
const intent = releaseIntent(config, stack);

function loadManifest(path: string) {
  const read = readManifestInProject(projectDir, path);
  if (!read.ok) {
    throw new Error(
      `The release manifest ${path} (shipgate:manifest) ${read.problem}.\n` +
        `Set shipgate:manifest to a manifest file inside the project: ` +
        `\`npm run pulumi -- config set shipgate:manifest releases/<service>/<version>.yaml --stack ${stack}\`.`,
    );
  }
  const { check } = read;
  if (!check.ok) {
    throw new Error(
      `The release manifest ${path} (shipgate:manifest) is not valid:\n` +
        check.issues.map((issue) => `  - ${describeIssue(issue)}`).join("\n") +
        `\nFix it, check it with \`npx shipgate validate ${path}\`, and run the release again.`,
    );
  }
  return check;
}

/**
 * On a stack that is not a development stack, the program itself refuses a release whose approvals do
 * not verify against the trusted keys of the stack's policy config: the same judgement the policy
 * pack runs, so an `up` without `--policy-pack` cannot release an unapproved manifest.
 */
function requireApprovals(manifest: Manifest, manifestPath: string): void {
  if (isDevelopmentStack(stack)) return;
  const policyPath = config.policyConfig ?? `policies/config/${stack}.json`;
  const where = isAbsolute(policyPath) ? policyPath : join(projectDir, policyPath);
  const fix =
    `Stack "${stack}" is not a development stack, so the program verifies a release's approvals against the ` +
    `trusted keys in the stack's policy config (${policyPath}, set by shipgate:policyConfig)`;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(where, "utf8"));
  } catch (error) {
    throw new Error(
      `${fix}, and it cannot be read: ${error instanceof Error ? error.message : String(error)}.\n` +
        `Create it (docs/security.md says who owns it) or point shipgate:policyConfig at it.`,
    );
  }
  const policy = approvalPolicyFromPackConfig(data);
  if (!policy.ok) {
    throw new Error(
      `${fix}, and it is not valid:\n${policy.issues.map((i) => `  - ${describeIssue(i)}`).join("\n")}`,
    );
  }
  const { problems, judgement } = checkStackApprovals(manifest, policy.value);
  if (problems.length > 0) {
    throw new Error(
      `Release ${manifest.changeId}@${manifest.version} (${manifestPath}) is not approved for stack "${stack}", ` +
        `so shipgate refuses to release it:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        `Approvers sign digest ${judgement.verification.digest} with \`npx shipgate approve\`; check the result with ` +
        `\`npx shipgate verify ${manifestPath} --policy-config ${policyPath}\`.`,
    );
  }
}

// Everything is checked before the platform is built or any resource is declared.
const loaded = intent.kind === "release" ? loadManifest(intent.manifest) : undefined;
if (loaded && intent.kind === "release") requireApprovals(loaded.manifest, intent.manifest);

const target = platformFor();
// The builds too: a build edited, swapped or holding a symlink after approval is refused here, before
// the backup, the notifications or any slot step, in preview as in up.
// And every stack secret the manifest names (secretEnvValues throws naming the config change).
for (const component of loaded?.manifest.components ?? []) {
  const settings = config.services[component.name];
  const build = settings ? desiredBuild(component, settings, { stack, values: config.secrets }) : undefined;
  if (settings && build && target.checkBuild) target.checkBuild(component.name, build);
}

// A release that was switched back stays switched back: the same release (key and manifest digest)
// is not promoted again unless shipgate:retry names the record of that switch back.
if (loaded && target.lastRecordOf) {
  const key = `${loaded.manifest.changeId}@${loaded.manifest.version}`;
  const last = target.lastRecordOf({ key, digest: loaded.digest });
  if (last && last.outcome === "rolled-back" && config.retry !== last.id) {
    throw new Error(
      `Release ${key} was switched back at ${last.date} (record ${last.id}, outcome ${last.outcome}), so shipgate ` +
        `does not promote the same manifest again. Fix the build and release a changed manifest, or, to try ` +
        `this one again on purpose: \`npm run pulumi -- config set shipgate:retry ${last.id} --stack ${stack}\`.`,
    );
  }
}

let release: Release | undefined;
if (loaded && intent.kind === "release") {
  const { manifest, digest } = loaded;
  release = new Release("release", {
    platform: target,
    manifest,
    digest,
    manifestPath: intent.manifest,
    stack,
    services: config.services,
    secrets: config.secrets,
    ...(config.restoreBackup ? { restoreBackup: config.restoreBackup } : {}),
  });
}

// The platform's working folder, where it keeps data, backups and records (local only). It waits
// for the release anchor, so an unapproved release changes nothing at all.
const workspace = target.workspace?.({ dependsOn: release ? [release.anchor] : [] });

const first = release ? Object.entries(release.services)[0] : undefined;

export const platform = config.platform;
export const workDirPath = workspace?.path;
/** Where users are served. */
export const url = first?.[1].url;
/** The colour users are sent to. */
export const activeColor = first?.[1].activeColor;
/** The version users get. */
export const liveVersion = first?.[1].activeColor.apply((color) =>
  color === first[1].plan.candidate
    ? first[1].version
    : (first[1].plan.keep[color as "blue" | "green"]?.version ?? null),
);
/** Every service of the release. */
export const services = release
  ? Object.fromEntries(
      Object.entries(release.services).map(([name, s]) => [name, { url: s.url, activeColor: s.activeColor }]),
    )
  : {};
/** The deployment record (Markdown). */
export const deploymentRecord = release?.recordLocation;
