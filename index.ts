// The shipgate program: one release of the stack's release manifest, on the stack's platform.
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { Release } from "./components/release";
import type { Platform, PlatformAdapter, PlatformSettingsSchemas } from "./components/platform";
import { loadStackConfig } from "./config";
import { kubernetesAdapter } from "./platforms/kubernetes";
import { localAdapter } from "./platforms/local";
import { awsAdapter } from "./platforms/aws";
import { describeIssue, loadManifestFile } from "./release";

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

function loadManifest(path: string) {
  const check = loadManifestFile(join(projectDir, path));
  if (!check.ok) {
    throw new Error(
      `The release manifest ${path} (shipgate:manifest) is not valid:\n` +
        check.issues.map((issue) => `  - ${describeIssue(issue)}`).join("\n") +
        `\nFix it, check it with \`npx shipgate validate ${path}\`, and run the release again.`,
    );
  }
  return check;
}

const target = platformFor();
let release: Release | undefined;
if (config.manifest) {
  const { manifest, digest } = loadManifest(config.manifest);
  release = new Release("release", {
    platform: target,
    manifest,
    digest,
    manifestPath: config.manifest,
    stack,
    services: config.services,
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
